// edgeshake probe HOST[:PORT]: one TCP connect + TLS handshake (+ optional
// HTTP request) per target address, as the chosen profile's client would do
// it. Output and exit codes: docs/probe.md.
#include "cmd/command.hpp"
#include "cmd/output.hpp"
#include "cmd/report_probe.hpp"
#include "cmd/report_resolve.hpp"
#include "cmd/run_deadline.hpp"
#include "handshake/handshake.hpp"
#include "profiles/profiles.hpp"
#include "resolve/resolve.hpp"

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>

namespace edgeshake::cmd {

namespace {

struct ProbeArgs {
  std::string host;
  std::string connect;
  std::string sni;
  bool no_sni = false;
  std::string profile = "cloudflare";
  std::vector<std::string> variants; // --variant NAME=VALUE
  std::string trust_store;
  std::string client_cert;
  std::string client_key;
  bool http = false;
  std::string timeout = "10s";
  std::string deadline;
  std::vector<std::string> resolvers;
  bool json = false;
  bool no_color = false;
  bool verbose = false;
};

Result<void> readable(const std::string& path, const std::string& flag) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return fail(ErrorCode::io, "no such file: " + path, flag);
  return {};
}

// The SNI a probe sends: --no-sni, --sni, else the profile's policy.
std::optional<std::string> choose_sni(const ProbeArgs& args, const HostPort& hp,
                                      const profiles::Profile& profile) {
  if (args.no_sni)
    return std::nullopt;
  if (!args.sni.empty())
    return args.sni;
  switch (profile.sni) {
  case profiles::SniPolicy::request_host:
    if (hp.is_ip)
      return std::nullopt; // RFC 6066: no IP literals in server_name
    return hp.host;
  case profiles::SniPolicy::none:
    return std::nullopt;
  case profiles::SniPolicy::fixed:
    return profile.sni_name;
  }
  return std::nullopt;
}

int run_probe(const ProbeArgs& args) {
  auto hp = parse_host_port(args.host);
  if (!hp)
    return report_error(Error(ErrorCode::usage, hp.error().message, "HOST"));
  const std::uint16_t port = hp->port.value_or(443);
  auto timeout = parse_timeout(args.timeout);
  if (!timeout)
    return report_error(timeout.error());
  auto deadline = parse_deadline(args.deadline, default_deadline(*timeout));
  if (!deadline)
    return report_error(deadline.error());
  if (!args.connect.empty() && !ip_family(args.connect))
    return report_error(
        Error(ErrorCode::usage, "expects an IP address, got '" + args.connect + "'", "--connect"));
  if (!args.sni.empty() && !is_valid_hostname(args.sni))
    return report_error(
        Error(ErrorCode::usage, "not a valid host name: '" + args.sni + "'", "--sni"));
  for (const auto& [path, flag] :
       {std::pair{args.trust_store, "--trust-store"}, std::pair{args.client_cert, "--client-cert"},
        std::pair{args.client_key, "--client-key"}}) {
    if (!path.empty())
      if (auto ok = readable(path, flag); !ok)
        return report_error(ok.error());
  }
  // Before any traffic (and before the probes' clocks start).
  if (!args.trust_store.empty())
    if (auto ok = handshake::preload_trust_store(args.trust_store); !ok)
      return report_error(ok.error());
  if (!args.client_cert.empty())
    if (auto ok = handshake::check_client_certificate(args.client_cert, args.client_key); !ok)
      return report_error(ok.error());
  auto profile = find_profile(args.profile, args.variants);
  if (!profile)
    return report_error(profile.error());

  // One loop for the lookup and the probes; --deadline bounds both.
  asio::io_context io;
  RunDeadline run_deadline(io, *deadline);

  // Where to connect: --connect, the IP literal, or every address of the name.
  std::vector<Endpoint> endpoints;
  std::optional<resolve::TargetsResult> resolution;
  std::unique_ptr<resolve::Resolver> resolver;
  if (!args.connect.empty()) {
    endpoints.push_back({args.connect, port});
  } else if (hp->is_ip) {
    endpoints.push_back({hp->host, port});
  } else {
    resolve::ResolverOptions options;
    options.servers = args.resolvers;
    auto created = resolve::Resolver::create(io, options);
    if (!created)
      return report_error(created.error());
    resolver = std::move(*created);
    resolver->expand(*hp, port, [&](resolve::TargetsResult r) {
      resolution = std::move(r);
      io.stop();
    });
    io.run();
    if (run_deadline.hit()) {
      report_error(
          deadline_error(**deadline, "while resolving " + hp->host + " (DNS lookup unfinished)"));
      exit_abandoning(k_exit_incomplete);
    }
    if (!resolution)
      return report_error(Error(ErrorCode::runtime, "the lookup did not complete"));
    io.restart();
    resolver.reset(); // its idle sockets would keep the loop running
    if (!resolution->ok()) {
      std::string why = resolution->resolution
                            ? std::string(resolve::to_string(resolution->resolution->status))
                            : "no address";
      print_err("edgeshake: {}: could not resolve ({}); use --connect IP\n", hp->host, why);
      return k_exit_incomplete;
    }
    for (const auto& t : resolution->targets)
      endpoints.push_back(t.endpoint);
  }

  std::vector<handshake::ProbeSpec> specs;
  const handshake::SharedProfile shared_profile(*profile); // one copy for every probe
  for (const auto& ep : endpoints) {
    handshake::ProbeSpec spec;
    spec.label = "probe/" + ep.to_string();
    spec.target = ep;
    spec.host = args.sni.empty() || !hp->is_ip ? hp->host : args.sni;
    spec.sni = choose_sni(args, *hp, *profile);
    spec.profile = shared_profile;
    if (!args.client_cert.empty())
      spec.client_cert = handshake::ClientCertificate{args.client_cert, args.client_key};
    spec.trust_store = args.trust_store;
    spec.http = args.http;
    spec.http_host = hp->host;
    spec.timeout = *timeout;
    // The edge's exact hellos, on the wire: they judge the handshake.
    for (std::size_t h = 0; h < profile->hellos.size(); ++h) {
      handshake::ProbeSpec w = spec;
      const auto& label = profile->hellos[h].label;
      w.label =
          (label.empty() || profile->hellos.size() == 1 ? std::string("wire") : "wire/" + label) +
          "/" + ep.to_string();
      w.engine = handshake::Engine::wire;
      w.hello = h;
      w.http = false;
      w.client_cert.reset();
      specs.push_back(std::move(w));
    }
    specs.push_back(std::move(spec));
  }
  // One start() per probe so that a deadline can say which ones finished.
  std::vector<std::string> labels;
  for (const auto& spec : specs)
    labels.push_back(spec.label);
  std::vector<handshake::ProbeResult> results;
  std::vector<std::string> unfinished;
  auto outcome = probe_each(io, std::move(specs), run_deadline);
  for (std::size_t i = 0; i < outcome.size(); ++i) {
    if (outcome[i])
      results.push_back(std::move(*outcome[i]));
    else
      unfinished.push_back(labels[i]);
  }

  const profiles::Verify verify = default_verify(*profile);
  // The wire probes of each OpenSSL probe's address.
  auto wire_of = [&results](const handshake::ProbeResult& r) {
    std::vector<const handshake::ProbeResult*> out;
    for (const auto& w : results)
      if (w.spec.engine == handshake::Engine::wire && w.spec.target == r.spec.target)
        out.push_back(&w);
    return out;
  };
  bool all_ok = true;
  bool could_not_run = false;
  for (const auto& r : results) {
    if (r.spec.engine == handshake::Engine::wire)
      continue;
    const auto verdict = probe_verdict(r, verify, wire_of(r));
    all_ok = all_ok && verdict == "ok";
    could_not_run = could_not_run || verdict == "certificate_unavailable";
  }
  for (const auto& r : results)
    could_not_run = could_not_run || r.status == handshake::ProbeStatus::client_error;
  const int code = could_not_run || run_deadline.hit() ? k_exit_incomplete
                   : all_ok                            ? k_exit_ok
                                                       : k_exit_problem;

  if (args.json) {
    nlohmann::json probes = nlohmann::json::array();
    for (const auto& r : results) {
      auto j = to_json(r, args.verbose);
      if (r.spec.engine != handshake::Engine::wire)
        j["verdict"] = probe_verdict(r, verify, wire_of(r));
      probes.push_back(std::move(j));
    }
    nlohmann::json out = {
        {"schema_version", 1},
        {"command", "probe"},
        {"input", args.host},
        {"profile", profile_json(*profile, verify)},
        {"resolution", resolution ? to_json(*resolution) : nlohmann::json(nullptr)},
        {"verdict", run_deadline.hit() ? "deadline_exceeded"
                    : could_not_run    ? "could_not_run"
                    : all_ok           ? "ok"
                                       : "failed"},
        {"exit_code", code},
        {"probes", std::move(probes)},
    };
    if (run_deadline.hit())
      out["unfinished"] = unfinished;
    print_out("{}\n", json_text(out));
  } else {
    Style style = Style::for_stdout(args.no_color);
    std::string text;
    if (resolution)
      text += targets_text(*resolution, style);
    bool first = !resolution;
    for (const auto& r : results) {
      if (r.spec.engine == handshake::Engine::wire)
        continue; // shown with the OpenSSL probe of the same address
      if (!first)
        text += "\n";
      first = false;
      text += probe_text(r, style, args.verbose, verify, wire_of(r));
    }
    print_out("{}", text);
  }
  if (run_deadline.hit()) {
    report_error(deadline_error(
        **deadline, "while probing: " +
                        unfinished_text(unfinished.size(), labels.size(), "probes", unfinished)));
    exit_abandoning(code); // the unfinished probes are not unwound (cmd/command.hpp)
  }
  return code;
}

} // namespace

