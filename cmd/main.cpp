// edgeshake: why can't the CDN edge complete the TLS handshake with the origin?
#include "cmd/command.hpp"
#include "cmd/output.hpp"
#include "common/text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
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
  } catch (const CLI::ParseError& e) {
    // --help, --version and parse errors: CLI11 writes help to std::cout.
    const bool help = e.get_exit_code() == 0;
    int code = help ? app.exit(e) : k_exit_usage;
    if (!help)
      cmd::print_err("edgeshake: {}\n", terminal_safe(e.what()));
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0) {
      if (errno != EPIPE)
        cmd::print_err("edgeshake: stdout: write error: {}\n", std::strerror(errno));
      return k_exit_incomplete;
    }
    return code;
  }
  // Nothing below may throw out of main: a handler that printed to a closed
  // stderr used to throw again and abort (exit 134).
  try {
    const int code = run ? run() : k_exit_usage;
    cmd::flush_stdout();
    return code;
  } catch (const cmd::StdoutError& e) {
    cmd::write_stderr(cmd::stdout_error_text(e));
  } catch (const std::bad_alloc&) {
    cmd::write_stderr("edgeshake: out of memory\n");
  } catch (const std::exception& e) {
    cmd::print_err("edgeshake: internal error: {}\n", terminal_safe(e.what()));
  } catch (...) {
    cmd::write_stderr("edgeshake: internal error\n");
  }
  return k_exit_incomplete;
}
