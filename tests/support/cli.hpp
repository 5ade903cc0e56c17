// Running a program (usually the edgeshake binary) the way a user does: stdin
// from a file, stdout and stderr apart (in files), the exit status, signals,
// and a bound on how long it may run.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace edgeshake::testing {

// A started child process; killed (SIGKILL) on destruction if still running.
class Child {
public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& out,
        const std::filesystem::path& err, const std::filesystem::path& in = "/dev/null");
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  void signal(int sig);
  // The exit status (128 + signal when killed by one), or -1 after `timeout`
  // (0: look once, do not wait). Once known, the status is returned again.
  int wait(std::chrono::milliseconds timeout);

private:
  pid_t m_pid = -1;
  int m_status = -1;
};

struct CliRun {
  int status = -1; // -1: did not finish in time (then killed)
  std::string out;
  std::string err;
  std::chrono::milliseconds took{0};
};

// Runs argv to completion with its output in dir/.stdout and dir/.stderr.
CliRun run_cli(const std::vector<std::string>& argv, const std::filesystem::path& dir,
               const std::filesystem::path& in = "/dev/null",
               std::chrono::milliseconds timeout = std::chrono::seconds(90));

// One JSON object per non-empty line; throws (failing the test) on a bad line.
std::vector<nlohmann::json> json_lines(const std::string& text);

} // namespace edgeshake::testing
