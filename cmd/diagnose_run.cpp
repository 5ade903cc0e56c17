// The diagnose pipeline on one io_context: all DNS queries at once, then all
// probes at once (the probes need the addresses), then the pure comparison.
#include "cmd/diagnose.hpp"

#include <asio/io_context.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace edgeshake::cmd {

namespace {

Result<std::vector<std::string>> select_modes(const profiles::Profile& cdn,
                                              const std::string& mode) {
  std::vector<std::string> out;
  if (mode == "all") {
    for (const auto& m : cdn.modes)
      out.push_back(m.name);
    return out;
  }
  if (!cdn.find_mode(mode)) {
    std::vector<std::string> names;
    for (const auto& m : cdn.modes)
      names.push_back(m.name);
    return fail(ErrorCode::usage,
                fmt::format("profile '{}' has no mode '{}' (modes: {}, all)", cdn.id, mode,
                            fmt::join(names, ", ")),
                "--mode");
  }
  out.push_back(mode);
  return out;
}

Result<void> check_readable(const std::string& path, const char* flag) {
  if (path.empty())
    return {};
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
    return {};
  }
  return fail(ErrorCode::io, fmt::format("cannot read '{}'", path), flag);
}

} // namespace

Result<DiagnoseReport> run_diagnose(const DiagnoseOptions& o) {
  auto started = std::chrono::steady_clock::now();
  DiagnoseReport report;

  // ---- validate everything before touching the network ----
  auto host = parse_host_port(o.host);
  if (!host)
    return fail(ErrorCode::input, host.error().message, "HOST");
  if (host->port)
    return fail(ErrorCode::usage, "HOST takes no port; use --port", "HOST");
  report.host = host->host;
  std::uint16_t port = o.port.value_or(443);

  std::vector<HostPort> origin_inputs;
  for (const auto& text : o.origins) {
    auto hp = parse_host_port(text);
    if (!hp)
      return fail(ErrorCode::input, hp.error().message, "--origin");
    origin_inputs.push_back(*hp);
  }
  std::optional<Endpoint> edge_override;
  if (o.edge) {
    auto hp = parse_host_port(*o.edge);
    if (!hp || !hp->is_ip) {
      return fail(ErrorCode::input, "--edge takes an IP address, optionally with :PORT", "--edge");
    }
    edge_override = Endpoint{hp->host, hp->port.value_or(port)};
  }
  if (o.no_edge && o.edge) {
    return fail(ErrorCode::usage, "--edge and --no-edge exclude each other", "--no-edge");
  }
  if (o.sni && !is_valid_hostname(*o.sni)) {
    return fail(ErrorCode::input, fmt::format("'{}' is not a valid hostname", *o.sni), "--sni");
  }
  if (o.client_cert.empty() != o.client_key.empty()) {
    return fail(ErrorCode::usage, "--client-cert and --client-key go together", "--client-cert");
  }
  for (auto [path, flag] :
       {std::pair{o.trust_store, "--trust-store"}, std::pair{o.client_cert, "--client-cert"},
        std::pair{o.client_key, "--client-key"}}) {
    if (auto ok = check_readable(path, flag); !ok)
      return tl::unexpected(ok.error());
  }
  std::optional<profiles::Profile> forced_cdn;
  if (o.cdn != "auto") {
    auto p = profiles::find(o.cdn);
    if (!p)
      return tl::unexpected(p.error());
    forced_cdn = *p;
  }
  auto browser = profiles::find("browser");
  if (!browser)
    return tl::unexpected(browser.error());
  report.browser = *browser;

  resolve::ResolverOptions ropts;
  ropts.servers = o.resolvers;
  ropts.timeout = std::min(o.timeout, std::chrono::milliseconds(3000));
  if (auto ok = resolve::validate(ropts); !ok)
    return tl::unexpected(ok.error());

  // ---- resolve: the host (unless it is an IP or --edge is given) and every origin ----
  asio::io_context io;
  auto resolver = resolve::Resolver::create(io, ropts);
  if (!resolver)
    return tl::unexpected(resolver.error());
  // HOST is resolved to find the edge (and the CDN), or to be the origin itself.
  bool need_host = !host->is_ip && (origin_inputs.empty() || (!o.no_edge && !edge_override));
  if (need_host) {
    (*resolver)->resolve(report.host,
                         [&](resolve::ResolveResult r) { report.host_resolution = r; });
  }
  report.origin_resolutions.resize(origin_inputs.size());
  for (std::size_t i = 0; i < origin_inputs.size(); ++i) {
    (*resolver)->expand(origin_inputs[i], port,
                        [&, i](resolve::TargetsResult r) { report.origin_resolutions[i] = r; });
  }
  io.run();
  io.restart();

  if (report.host_resolution) {
    report.cdn_match = resolve::CdnDatabase::bundled().detect(*report.host_resolution);
  } else if (host->is_ip) {
    report.cdn_match = resolve::CdnDatabase::bundled().match_address(host->host);
  }
  if (!report.cdn_match && edge_override) {
    report.cdn_match = resolve::CdnDatabase::bundled().match_address(edge_override->address);
  }
  for (const auto& r : report.origin_resolutions) {
    if (!r.ok()) {
      std::string why = r.resolution ? std::string(resolve::to_string(r.resolution->status)) : "?";
      return fail(ErrorCode::runtime,
                  fmt::format("origin '{}' did not resolve ({}); a CDN would fail to reach it "
                              "(Cloudflare: 530)",
                              r.input, why),
                  "--origin");
    }
    for (const auto& t : r.targets)
      report.origins.push_back({t.name, t.endpoint});
  }

  // ---- which CDN, which edge, which origins ----
  bool behind_cdn = report.cdn_match.has_value() || edge_override.has_value();
  if (forced_cdn) {
    report.cdn = *forced_cdn;
    report.cdn_note =
        report.cdn_match && report.cdn_match->cdn != forced_cdn->id
            ? fmt::format("--cdn {} (detection says {})", forced_cdn->id, report.cdn_match->name)
            : fmt::format("--cdn {}", forced_cdn->id);
  } else if (report.cdn_match) {
    auto p = profiles::find(report.cdn_match->cdn);
    if (!p) {
      return fail(ErrorCode::usage,
                  fmt::format("{} detected ({} {} on {}), but edgeshake has no profile for it; "
                              "pass --cdn NAME",
                              report.cdn_match->name, report.cdn_match->evidence_kind,
                              report.cdn_match->matched, report.cdn_match->on),
                  "--cdn");
    }
    report.cdn = *p;
    report.cdn_note = fmt::format("detected: {} {} on {}", report.cdn_match->evidence_kind,
                                  report.cdn_match->matched, report.cdn_match->on);
  } else {
    auto p = profiles::find("cloudflare");
    if (!p)
      return tl::unexpected(p.error());
    report.cdn = *p;
    report.cdn_note = "no CDN detected; predicting for Cloudflare (choose with --cdn)";
  }
  auto modes = select_modes(report.cdn, o.mode);
  if (!modes)
    return tl::unexpected(modes.error());
  report.modes = *modes;

  if (report.origins.empty()) {
    if (behind_cdn) {
      return fail(ErrorCode::usage,
                  fmt::format("{} is served by {}; the origin behind it cannot be seen from "
                              "here: pass --origin IP[:PORT] or NAME[:PORT]",
                              report.host, report.cdn_match ? report.cdn_match->name : "an edge"),
                  "--origin");
    }
    // Not behind a CDN yet: the host's own addresses are the origin.
    if (host->is_ip) {
      report.origins.push_back({host->host, Endpoint{host->host, port}});
    } else if (report.host_resolution) {
      if (report.host_resolution->status != resolve::ResolveStatus::ok) {
        return fail(ErrorCode::runtime,
                    fmt::format("'{}' did not resolve ({})", report.host,
                                resolve::to_string(report.host_resolution->status)),
                    "HOST");
      }
      for (const auto& t : resolve::targets_from(*report.host_resolution, port)) {
        report.origins.push_back({t.name, t.endpoint});
      }
    }
  } else if (o.no_edge) {
    // --no-edge: origins only.
  } else if (edge_override) {
    report.edge = edge_override;
  } else if (host->is_ip) {
    report.edge = Endpoint{host->host, port};
  } else if (report.host_resolution && !report.host_resolution->addresses.empty()) {
    report.edge = Endpoint{report.host_resolution->addresses.front().ip, port};
  }
  if (host->is_ip && !o.sni && report.cdn.sni == profiles::SniPolicy::request_host) {
    // An IP as HOST: there is no name to send; the CDN would send the site's name.
    return fail(ErrorCode::usage, "HOST is an IP address: give the site's hostname, or --sni NAME",
                "HOST");
  }

  // ---- probe: everything at once ----
  compare::PlanSpec plan;
  plan.host = report.host;
  plan.cdn = report.cdn;
  plan.browser = report.browser;
  plan.edge = report.edge;
  plan.origins = report.origins;
  plan.sni_override = o.sni;
  if (!o.client_cert.empty())
    plan.client_cert = handshake::ClientCertificate{o.client_cert, o.client_key};
  plan.trust_store = o.trust_store;
  // The system store for the edge probe; EDGESHAKE_SYSTEM_TRUST points elsewhere
  // (a non-Debian layout, or a test's "locally added" roots).
  if (const char* sys = std::getenv("EDGESHAKE_SYSTEM_TRUST"); sys && *sys) {
    plan.edge_trust_store = sys;
  }
  plan.timeout = o.timeout;
  auto specs = compare::plan(plan);
  if (const char* pub = std::getenv("EDGESHAKE_PUBLIC_TRUST"); pub && *pub && report.edge) {
    for (const auto& s : specs) {
      if (s.label == compare::probe_label::edge) {
        auto p = s;
        p.label = "edge_public";
        p.trust_store = pub;
        p.http = false;
        specs.push_back(p);
        break;
      }
    }
  }
  handshake::start(io, std::move(specs), handshake::RunLimits{},
                   [&](std::vector<handshake::ProbeResult> r) { report.probes = std::move(r); });
  io.run();

  compare::DiagnoseInput in;
  in.host = report.host;
  in.cdn = report.cdn;
  in.modes = report.modes;
  in.origins = report.origins;
  in.probes = report.probes;
  in.sni_override = o.sni;
  report.diagnosis = compare::diagnose(in);
  report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return report;
}

} // namespace edgeshake::cmd
