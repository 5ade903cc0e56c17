// Errors that the user or the environment caused (bad flag, bad TOML, unreadable
// file). What the network did is never an Error: it is a status inside a result.
#pragma once

#include <string>
#include <utility>

namespace edgeshake {

enum class ErrorCode {
  usage,   // bad command line                         -> exit 2
  input,   // bad target, bad file content             -> exit 2
  profile, // profile file invalid                     -> exit 2
  io,      // file unreadable / unwritable             -> exit 2
  runtime, // could not complete (resources, loop)     -> exit 3
};

struct Error {
  ErrorCode code = ErrorCode::input;
  std::string message;
  std::string where; // "file:line:col", a flag name, or empty

  Error() = default;
  Error(ErrorCode c, std::string msg, std::string at = {})
      : code(c), message(std::move(msg)), where(std::move(at)) {}
  bool operator==(const Error&) const = default;

  // "where: message", or just "message".
  std::string to_string() const { return where.empty() ? message : where + ": " + message; }
};

} // namespace edgeshake
