// edgeshake: why can't the CDN edge complete the TLS handshake with the origin?
#include "cmd/command.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <new>

int main(int argc, char** argv) {
  using namespace edgeshake;
  CLI::App app{"edgeshake: diagnose TLS handshakes between a CDN edge and the origin behind it",
               "edgeshake"};
  app.set_version_flag("--version", "edgeshake 0.1.0");
  app.require_subcommand(1);
  cmd::Action run;
  cmd::add_diagnose_command(app, run);
  cmd::add_probe_command(app, run);
  cmd::add_resolve_command(app, run);
  cmd::add_enumerate_command(app, run);
  cmd::add_compare_command(app, run);
  cmd::add_scan_command(app, run);
  cmd::add_profiles_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "edgeshake: {}\n", e.what());
    return k_exit_usage;
  }
  try {
    return run ? run() : k_exit_usage;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "edgeshake: out of memory\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "edgeshake: internal error: {}\n", e.what());
  }
  return k_exit_incomplete;
}
