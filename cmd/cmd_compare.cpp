// `edgeshake compare TARGET...`: the same ClientHello to every backend, side by
// side. Output, JSON and exit codes: docs/fleet.md.
#include "cmd/command.hpp"
#include "cmd/fleet.hpp"
#include "cmd/output.hpp"
#include "cmd/run_deadline.hpp"
#include "common/endpoint.hpp"
#include "handshake/handshake.hpp"
#include "profiles/profiles.hpp"
#include "resolve/resolve.hpp"

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace edgeshake::cmd {

namespace {

struct CompareArgs {
  std::vector<std::string> targets;
  bool all_addresses = false;
  std::string profile = "cloudflare";
  std::vector<std::string> variants;
  std::string sni;
  std::string trust_store;
  std::vector<std::string> resolvers;
  std::string timeout = "10s";
  std::string deadline;
  bool json = false;
  bool no_color = false;
};

// One backend to probe: an input expanded to one address.
struct Backend {
  std::size_t input = 0; // index into the inputs
  std::string name;
  Endpoint endpoint;
};

std::optional<std::string> sni_for(const CompareArgs& a, const HostPort& hp,
                                   const profiles::Profile& p) {
  if (!a.sni.empty())
    return a.sni;
  switch (p.sni) {
  case profiles::SniPolicy::request_host:
    if (hp.is_ip)
      return std::nullopt;
    return hp.host;
  case profiles::SniPolicy::none:
    return std::nullopt;
  case profiles::SniPolicy::fixed:
    return p.sni_name;
  }
  return std::nullopt;
}

int run_compare(const CompareArgs& a) {
  if (a.targets.size() < 2 && !a.all_addresses) {
    return report_error(Error(
        ErrorCode::usage, "give at least two targets, or one name with --all-addresses", "TARGET"));
  }
  std::vector<HostPort> inputs;
  for (const auto& t : a.targets) {
    auto hp = parse_host_port(t);
    if (!hp)
      return report_error(Error(ErrorCode::usage, hp.error().message, "TARGET " + t));
    inputs.push_back(*hp);
  }
  auto timeout = parse_timeout(a.timeout);
  if (!timeout)
    return report_error(timeout.error());
  auto deadline = parse_deadline(a.deadline, default_deadline(*timeout));
  if (!deadline)
    return report_error(deadline.error());
  if (!a.sni.empty() && !is_valid_hostname(a.sni))
    return report_error(Error(ErrorCode::usage, "not a valid host name: '" + a.sni + "'", "--sni"));
  if (!a.trust_store.empty()) // once, before any traffic (docs/guarantees.md)
    if (auto ok = handshake::preload_trust_store(a.trust_store); !ok)
      return report_error(ok.error());
  auto profile = find_profile(a.profile, a.variants);
  if (!profile)
    return report_error(profile.error());
  resolve::ResolverOptions ropts;
  ropts.servers = a.resolvers;
  ropts.timeout = std::min(*timeout, std::chrono::milliseconds(3000));
  asio::io_context io;
  auto resolver = resolve::Resolver::create(io, ropts); // checks ropts first
  if (!resolver)
    return report_error(resolver.error());
  // --deadline bounds both stages.
  RunDeadline run_deadline(io, *deadline);

  // Stage 1: expand every input (all at once); stage 2: probe every backend.
  std::vector<resolve::TargetsResult> expanded(inputs.size());
  std::vector<bool> expanded_done(inputs.size(), false);
  std::size_t lookups_left = inputs.size();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    (*resolver)->expand(inputs[i], 443, [&, i](resolve::TargetsResult r) {
      expanded[i] = std::move(r);
      expanded_done[i] = true;
      if (--lookups_left == 0)
        io.stop(); // the resolver's idle sockets would keep the loop running
    });
  }
  if (lookups_left > 0)
    io.run();
  if (run_deadline.hit()) {
    std::vector<std::string> left;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!expanded_done[i])
        left.push_back(a.targets[i]);
    }
    report_error(
        deadline_error(**deadline, "while resolving: " + unfinished_text(left.size(), inputs.size(),
                                                                         "DNS lookups", left)));
    exit_abandoning(k_exit_incomplete);
  }
  io.restart();
  resolver->reset();

  std::vector<CompareInput> rows;
  std::vector<handshake::ProbeSpec> specs;
  std::vector<std::pair<std::size_t, std::size_t>> spec_of; // row -> (primary, no_sni or npos)
  std::vector<std::vector<std::size_t>> wire_of;            // row -> its wire probes
  const handshake::SharedProfile shared_profile(*profile);  // one copy for every probe
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& hp = inputs[i];
    if (!expanded[i].ok()) {
      CompareInput in;
      in.input = a.targets[i];
      in.name = hp.host;
      in.resolve_error = expanded[i].resolution
                             ? std::string(resolve::to_string(expanded[i].resolution->status))
                             : "no address";
      rows.push_back(std::move(in));
      spec_of.emplace_back(std::string::npos, std::string::npos);
      wire_of.emplace_back();
      continue;
    }
    auto targets = expanded[i].targets;
    if (!a.all_addresses)
      targets.resize(1);
    for (const auto& t : targets) {
      CompareInput in;
      in.input = a.targets[i];
      in.name = t.name;
      handshake::ProbeSpec spec;
      spec.label = "primary";
      spec.target = t.endpoint;
      spec.host = !a.sni.empty() && hp.is_ip ? a.sni : hp.host;
      spec.sni = sni_for(a, hp, *profile);
      spec.profile = shared_profile;
      spec.trust_store = a.trust_store;
      spec.timeout = *timeout;
      const std::size_t primary = specs.size();
      std::size_t no_sni = std::string::npos;
      specs.push_back(spec);
      // The edge's exact hellos, on the wire (they judge the handshake).
      std::vector<std::size_t> wire;
      for (std::size_t h = 0; h < profile->hellos.size(); ++h) {
        handshake::ProbeSpec w = spec;
        w.label = profile->hellos.size() == 1 || profile->hellos[h].label.empty()
                      ? "wire"
                      : "wire/" + profile->hellos[h].label;
        w.engine = handshake::Engine::wire;
        w.hello = h;
        wire.push_back(specs.size());
        specs.push_back(std::move(w));
      }
      if (spec.sni) {
        spec.label = "no_sni";
        spec.sni.reset();
        no_sni = specs.size();
        specs.push_back(spec);
      }
      rows.push_back(std::move(in));
      spec_of.emplace_back(primary, no_sni);
      wire_of.push_back(std::move(wire));
    }
  }
  // One start() per probe (a shared budget keeps the caps) so that a deadline
  // can say which ones finished.
  // (specs stay: their labels name the unfinished ones.)
  auto results = probe_each(io, specs, run_deadline);
  // After a deadline, only the backends whose probes all finished are shown.
  std::vector<CompareInput> shown;
  std::vector<std::string> unfinished;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    auto [p, n] = spec_of[r];
    std::vector<std::size_t> mine = wire_of[r];
    mine.push_back(p);
    mine.push_back(n);
    const bool all_done = std::all_of(mine.begin(), mine.end(), [&](std::size_t i) {
      return i == std::string::npos || results[i];
    });
    if (!all_done) {
      for (auto i : mine) {
        if (i != std::string::npos && !results[i])
          unfinished.push_back(specs[i].label + " " + specs[i].target.to_string());
      }
      continue;
    }
    if (p != std::string::npos)
      rows[r].primary = *results[p];
    if (n != std::string::npos)
      rows[r].no_sni = *results[n];
    for (auto i : wire_of[r])
      rows[r].wire.push_back(*results[i]);
    shown.push_back(std::move(rows[r]));
  }
  rows = std::move(shown);
  if (run_deadline.hit()) {
    if (!rows.empty()) {
      auto table = build_compare_table(rows, std::chrono::system_clock::now());
      if (a.json)
        print_out("{}\n", json_text(compare_to_json(table, rows, profile->id, k_exit_incomplete)));
      else
        print_out("{}", compare_to_text(table, Style::for_stdout(a.no_color)));
    }
    report_error(deadline_error(**deadline,
                                "while probing: " + unfinished_text(unfinished.size(), specs.size(),
                                                                    "probes", unfinished)));
    exit_abandoning(k_exit_incomplete);
  }

  auto table = build_compare_table(rows, std::chrono::system_clock::now());
  const int code = compare_exit_code(table);
  if (a.json) {
    print_out("{}\n", json_text(compare_to_json(table, rows, profile->id, code)));
  } else {
    print_out("{}", compare_to_text(table, Style::for_stdout(a.no_color)));
  }
  return code;
}

} // namespace

