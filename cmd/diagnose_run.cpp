// The diagnose pipeline on one io_context: all DNS queries at once, then all
// probes at once (the probes need the addresses), then the pure comparison.
#include "cmd/diagnose.hpp"

#include "cmd/command.hpp"

#include "handshake/enumerate/enumerate.hpp"
#include "handshake/enumerate/tables.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
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
  // A FIFO or a device would block fopen (and the run, past --deadline).
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st) &&
      !std::filesystem::is_directory(st))
    return fail(ErrorCode::io, fmt::format("'{}' is not a regular file or a directory", path),
                flag);
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

  // --deadline: what is in flight, by stage, so the message can name it.
  enum class Stage { dns, probes, capabilities } stage = Stage::dns;
  bool completed = false; // on_done called (results arriving later are dropped)
  std::unique_ptr<asio::steady_timer> deadline;
  std::vector<std::string> dns_names; // host first (when resolved), then origins
  std::vector<bool> dns_done;
  std::vector<std::string> probe_names; // "label target"
  std::vector<bool> probe_done;
  std::vector<handshake::ProbeResult> probe_results;
  std::size_t probes_left = 0;
  std::vector<std::string> enumerate_names;
  std::vector<bool> enumerate_done;
};

// The one way a run ends: on_done once, the deadline timer cancelled.
void complete(const std::shared_ptr<DiagnoseState>& st, Result<DiagnoseReport> r) {
  if (st->completed)
    return;
  st->completed = true;
  if (st->deadline)
    st->deadline->cancel();
  auto cb = std::move(st->on_done);
  cb(std::move(r));
}

std::vector<std::string> unfinished_of(const std::vector<std::string>& names,
                                       const std::vector<bool>& done) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < names.size() && i < done.size(); ++i) {
    if (!done[i])
      out.push_back(names[i]);
  }
  return out;
}

