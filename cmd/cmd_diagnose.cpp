// `edgeshake diagnose HOST ...`: why does the edge-to-origin handshake fail?
#include "cmd/command.hpp"
#include "cmd/diagnose.hpp"
#include "cmd/output.hpp"
#include "cmd/report_diagnose.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <memory>

namespace edgeshake::cmd {

namespace {

struct Flags {
  DiagnoseOptions options;
  std::string timeout = "10s";
  std::string deadline;
  int port = 0;
  std::string sni;
  bool json = false;
  bool no_color = false;
  bool verbose = false;
};

int run_command(const Flags& flags) {
  DiagnoseOptions o = flags.options;
  auto timeout = parse_timeout(flags.timeout);
  if (!timeout)
    return report_error(timeout.error());
  o.timeout = *timeout;
  auto deadline = parse_deadline(flags.deadline, default_deadline(o.timeout));
  if (!deadline)
    return report_error(deadline.error());
  o.deadline = *deadline;
  if (flags.port != 0) {
    if (flags.port < 1 || flags.port > 65535) {
      return report_error(Error(ErrorCode::usage, "port must be 1-65535", "--port"));
    }
    o.port = static_cast<std::uint16_t>(flags.port);
  }
  if (!flags.sni.empty())
    o.sni = flags.sni;
  return run_diagnose(o, [&flags](const Result<DiagnoseReport>& report) {
    if (!report)
      return report_error(report.error());
    if (flags.json) {
      print_out("{}\n", json_text(diagnose_to_json(*report, flags.verbose)));
    } else {
      print_out("{}", diagnose_to_text(*report, Style::for_stdout(flags.no_color), flags.verbose));
    }
    return diagnose_exit_code(*report);
  });
}

} // namespace

void add_diagnose_command(CLI::App& app, Action& run) {
  auto flags = std::make_shared<Flags>();
  auto* sub = app.add_subcommand(
      "diagnose", "Find why the CDN edge cannot complete the TLS handshake with the origin, "
                  "predict the CDN's error per SSL mode, and give the fix");
  auto& o = flags->options;
  sub->add_option("HOST", o.host, "The site's hostname (what visitors ask for)")->required();
  sub->add_option("--origin", o.origins,
                  "Origin IP[:PORT] or NAME[:PORT] (repeatable; a name with several addresses "
                  "gives one target each)");
  sub->add_option("--edge", o.edge, "Edge IP[:PORT] to probe instead of HOST's addresses");
  sub->add_flag(
      "--no-edge", o.no_edge,
      "Do not resolve or probe the edge (check origins only, e.g. before enabling a CDN)");
  sub->add_option("--cdn", o.cdn, "auto (detect), a profile name, or a profile file")
      ->default_str("auto");
  add_variant_option(*sub, o.variants);
  sub->add_flag("--capabilities", o.capabilities,
                "Also list everything a failing origin accepts (the enumerate engine; more "
                "connections and round trips) when its cipher, group or version mismatch is "
                "already explained");
  sub->add_option("--mode", o.mode, "SSL mode to predict (e.g. flexible, full, strict) or all")
      ->default_str("all");
  sub->add_option("--port", flags->port, "Origin and edge port (default 443)");
  sub->add_option("--sni", flags->sni, "SNI the CDN sends (models an SNI override rule)");
  sub->add_option("--resolver", o.resolvers, "DNS server IP[:PORT] (repeatable)");
  sub->add_option("--trust-store", o.trust_store,
                  "PEM file of CAs replacing the CDN's trust store (private PKI, custom origin "
                  "trust store, test labs)");
  sub->add_option("--client-cert", o.client_cert, "Client certificate (PEM) the CDN presents");
  sub->add_option("--client-key", o.client_key, "Its private key (PEM)");
  sub->add_option("--timeout", flags->timeout, "Per-probe timeout (e.g. 5s, 500ms)")
      ->default_str("10s");
  sub->add_option("--deadline", flags->deadline,
                  "Bound on the whole run: DNS, every probe, the second phase (e.g. 30s; "
                  "'none'); when reached: exit 3 naming what was unfinished")
      ->default_str("6 x --timeout");
  sub->add_flag("--json", flags->json, "JSON output (docs/json.md)");
  sub->add_flag("--no-color", flags->no_color, "No colour");
  sub->add_flag("--verbose,-v", flags->verbose,
                "Everything: fixes for info findings, raw evidence");
  sub->callback([&run, flags] { run = [flags] { return run_command(*flags); }; });
}

} // namespace edgeshake::cmd
