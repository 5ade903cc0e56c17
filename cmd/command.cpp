#include "cmd/command.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace edgeshake::cmd {

int exit_code_for(ErrorCode code) {
  switch (code) {
  case ErrorCode::usage:
  case ErrorCode::input:
  case ErrorCode::profile:
  case ErrorCode::io:
    return k_exit_usage;
  case ErrorCode::runtime:
    return k_exit_incomplete;
  }
  return k_exit_incomplete;
}

int report_error(const Error& error) {
  fmt::print(stderr, "edgeshake: {}\n", error.to_string());
  return exit_code_for(error.code);
}

Style Style::for_stdout(bool no_color_flag) {
  const char* no_color = std::getenv("NO_COLOR");
  bool color = !no_color_flag && !(no_color && *no_color) && ::isatty(STDOUT_FILENO) == 1;
  return Style(color);
}

std::string Style::wrap(std::string_view code, std::string_view s) const {
  if (!m_color)
    return std::string(s);
  return fmt::format("\x1b[{}m{}\x1b[0m", code, s);
}

} // namespace edgeshake::cmd
