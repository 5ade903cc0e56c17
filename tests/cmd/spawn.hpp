// Running the edgeshake binary in a broken environment: stdout/stderr closed
// or pointed at a given file, resource limits set in the child only.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgeshake::testing {

struct SpawnSpec {
  SpawnSpec(std::vector<std::string> args, std::optional<std::string> out,
            std::optional<std::string> err)
      : argv(std::move(args)), stdout_(std::move(out)), stderr_(std::move(err)) {}
  std::vector<std::string> argv;      // argv[0] is the program
  std::optional<std::string> stdout_; // a path (opened O_WRONLY|O_CREAT|O_TRUNC); nullopt: closed
  std::optional<std::string> stderr_; // likewise
  std::string stdin_ = "/dev/null";
  bool append = false;                 // open stdout with O_APPEND
  std::optional<rlim_t> max_files;     // RLIMIT_NOFILE
  std::optional<rlim_t> max_file_size; // RLIMIT_FSIZE (SIGXFSZ ignored: writes fail EFBIG)
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

// The exit status (128 + signal when killed by one), -1 when it ran past the timeout.
int spawn_and_wait(const SpawnSpec& spec);

} // namespace edgeshake::testing
