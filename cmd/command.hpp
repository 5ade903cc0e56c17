// The CLI's shared pieces: subcommand registration, error reporting, terminal
// styling. Each subcommand lives in its own cmd_<name>.cpp.
#pragma once

#include "common/error.hpp"
#include "common/exit_codes.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace edgeshake::cmd {

// The chosen subcommand's body; returns the process exit code.
using Action = std::function<int()>;

// Each adds its subcommand to `app`; when chosen, its callback sets `run`.
void add_profiles_command(CLI::App& app, Action& run);
void add_probe_command(CLI::App& app, Action& run);
void add_resolve_command(CLI::App& app, Action& run);
void add_diagnose_command(CLI::App& app, Action& run);
void add_enumerate_command(CLI::App& app, Action& run);
void add_compare_command(CLI::App& app, Action& run);
void add_scan_command(CLI::App& app, Action& run);

// Prints "edgeshake: <where>: <message>" on stderr and returns the exit code
// documented for the error's class (2 for usage/input/profile/io, 3 runtime).
int report_error(const Error& error);
int exit_code_for(ErrorCode code);

// Colour only when stdout is a terminal and --no-color / NO_COLOR are absent.
class Style {
public:
  explicit Style(bool color) : m_color(color) {}
  static Style for_stdout(bool no_color_flag);
  bool color() const { return m_color; }
  std::string bold(std::string_view s) const { return wrap("1", s); }
  std::string dim(std::string_view s) const { return wrap("2", s); }
  std::string red(std::string_view s) const { return wrap("31", s); }
  std::string green(std::string_view s) const { return wrap("32", s); }
  std::string yellow(std::string_view s) const { return wrap("33", s); }
  std::string cyan(std::string_view s) const { return wrap("36", s); }

private:
  std::string wrap(std::string_view code, std::string_view s) const;
  bool m_color;
};

} // namespace edgeshake::cmd