void add_probe_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<ProbeArgs>();
  auto* sub = app.add_subcommand(
      "probe",
      "One TLS handshake (per address) as a CDN edge's client would do it (docs/probe.md)");
  sub->add_option("host", args->host, "HOST[:PORT] (a name or an IP; port 443 by default)")
      ->required();
  sub->add_option("--connect", args->connect, "Connect to this IP instead of resolving HOST");
  auto* sni =
      sub->add_option("--sni", args->sni, "Send this server_name (default: profile's policy)");
  auto* no_sni = sub->add_flag("--no-sni", args->no_sni, "Send no server_name extension");
  sni->excludes(no_sni);
  sub->add_option("--profile", args->profile, "Bundled profile id or a .toml file")
      ->capture_default_str();
  add_variant_option(*sub, args->variants);
  sub->add_option("--trust-store", args->trust_store,
                  "PEM file (or directory) to verify the chain against (default: profile's)");
  auto* cert = sub->add_option("--client-cert", args->client_cert, "Client certificate (PEM)");
  auto* key = sub->add_option("--client-key", args->client_key, "Client private key (PEM)");
  cert->needs(key);
  key->needs(cert);
  sub->add_flag("--http", args->http, "Send one GET / after the handshake");
  sub->add_option("--timeout", args->timeout, "Whole-probe timeout (5s, 500ms...)")
      ->capture_default_str();
  sub->add_option("--deadline", args->deadline,
                  "Bound on the whole run, DNS included (e.g. 20s, 'none'); when reached: "
                  "exit 3 naming the unfinished probes")
      ->default_str("6 x --timeout");
  sub->add_option("--resolver", args->resolvers, "DNS server IP[:PORT] for HOST (repeatable)");
  sub->add_flag("--json", args->json, "JSON output (docs/probe.md)");
  sub->add_flag("--no-color", args->no_color, "No ANSI colours");
  sub->add_flag("--verbose", args->verbose, "Also the OpenSSL error queue and the HTTP body");
  sub->callback([&run, args] { run = [args] { return run_probe(*args); }; });
}

} // namespace edgeshake::cmd
