// The CLI's shared pieces: subcommand registration, error reporting, terminal
// styling. Each subcommand lives in its own cmd_<name>.cpp.
#pragma once

#include "common/error.hpp"
#include "common/exit_codes.hpp"
#include "common/result.hpp"
#include "profiles/profiles.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// --variant NAME=VALUE (repeatable): a provider option of the profile
// (`edgeshake profiles show NAME` lists them), e.g. --variant pq=preferred.
void add_variant_option(CLI::App& sub, std::vector<std::string>& variants);
// The profile (bundled id or file) with the variant choices applied; usage
// errors name --variant.
Result<profiles::Profile> find_profile(std::string_view name_or_path,
                                       const std::vector<std::string>& variants);

// --timeout's value: a positive duration ("2s", "500ms"); a usage error at
// --timeout otherwise.
Result<std::chrono::milliseconds> parse_timeout(std::string_view text);

// ---- --deadline: one time budget for a whole run (docs/cli.md, "Deadlines") ----

// The default for diagnose, probe, compare, enumerate and resolve: 6 x --timeout.
std::chrono::milliseconds default_deadline(std::chrono::milliseconds timeout);
// --deadline's value: "" -> `fallback`; "none" -> no deadline; else a positive
// duration (common/endpoint.hpp parse_duration: "2s", "500ms", "1m").
Result<std::optional<std::chrono::milliseconds>>
parse_deadline(std::string_view text, std::optional<std::chrono::milliseconds> fallback);
// "2s", "1500ms", "2m".
std::string duration_text(std::chrono::milliseconds d);
// The error a run ends with when its deadline fires (runtime -> exit 3):
// "--deadline: deadline of 2s reached <what>".
Error deadline_error(std::chrono::milliseconds budget, std::string_view what);
bool is_deadline_error(const Error& e);
// "3 of 13 probes unfinished: a, b, c, ..." (at most 6 names listed).
std::string unfinished_text(std::size_t unfinished, std::size_t total, std::string_view noun,
                            const std::vector<std::string>& names);
// Ends the process after its output when a deadline abandoned work in flight:
// the suspended coroutines, sockets and OpenSSL objects are not unwound one by
// one (as cmd_scan.cpp does after SIGINT): stdout and stderr are flushed and
// the process exits with `code` at once.
[[noreturn]] void exit_abandoning(int code);

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
