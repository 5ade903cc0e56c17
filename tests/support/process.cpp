#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace edgeshake::testing {

TempDir::TempDir(const std::string& prefix) {
  fs::path base = fs::temp_directory_path();
  std::string templ = (base / (prefix + "-XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  m_path = buf.data();
}

TempDir::~TempDir() {
  if (std::getenv("EDGESHAKE_KEEP_TMP"))
    return;
  std::error_code ec;
  fs::remove_all(m_path, ec);
}

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    throw std::runtime_error("cannot write " + path.string());
  out << content;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd,
            int out_fd = -1) {
  if (argv.empty())
    throw std::runtime_error("spawn: empty argv");
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fd = out_fd;
  if (fd < 0) {
    fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::runtime_error("cannot open log " + log.string());
  }
  pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Own process group, so stop() also reaches helpers the server forks.
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0)
      _exit(126);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  if (out_fd < 0)
    ::close(fd);
  return pid;
}

} // namespace

Process::Process(std::vector<std::string> argv, fs::path log_file, fs::path cwd)
    : m_log(std::move(log_file)) {
  m_pid = spawn(argv, m_log, cwd);
}

Process::~Process() {
  stop();
}

Process::Process(Process&& other) noexcept : m_pid(other.m_pid), m_log(std::move(other.m_log)) {
  other.m_pid = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    stop();
    m_pid = other.m_pid;
    m_log = std::move(other.m_log);
    other.m_pid = -1;
  }
  return *this;
}

bool Process::running() {
  if (m_pid <= 0)
    return false;
  int status = 0;
  pid_t r = ::waitpid(m_pid, &status, WNOHANG);
  if (r == m_pid) {
    m_pid = -1;
    return false;
  }
  return r == 0;
}

void Process::stop() {
  if (m_pid <= 0)
    return;
  ::kill(-m_pid, SIGTERM);
  ::kill(m_pid, SIGTERM);
  for (int i = 0; i < 100; ++i) { // up to 2 s
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      ::kill(-m_pid, SIGKILL); // stragglers in the group
      m_pid = -1;
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(-m_pid, SIGKILL);
  ::kill(m_pid, SIGKILL);
  int status = 0;
  ::waitpid(m_pid, &status, 0);
  m_pid = -1;
}

std::string Process::log() const {
  return read_file(m_log);
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  pid_t pid = spawn(argv, {}, {}, fds[1]);
  ::close(fds[1]);
  CommandResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      result.output += "\n[run_command: timed out]";
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0)
      continue;
    ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got <= 0)
      break;
    result.output.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

namespace {

std::uint16_t free_port(const std::string& address, int type) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw std::runtime_error("socket failed");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed on " + address);
  }
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

} // namespace

std::uint16_t free_tcp_port(const std::string& address) {
  return free_port(address, SOCK_STREAM);
}
std::uint16_t free_udp_port(const std::string& address) {
  return free_port(address, SOCK_DGRAM);
}

bool wait_for_tcp(const std::string& address, std::uint16_t port,
                  std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool v6 = address.find(':') != std::string::npos;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = -1;
    if (v6) {
      sockaddr_in6 sa{};
      sa.sin6_family = AF_INET6;
      sa.sin6_port = htons(port);
      ::inet_pton(AF_INET6, address.c_str(), &sa.sin6_addr);
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    } else {
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_port = htons(port);
      ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    }
    ::close(fd);
    if (rc == 0)
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::optional<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? std::optional<std::string>(name) : std::nullopt;
  }
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty())
      continue;
    fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0)
      return p.string();
  }
  return std::nullopt;
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::uint16_t common_port(const std::vector<std::string>& addresses) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto p = free_tcp_port(addresses.front());
    bool ok = true;
    for (const auto& a : addresses)
      ok = ok && free_tcp_port(a) != 0 && !wait_for_tcp(a, p, std::chrono::milliseconds(0));
    if (ok)
      return p;
  }
  return free_tcp_port(addresses.front());
}

} // namespace edgeshake::testing
