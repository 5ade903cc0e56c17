// PLACEHOLDER: replaced by the real 'resolve' command.
#include "cmd/command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace edgeshake::cmd {

void add_resolve_command(CLI::App& app, Action& run) {
  auto* sub = app.add_subcommand("resolve", "(not built yet)");
  sub->callback([&run] {
    run = [] {
      fmt::print(stderr, "edgeshake: 'resolve' is not built yet\n");
      return k_exit_incomplete;
    };
  });
}

} // namespace edgeshake::cmd
