// The CLI's one way to stdout and stderr (docs/guarantees.md, "Output safety").
//
// stdout: every write is checked, and so is the final flush; a failure throws
// StdoutError, which main() turns into one line on stderr and exit 3 (a closed
// pipe, EPIPE, ends quietly with exit 3). stderr: writes never throw and never
// fail the run (a closed or full stderr loses the message, not the result).
// JSON: one serialisation, with every invalid UTF-8 byte replaced by U+FFFD.
#pragma once

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace edgeshake::cmd {

// A write to stdout failed; `error` is the errno (EPIPE, ENOSPC, EBADF...).
class StdoutError : public std::runtime_error {
public:
  explicit StdoutError(int error);
  int error() const { return m_error; }

private:
  int m_error;
};

// Appends to stdout's buffer; throws StdoutError when the write fails.
void write_stdout(std::string_view text);
// Flushes stdout; throws StdoutError when anything written so far was lost.
void flush_stdout();
// Flushes stdout's buffer, then writes `record` with one write(2) per attempt
// (one call for a whole JSON line on a regular file or a pipe: concurrent
// appenders do not interleave inside it). Throws StdoutError when it fails.
void write_stdout_record(std::string_view record);
// Never throws; a failed write is dropped.
void write_stderr(std::string_view text) noexcept;

// The one-line message for a failed stdout (empty for EPIPE: a reader that
// went away is not an error worth a line), and the exit code (3).
std::string stdout_error_text(const StdoutError& e);

template <typename... T>
void print_out(fmt::format_string<T...> format, T&&... args) {
  write_stdout(fmt::format(format, std::forward<T>(args)...));
}

template <typename... T>
void print_err(fmt::format_string<T...> format, T&&... args) noexcept {
  try {
    write_stderr(fmt::format(format, std::forward<T>(args)...));
  } catch (...) { // formatting ran out of memory: nothing to say it with
  }
}

// `j` as JSON text (indent < 0: one line), invalid UTF-8 replaced by U+FFFD.
std::string json_text(const nlohmann::json& j, int indent = 2);

} // namespace edgeshake::cmd
