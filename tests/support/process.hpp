// Test-support building blocks shared by every fixture: a temporary directory,
// a child process stopped by PID, free loopback ports and readiness checks.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgeshake::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A fresh directory under $TMPDIR, removed (recursively) on destruction unless
// EDGESHAKE_KEEP_TMP is set.
class TempDir {
public:
  explicit TempDir(const std::string& prefix = "edgeshake");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return m_path; }
  fs::path operator/(const std::string& name) const { return m_path / name; }

private:
  fs::path m_path;
};

void write_file(const fs::path& path, const std::string& content);
std::string read_file(const fs::path& path);

// A child process: stdout and stderr go to `log_file`; stopped by PID
// (SIGTERM, then SIGKILL after a grace period) in stop() and the destructor.
class Process {
public:
  Process() = default;
  Process(std::vector<std::string> argv, fs::path log_file, fs::path cwd = {});
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  int pid() const { return m_pid; }
  bool running();          // not exited yet
  void stop();             // idempotent
  std::string log() const; // the log so far
  const fs::path& log_file() const { return m_log; }

private:
  int m_pid = -1;
  fs::path m_log;
};

// Run a command to completion (stdout+stderr captured); returns exit status.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = 60s);

// A TCP port the kernel says is free on 127.0.0.1 (bind port 0, read it back).
std::uint16_t free_tcp_port(const std::string& address = "127.0.0.1");
std::uint16_t free_udp_port(const std::string& address = "127.0.0.1");
// A TCP port free on every address given (servers that each bind their own address).
std::uint16_t common_port(const std::vector<std::string>& addresses);

// Poll until something accepts a TCP connection on address:port.
bool wait_for_tcp(const std::string& address, std::uint16_t port,
                  std::chrono::milliseconds timeout = 10s);

// Full path of a program (searches PATH plus /usr/sbin and /sbin), or nullopt.
std::optional<std::string> find_program(const std::string& name);

// True when running under CI (CI=true): a missing server binary must fail
// there, not skip (so CI cannot go green on nothing).
bool in_ci();

} // namespace edgeshake::testing

// Skip locally, fail in CI, when a needed program is missing.
#define ES_REQUIRE_PROGRAM(name)                                                                   \
  do {                                                                                             \
    if (!::edgeshake::testing::find_program(name)) {                                               \
      if (::edgeshake::testing::in_ci()) {                                                         \
        FAIL() << "required program '" << (name) << "' is not installed";                          \
      } else {                                                                                     \
        GTEST_SKIP() << "program '" << (name) << "' is not installed";                             \
      }                                                                                            \
    }                                                                                              \
  } while (0)
