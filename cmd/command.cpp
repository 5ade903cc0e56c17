#include "cmd/command.hpp"

#include "cmd/output.hpp"
#include "common/endpoint.hpp"
#include "common/text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
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
  // Messages echo files, flags and server data: one terminal-safe line.
  print_err("edgeshake: {}\n", terminal_safe(error.to_string()));
  return exit_code_for(error.code);
}

std::chrono::milliseconds default_deadline(std::chrono::milliseconds timeout) {
  return timeout * 6;
}

void add_variant_option(CLI::App& sub, std::vector<std::string>& variants) {
  sub.add_option("--variant", variants,
                 "A provider option of the profile, NAME=VALUE (repeatable; e.g. pq=preferred; "
                 "`edgeshake profiles show NAME` lists them)");
}

Result<profiles::Profile> find_profile(std::string_view name_or_path,
                                       const std::vector<std::string>& variants) {
  auto profile = profiles::find(name_or_path);
  if (!profile || variants.empty())
    return profile;
  std::vector<std::pair<std::string, std::string>> choices;
  for (const auto& text : variants) {
    auto choice = profiles::parse_variant_choice(text);
    if (!choice)
      return tl::unexpected(choice.error());
    choices.push_back(std::move(*choice));
  }
  return profiles::select_variants(std::move(*profile), choices);
}

Result<std::chrono::milliseconds> parse_timeout(std::string_view text) {
  auto d = parse_duration(text);
  if (!d)
    return fail(ErrorCode::usage, d.error().message, "--timeout");
  if (d->count() <= 0)
    return fail(ErrorCode::usage, "must be positive", "--timeout");
  return *d;
}

Result<std::optional<std::chrono::milliseconds>>
parse_deadline(std::string_view text, std::optional<std::chrono::milliseconds> fallback) {
  if (text.empty())
    return fallback;
  if (text == "none")
    return std::optional<std::chrono::milliseconds>{};
  auto d = parse_duration(text);
  if (!d)
    return fail(ErrorCode::usage, d.error().message + " (or 'none')", "--deadline");
  if (d->count() <= 0)
    return fail(ErrorCode::usage, "must be positive (or 'none')", "--deadline");
  return std::optional<std::chrono::milliseconds>{*d};
}

std::string duration_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 60000 == 0)
    return fmt::format("{}m", ms / 60000);
  if (ms != 0 && ms % 1000 == 0)
    return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

Error deadline_error(std::chrono::milliseconds budget, std::string_view what) {
  return Error(ErrorCode::runtime,
               fmt::format("deadline of {} reached {}", duration_text(budget), what), "--deadline");
}

bool is_deadline_error(const Error& e) {
  return e.code == ErrorCode::runtime && e.where == "--deadline";
}

std::string unfinished_text(std::size_t unfinished, std::size_t total, std::string_view noun,
                            const std::vector<std::string>& names) {
  std::string out = fmt::format("{} of {} {} unfinished", unfinished, total, noun);
  if (names.empty())
    return out;
  constexpr std::size_t k_shown = 6;
  std::vector<std::string> shown(
      names.begin(), names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), k_shown)));
  out += ": " + fmt::format("{}", fmt::join(shown, ", "));
  if (names.size() > k_shown)
    out += fmt::format(", ... ({} more)", names.size() - k_shown);
  return out;
}

void exit_abandoning(int code) {
  try {
    flush_stdout();
  } catch (const StdoutError& e) {
    write_stderr(stdout_error_text(e));
    code = k_exit_incomplete;
  }
  std::fflush(stderr);
  std::_Exit(code);
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
