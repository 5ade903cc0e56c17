// The diagnose pipeline on one io_context: all DNS queries at once, then all
// probes at once (the probes need the addresses), then the pure comparison.
#include "cmd/diagnose.hpp"

#include "handshake/enumerate/enumerate.hpp"
#include "handshake/enumerate/tables.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

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

// Everything a run needs between its stages (kept alive by shared_ptr across
// the loop's callbacks).
struct DiagnoseState {
  DiagnoseOptions o;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  DiagnoseReport report;
  HostPort host;
  std::uint16_t port = 443;
  std::vector<HostPort> origin_inputs;
  std::optional<Endpoint> edge_override;
  std::optional<profiles::Profile> forced_cdn;
  bool need_host = false;
  int pending = 0;
  asio::io_context* io = nullptr;
  std::function<void(Result<DiagnoseReport>)> on_done;
};

// Stage 1, no network: check every input, load the profiles.
Result<void> prepare(DiagnoseState& st) {
  const auto& o = st.o;
  auto& report = st.report;

  // ---- validate everything before touching the network ----
  auto host = parse_host_port(o.host);
  if (!host)
    return fail(ErrorCode::input, host.error().message, "HOST");
  if (host->port)
    return fail(ErrorCode::usage, "HOST takes no port; use --port", "HOST");
  report.host = host->host;
  st.port = o.port.value_or(443);
  std::uint16_t port = st.port;

  auto& origin_inputs = st.origin_inputs;
  for (const auto& text : o.origins) {
    auto hp = parse_host_port(text);
    if (!hp)
      return fail(ErrorCode::input, hp.error().message, "--origin");
    origin_inputs.push_back(*hp);
  }
  auto& edge_override = st.edge_override;
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
  auto& forced_cdn = st.forced_cdn;
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
  st.host = *host;
  // HOST is resolved to find the edge (and the CDN), or to be the origin itself.
  st.need_host = !host->is_ip && (origin_inputs.empty() || (!o.no_edge && !edge_override));
  return {};
}

// Stage 3, no network: which CDN, which edge, which origins; then the plan.
Result<std::vector<handshake::ProbeSpec>> choose(DiagnoseState& st) {
  const auto& o = st.o;
  auto& report = st.report;
  const HostPort* host = &st.host;
  const auto& edge_override = st.edge_override;
  const auto& forced_cdn = st.forced_cdn;
  std::uint16_t port = st.port;
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
  return specs;
}

compare::DiagnoseInput diagnose_input(const DiagnoseState& st) {
  const auto& report = st.report;
  compare::DiagnoseInput in;
  in.host = report.host;
  in.cdn = report.cdn;
  in.modes = report.modes;
  in.origins = report.origins;
  in.probes = report.probes;
  in.sni_override = st.o.sni;
  in.capabilities = report.capabilities;
  return in;
}

compare::OriginCapabilities capabilities_from(const handshake::enumerate::EnumerateResult& e) {
  namespace en = handshake::enumerate;
  compare::OriginCapabilities c;
  c.endpoint = e.spec.target;
  c.connections = e.connections;
  for (const auto& v : e.versions) {
    if (v.status != en::VersionStatus::supported)
      continue;
    std::vector<std::string> names;
    for (auto code : v.suites)
      names.emplace_back(en::display_name(code));
    c.suites.emplace_back(v.version, std::move(names));
  }
  const auto& groups =
      e.groups_tls13.tested && !e.groups_tls13.groups.empty() ? e.groups_tls13 : e.groups_tls12;
  for (auto code : groups.groups) {
    const auto* g = en::find_group(code);
    c.groups.push_back(g ? std::string(g->name) : fmt::format("0x{:04x}", code));
  }
  return c;
}

void done(std::shared_ptr<DiagnoseState> st) {
  st->report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - st->started);
  st->on_done(std::move(st->report));
}

