// PLACEHOLDER: replaced by the real 'probe' command.
#include "cmd/command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace edgeshake::cmd {

void add_probe_command(CLI::App& app, Action& run) {
  auto* sub = app.add_subcommand("probe", "(not built yet)");
  sub->callback([&run] {
    run = [] {
      fmt::print(stderr, "edgeshake: 'probe' is not built yet\n");
      return k_exit_incomplete;
    };
  });
}

} // namespace edgeshake::cmd