void add_compare_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<CompareArgs>();
  auto* sub = app.add_subcommand(
      "compare", "Probe several backends with the same ClientHello and show what differs "
                 "(docs/fleet.md)");
  sub->add_option("targets", args->targets, "HOST[:PORT] or IP[:PORT] (port 443 by default)")
      ->required();
  sub->add_flag("--all-addresses", args->all_addresses,
                "Expand each name to all its A/AAAA addresses (default: the first)");
  add_variant_option(*sub, args->variants);
  sub->add_option("--profile", args->profile, "Bundled profile id or a .toml file")
      ->capture_default_str();
  sub->add_option("--sni", args->sni, "Send this server_name (and verify against it)");
  sub->add_option("--trust-store", args->trust_store, "PEM file (or directory) of trusted CAs");
  sub->add_option("--resolver", args->resolvers, "DNS server IP[:PORT] (repeatable)");
  sub->add_option("--timeout", args->timeout, "Per-probe timeout (5s, 500ms...)")
      ->capture_default_str();
  sub->add_option("--deadline", args->deadline,
                  "Bound on the whole run, DNS included (e.g. 20s, 'none'); when reached: the "
                  "backends that finished, then exit 3 naming the unfinished probes")
      ->default_str("6 x --timeout");
  sub->add_flag("--json", args->json, "JSON output (docs/fleet.md)");
  sub->add_flag("--no-color", args->no_color, "No ANSI colours");
  sub->callback([&run, args] { run = [args] { return run_compare(*args); }; });
}

} // namespace edgeshake::cmd
