// edgeshake resolve HOST: the CNAME chain, addresses with TTLs, the CDN that
// serves them (with evidence) and the origin targets (--origin). docs/resolve.md.
#include "cmd/command.hpp"
#include "cmd/output.hpp"
#include "cmd/report_resolve.hpp"
#include "cmd/run_deadline.hpp"
#include "resolve/resolve.hpp"

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>

namespace edgeshake::cmd {

namespace {

struct ResolveArgs {
  std::string host;
  std::vector<std::string> resolvers;
  std::string timeout = "3s";
  int tries = 2;
  std::string deadline;
  std::vector<std::string> origins;
  bool json = false;
  bool no_color = false;
};

// What `resolve HOST` reports for an IP literal: the address itself, no DNS.
resolve::ResolveResult literal_result(const HostPort& hp) {
  resolve::ResolveResult r;
  r.name = hp.host;
  r.status = resolve::ResolveStatus::ok;
  r.detail = "IP literal, not resolved";
  r.addresses.push_back({hp.host, ip_family(hp.host).value_or(AddressFamily::ipv4), 0});
  return r;
}

int run_resolve(const ResolveArgs& args) {
  auto host = parse_host_port(args.host);
  if (!host)
    return report_error(Error(ErrorCode::usage, host.error().message, "HOST"));
  std::vector<HostPort> origins;
  for (const auto& o : args.origins) {
    auto hp = parse_host_port(o);
    if (!hp)
      return report_error(Error(ErrorCode::usage, hp.error().message, "--origin"));
    origins.push_back(*hp);
  }
  auto timeout = parse_timeout(args.timeout);
  if (!timeout)
    return report_error(timeout.error());
  auto deadline = parse_deadline(args.deadline, default_deadline(*timeout));
  if (!deadline)
    return report_error(deadline.error());

  resolve::ResolverOptions options;
  options.servers = args.resolvers;
  options.timeout = *timeout;
  options.tries = args.tries;

  asio::io_context io;
  auto resolver = resolve::Resolver::create(io, options);
  if (!resolver)
    return report_error(resolver.error());

  // --deadline: c-ares' own retries can add up (timeout x (2^tries - 1) per server).
  RunDeadline run_deadline(io, *deadline);

  std::optional<resolve::ResolveResult> result;
  std::vector<resolve::TargetsResult> origin_results(origins.size());
  std::vector<bool> origin_done(origins.size(), false);
  std::size_t remaining = origins.size();
  if (host->is_ip) {
    result = literal_result(*host);
  } else {
    ++remaining;
    (*resolver)->resolve(host->host, [&](resolve::ResolveResult r) {
      result = std::move(r);
      if (--remaining == 0)
        io.stop();
    });
  }
  for (std::size_t i = 0; i < origins.size(); ++i) {
    (*resolver)->expand(origins[i], 443, [&, i](resolve::TargetsResult t) {
      origin_results[i] = std::move(t);
      origin_done[i] = true;
      if (--remaining == 0)
        io.stop();
    });
  }
  if (remaining > 0)
    io.run();
  run_deadline.cancel();
  if (run_deadline.hit()) {
    std::vector<std::string> left;
    if (!result)
      left.push_back(host->host);
    for (std::size_t i = 0; i < origins.size(); ++i) {
      if (!origin_done[i])
        left.push_back(args.origins[i]);
    }
    report_error(deadline_error(
        **deadline,
        "while resolving: " +
            unfinished_text(left.size(), origins.size() + (host->is_ip ? 0 : 1), "lookups", left)));
    exit_abandoning(k_exit_incomplete);
  }
  if (!result || remaining != 0)
    return report_error(
        Error(ErrorCode::runtime, "the event loop stopped before every lookup ended"));

  const auto& db = resolve::CdnDatabase::bundled();
  auto evidence = db.detect_all(*result);
  bool ok = result->status == resolve::ResolveStatus::ok;
  for (const auto& o : origin_results)
    ok = ok && o.ok();

  if (args.json) {
    nlohmann::json cdn_evidence = nlohmann::json::array();
    for (const auto& m : evidence)
      cdn_evidence.push_back(to_json(m));
    nlohmann::json origin = nlohmann::json::array();
    for (const auto& o : origin_results) {
      nlohmann::json j = to_json(o);
      std::optional<resolve::CdnMatch> m;
      if (o.resolution)
        m = db.detect(*o.resolution);
      for (const auto& t : o.targets) {
        if (!m)
          m = db.match_address(t.endpoint.address);
      }
      j["cdn"] = m ? to_json(*m) : nlohmann::json(nullptr);
      origin.push_back(std::move(j));
    }
    nlohmann::json out = {
        {"schema_version", 1},
        {"command", "resolve"},
        {"status", ok ? "ok" : "unresolved"},
        {"query", to_json(*result)},
        {"cdn", evidence.empty() ? nlohmann::json(nullptr) : to_json(evidence.front())},
        {"cdn_evidence", std::move(cdn_evidence)},
        {"origin", std::move(origin)},
    };
    print_out("{}\n", json_text(out));
  } else {
    Style style = Style::for_stdout(args.no_color);
    std::string text = resolve_text(*result, style);
    if (result->status == resolve::ResolveStatus::ok || !evidence.empty())
      text += cdn_text(evidence, style);
    for (const auto& o : origin_results)
      text += targets_text(o, style);
    print_out("{}", text);
  }
  return ok ? k_exit_ok : k_exit_problem;
}

} // namespace

void add_resolve_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<ResolveArgs>();
  auto* sub = app.add_subcommand(
      "resolve", "Resolve a name (CNAME chain, addresses, TTLs), detect the CDN serving it, and "
                 "expand origin targets");
  sub->add_option("host", args->host, "Hostname (or IP) visitors use")->required();
  sub->add_option("--resolver", args->resolvers,
                  "DNS server IP[:PORT] or [IPv6]:PORT to ask instead of resolv.conf (repeatable)");
  sub->add_option("--timeout", args->timeout,
                  "First-try timeout per query, e.g. 500ms, 3s (doubles per retry round)")
      ->capture_default_str();
  sub->add_option("--tries", args->tries, "Tries per server (1-10)")->capture_default_str();
  sub->add_option("--deadline", args->deadline,
                  "Bound on the whole run, retries included (e.g. 10s, 'none'); when reached: "
                  "exit 3 naming the unfinished lookups")
      ->default_str("6 x --timeout");
  sub->add_option("--origin", args->origins,
                  "Origin IP[:PORT] or NAME[:PORT]; a name yields one target per address "
                  "(repeatable)");
  sub->add_flag("--json", args->json, "JSON output (docs/resolve.md)");
  sub->add_flag("--no-color", args->no_color, "No ANSI colours");
  sub->callback([&run, args] { run = [args] { return run_resolve(*args); }; });
}

} // namespace edgeshake::cmd