// Stage 5: compare. Stage 6, only when a cipher/group/version finding needs
// explaining: enumerate what those origins accept, then compare again.
void finish(std::shared_ptr<DiagnoseState> st, std::vector<handshake::ProbeResult> probes) {
  auto& report = st->report;
  report.probes = std::move(probes);
  report.diagnosis = compare::diagnose(diagnose_input(*st));
  auto wanted = compare::wants_capabilities(report.diagnosis, report.origins);
  if (wanted.empty()) {
    done(st);
    return;
  }
  auto sni = compare::cdn_sni(report.cdn, report.host, st->o.sni);
  st->pending = static_cast<int>(wanted.size());
  for (const auto& endpoint : wanted) {
    handshake::enumerate::EnumerateSpec spec;
    spec.target = endpoint;
    spec.sni = sni;
    spec.timeout = st->o.timeout;
    handshake::enumerate::start_enumerate(
        *st->io, spec, [st](handshake::enumerate::EnumerateResult r) {
          if (r.status == handshake::enumerate::EnumerateStatus::complete) {
            st->report.capabilities.push_back(capabilities_from(r));
          }
          if (--st->pending > 0)
            return;
          st->report.diagnosis = compare::diagnose(diagnose_input(*st));
          done(st);
        });
  }
}

} // namespace

resolve::ResolverOptions resolver_options(const DiagnoseOptions& o) {
  resolve::ResolverOptions ropts;
  ropts.servers = o.resolvers;
  ropts.timeout = std::min(o.timeout, std::chrono::milliseconds(3000));
  return ropts;
}

void start_diagnose(asio::io_context& io, resolve::Resolver& resolver, DiagnoseOptions options,
                    handshake::RunLimits limits,
                    std::function<void(Result<DiagnoseReport>)> on_done) {
  auto st = std::make_shared<DiagnoseState>();
  st->o = std::move(options);
  st->io = &io;
  st->on_done = std::move(on_done);
  if (auto ok = prepare(*st); !ok) {
    asio::post(io, [st, e = ok.error()] { st->on_done(tl::unexpected(e)); });
    return;
  }
  // Stage 2: every DNS query at once; stage 3 and 4 run when the last answers.
  auto after_dns = [st, &io, limits] {
    if (--st->pending > 0)
      return;
    auto specs = choose(*st);
    if (!specs) {
      st->on_done(tl::unexpected(specs.error()));
      return;
    }
    handshake::start(io, std::move(*specs), limits,
                     [st](std::vector<handshake::ProbeResult> r) { finish(st, std::move(r)); });
  };
  st->pending = 1 + (st->need_host ? 1 : 0) + static_cast<int>(st->origin_inputs.size());
  if (st->need_host) {
    resolver.resolve(st->report.host, [st, after_dns](resolve::ResolveResult r) {
      st->report.host_resolution = std::move(r);
      after_dns();
    });
  }
  st->report.origin_resolutions.resize(st->origin_inputs.size());
  for (std::size_t i = 0; i < st->origin_inputs.size(); ++i) {
    resolver.expand(st->origin_inputs[i], st->port, [st, i, after_dns](resolve::TargetsResult r) {
      st->report.origin_resolutions[i] = std::move(r);
      after_dns();
    });
  }
  asio::post(io, after_dns); // the "1 +": also completes a run with no DNS at all
}

Result<DiagnoseReport> run_diagnose(const DiagnoseOptions& options) {
  auto ropts = resolver_options(options);
  if (auto ok = resolve::validate(ropts); !ok)
    return tl::unexpected(ok.error());
  asio::io_context io;
  auto resolver = resolve::Resolver::create(io, ropts);
  if (!resolver)
    return tl::unexpected(resolver.error());
  std::optional<Result<DiagnoseReport>> result;
  start_diagnose(io, **resolver, options, handshake::RunLimits{},
                 [&](Result<DiagnoseReport> r) { result = std::move(r); });
  io.run();
  if (!result)
    return fail(ErrorCode::runtime, "diagnosis did not complete (event loop ended early)");
  return std::move(*result);
}

} // namespace edgeshake::cmd