// The deadline fired: name the stage and what had not finished.
void deadline_reached(const std::shared_ptr<DiagnoseState>& st) {
  if (st->completed)
    return;
  using Stage = DiagnoseState::Stage;
  std::string what;
  switch (st->stage) {
  case Stage::dns: {
    auto left = unfinished_of(st->dns_names, st->dns_done);
    what = "while resolving: " +
           unfinished_text(left.size(), st->dns_names.size(), "DNS lookups", left);
    break;
  }
  case Stage::probes: {
    auto left = unfinished_of(st->probe_names, st->probe_done);
    what = "while probing: " + unfinished_text(left.size(), st->probe_names.size(), "probes", left);
    break;
  }
  case Stage::capabilities: {
    auto left = unfinished_of(st->enumerate_names, st->enumerate_done);
    what = fmt::format(
        "while enumerating what the origin accepts (all {} probes finished): {}",
        st->probe_names.size(),
        unfinished_text(left.size(), st->enumerate_names.size(), "origin enumerations", left));
    break;
  }
  }
  complete(st, tl::unexpected(deadline_error(*st->o.deadline, what)));
}

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
  // Before any traffic: an unusable store or a key that is not the
  // certificate's would otherwise read as an origin fault (a predicted 525/526).
  if (!o.trust_store.empty())
    if (auto ok = handshake::preload_trust_store(o.trust_store); !ok)
      return tl::unexpected(ok.error());
  if (!o.client_cert.empty())
    if (auto ok = handshake::check_client_certificate(o.client_cert, o.client_key); !ok)
      return tl::unexpected(ok.error());
  auto& forced_cdn = st.forced_cdn;
  if (o.cdn != "auto") {
    auto p = find_profile(o.cdn, o.variants);
    if (!p)
      return tl::unexpected(p.error());
    forced_cdn = *p;
  } else {
    for (const auto& v : o.variants) // applied once the CDN is known; the syntax now
      if (auto choice = profiles::parse_variant_choice(v); !choice)
        return tl::unexpected(choice.error());
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
  if (!forced_cdn && !o.variants.empty()) {
    auto chosen = find_profile(report.cdn.id, o.variants);
    if (!chosen)
      return tl::unexpected(chosen.error());
    report.cdn = std::move(*chosen);
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
  complete(st, std::move(st->report));
}

// Stage 5: compare. Stage 6, only when a cipher/group/version finding needs
// explaining: enumerate what those origins accept, then compare again.
void finish(std::shared_ptr<DiagnoseState> st, std::vector<handshake::ProbeResult> probes) {
  auto& report = st->report;
  report.probes = std::move(probes);
  report.diagnosis = compare::diagnose(diagnose_input(*st));
  auto wanted = compare::wants_capabilities(report.diagnosis, report.origins, st->o.capabilities);
  if (wanted.empty()) {
    done(st);
    return;
  }
  auto sni = compare::cdn_sni(report.cdn, report.host, st->o.sni);
  st->pending = static_cast<int>(wanted.size());
  st->stage = DiagnoseState::Stage::capabilities;
  for (const auto& endpoint : wanted)
    st->enumerate_names.push_back(endpoint.to_string());
  st->enumerate_done.assign(wanted.size(), false);
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    handshake::enumerate::EnumerateSpec spec;
    spec.target = wanted[i];
    spec.sni = sni;
    spec.timeout = st->o.timeout;
    handshake::enumerate::start_enumerate(
        *st->io, spec, [st, i](handshake::enumerate::EnumerateResult r) {
          if (st->completed)
            return; // the deadline ended the run
          st->enumerate_done[i] = true;
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
    asio::post(io, [st, e = ok.error()] { complete(st, tl::unexpected(e)); });
    return;
  }
  if (st->o.deadline) {
    st->deadline = std::make_unique<asio::steady_timer>(io, *st->o.deadline);
    st->deadline->async_wait([st](std::error_code ec) {
      if (!ec)
        deadline_reached(st);
    });
  }
  // Each probe is its own start() call so that the deadline can say which ones
  // finished; a shared budget keeps the run's caps (and one SSL_CTX cache).
  if (!limits.shared)
    limits.shared = handshake::make_shared_budget(limits.max_in_flight, limits.max_per_address);
  // Stage 2: every DNS query at once; stage 3 and 4 run when the last answers.
  auto after_dns = [st, &io, limits] {
    if (st->completed || --st->pending > 0)
      return;
    auto specs = choose(*st);
    if (!specs) {
      complete(st, tl::unexpected(specs.error()));
      return;
    }
    st->stage = DiagnoseState::Stage::probes;
    const std::size_t n = specs->size();
    st->probe_results.resize(n);
    st->probe_done.assign(n, false);
    st->probes_left = n;
    for (const auto& spec : *specs)
      st->probe_names.push_back(spec.label + " " + spec.target.to_string());
    if (n == 0) {
      asio::post(io, [st] {
        if (!st->completed)
          finish(st, {});
      });
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      handshake::start(io, {std::move((*specs)[i])}, limits,
                       [st, i](std::vector<handshake::ProbeResult> r) {
                         if (st->completed)
                           return; // the deadline ended the run
                         st->probe_done[i] = true;
                         if (!r.empty())
                           st->probe_results[i] = std::move(r.front());
                         if (--st->probes_left == 0)
                           finish(st, std::move(st->probe_results));
                       });
    }
  };
  st->pending = 1 + (st->need_host ? 1 : 0) + static_cast<int>(st->origin_inputs.size());
  if (st->need_host) {
    st->dns_names.push_back(st->report.host);
    st->dns_done.push_back(false);
  }
  // Where each origin's lookup is in dns_names (IP literals need none).
  std::vector<std::size_t> dns_index(st->origin_inputs.size(), std::string::npos);
  for (std::size_t i = 0; i < st->origin_inputs.size(); ++i) {
    if (st->origin_inputs[i].is_ip)
      continue;
    dns_index[i] = st->dns_names.size();
    st->dns_names.push_back(st->origin_inputs[i].host);
    st->dns_done.push_back(false);
  }
  if (st->need_host) {
    resolver.resolve(st->report.host, [st, after_dns](resolve::ResolveResult r) {
      if (st->completed)
        return;
      st->dns_done[0] = true;
      st->report.host_resolution = std::move(r);
      after_dns();
    });
  }
  st->report.origin_resolutions.resize(st->origin_inputs.size());
  for (std::size_t i = 0; i < st->origin_inputs.size(); ++i) {
    resolver.expand(st->origin_inputs[i], st->port,
                    [st, i, d = dns_index[i], after_dns](resolve::TargetsResult r) {
                      if (st->completed)
                        return;
                      if (d != std::string::npos)
                        st->dns_done[d] = true;
                      st->report.origin_resolutions[i] = std::move(r);
                      after_dns();
                    });
  }
  asio::post(io, after_dns); // the "1 +": also completes a run with no DNS at all
}

int run_diagnose(const DiagnoseOptions& options,
                 const std::function<int(const Result<DiagnoseReport>&)>& render) {
  auto ropts = resolver_options(options);
  asio::io_context io;
  auto resolver = resolve::Resolver::create(io, ropts); // checks ropts first
  if (!resolver)
    return render(tl::unexpected(resolver.error()));
  std::optional<Result<DiagnoseReport>> result;
  start_diagnose(io, **resolver, options, handshake::RunLimits{}, [&](Result<DiagnoseReport> r) {
    // A deadline leaves probes, lookups or enumerations in flight: stop the
    // loop now instead of waiting for their own timeouts.
    if (!r && is_deadline_error(r.error()))
      io.stop();
    result = std::move(r);
  });
  io.run();
  if (!result)
    return render(fail(ErrorCode::runtime, "diagnosis did not complete (event loop ended early)"));
  const int code = render(*result);
  if (!*result && is_deadline_error(result->error()))
    exit_abandoning(code); // what was in flight is not unwound (cmd/command.hpp)
  return code;
}

} // namespace edgeshake::cmd
