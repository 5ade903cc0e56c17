#include "tests/cmd/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace edgeshake::testing {

namespace {

void place(int fd, const std::optional<std::string>& path, int flags) {
  if (!path) {
    ::close(fd);
    return;
  }
  const int f = ::open(path->c_str(), flags, 0644);
  if (f < 0)
    ::_exit(126);
  ::dup2(f, fd);
  if (f != fd)
    ::close(f);
}

} // namespace

int spawn_and_wait(const SpawnSpec& spec) {
  std::vector<char*> argv;
  for (const auto& a : spec.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0)
    return -2;
  if (pid == 0) {
    place(STDIN_FILENO, spec.stdin_, O_RDONLY);
    place(STDOUT_FILENO, spec.stdout_, O_WRONLY | O_CREAT | (spec.append ? O_APPEND : O_TRUNC));
    place(STDERR_FILENO, spec.stderr_, O_WRONLY | O_CREAT | O_TRUNC);
    if (spec.max_file_size) {
      ::signal(SIGXFSZ, SIG_IGN); // ignored dispositions survive exec
      rlimit r{*spec.max_file_size, *spec.max_file_size};
      ::setrlimit(RLIMIT_FSIZE, &r);
    }
    if (spec.max_files) {
      rlimit r{*spec.max_files, *spec.max_files};
      ::setrlimit(RLIMIT_NOFILE, &r);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto until = std::chrono::steady_clock::now() + spec.timeout;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      break;
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

} // namespace edgeshake::testing
