// PLACEHOLDER: replaced by the real 'diagnose' command.
#include "cmd/command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace edgeshake::cmd {

void add_diagnose_command(CLI::App& app, Action& run) {
  auto* sub = app.add_subcommand("diagnose", "(not built yet)");
  sub->callback([&run] {
    run = [] {
      fmt::print(stderr, "edgeshake: 'diagnose' is not built yet\n");
      return k_exit_incomplete;
    };
  });
}

} // namespace edgeshake::cmd
