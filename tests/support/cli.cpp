#include "tests/support/cli.hpp"

#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <thread>

namespace edgeshake::testing {

Child::Child(const std::vector<std::string>& argv, const std::filesystem::path& out,
             const std::filesystem::path& err, const std::filesystem::path& in) {
  std::vector<std::string> args = argv;
  m_pid = fork();
  if (m_pid == 0) {
    int i = open(in.c_str(), O_RDONLY);
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(i, 0);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> v;
    for (auto& a : args)
      v.push_back(a.data());
    v.push_back(nullptr);
    execv(v[0], v.data());
    _exit(127);
  }
}

Child::~Child() {
  if (m_pid > 0 && m_status < 0) {
    kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
  }
}

void Child::signal(int sig) {
  if (m_pid > 0)
    kill(m_pid, sig);
}

int Child::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    if (m_status < 0 && waitpid(m_pid, &st, WNOHANG) == m_pid)
      m_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (m_status >= 0 || std::chrono::steady_clock::now() >= deadline)
      return m_status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

CliRun run_cli(const std::vector<std::string>& argv, const std::filesystem::path& dir,
               const std::filesystem::path& in, std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  CliRun r;
  {
    Child c(argv, dir / ".stdout", dir / ".stderr", in);
    r.status = c.wait(timeout);
  }
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  r.out = read_file(dir / ".stdout");
  r.err = read_file(dir / ".stderr");
  return r;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty())
      out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

} // namespace edgeshake::testing
