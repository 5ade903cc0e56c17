// Helpers shared by the rules: predictions per mode, evidence lines.
#include "compare/rules/rule.hpp"

#include "common/tls_registry.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace edgeshake::compare::rules {

const ProbeResult* OriginView::get(std::string_view label) const {
  for (const auto* p : probes) {
    if (p->spec.label == label)
      return p;
  }
  return nullptr;
}

std::vector<ModeResult> Context::predict_failure(FailureClass c) const {
  std::vector<ModeResult> out;
  for (const auto* m : modes) {
    std::string r =
        m->transport == profiles::Transport::plaintext ? "untested" : cdn().error_for(*m, c);
    out.push_back({m->name, m->label, r});
  }
  return out;
}

std::vector<ModeResult> Context::predict_ok() const {
  std::vector<ModeResult> out;
  for (const auto* m : modes) {
    out.push_back(
        {m->name, m->label, m->transport == profiles::Transport::plaintext ? "untested" : "ok"});
  }
  return out;
}

std::vector<ModeResult> Context::predict_certificate(bool name_only) const {
  std::vector<ModeResult> out;
  for (const auto* m : modes) {
    std::string r = "ok";
    if (m->transport == profiles::Transport::plaintext) {
      r = "untested";
    } else if (m->verify == profiles::Verify::chain_and_name ||
               (m->verify == profiles::Verify::chain && !name_only)) {
      r = cdn().error_for(*m, FailureClass::certificate_invalid);
    }
    out.push_back({m->name, m->label, r});
  }
  return out;
}

bool is_failure_result(std::string_view result) {
  return result != "ok" && result != "untested";
}

Severity severity_of(const std::vector<ModeResult>& predicted) {
  bool any = std::any_of(predicted.begin(), predicted.end(),
                         [](const ModeResult& m) { return is_failure_result(m.result); });
  return any ? Severity::failure : Severity::warning;
}

namespace {

std::string offered(const ProbeResult& r) {
  const auto& p = *r.spec.profile;
  std::vector<TlsVersion> versions = p.versions;
  if (r.spec.overrides.only_version)
    versions = {*r.spec.overrides.only_version};
  std::string v = join_versions(versions);
  const auto& ciphers = r.spec.overrides.ciphers ? *r.spec.overrides.ciphers : p.ciphers;
  const auto& groups = r.spec.overrides.groups ? *r.spec.overrides.groups : p.groups;
  std::string c = ciphers.size() == 2 && ciphers[0] == "ALL"
                      ? std::string("all suites")
                      : fmt::format("{} suites", ciphers.size());
  std::string g = groups.size() > 6 ? std::string("all groups")
                                    : fmt::format("groups {}", fmt::join(groups, ","));
  std::string sni = r.spec.sni ? "SNI " + *r.spec.sni : std::string("no SNI");
  std::string cert = r.spec.client_cert ? ", client certificate" : "";
  return fmt::format("{} {}, {}, {}, {}{}", p.id, v, c, g, sni, cert);
}

// A wire probe: which hello, its size and segments, and the swap it makes.
std::string offered_wire(const ProbeResult& r) {
  const auto& p = *r.spec.profile;
  std::string what = fmt::format("{}'s exact hello", p.id);
  if (!r.wire.hello_label.empty())
    what = fmt::format("{}'s '{}' hello", p.id, r.wire.hello_label);
  if (r.spec.wire.every_suite)
    what += " with every cipher suite";
  if (r.spec.wire.every_group)
    what += " with every group";
  std::string size = fmt::format("{} bytes", r.wire.hello_bytes);
  if (r.wire.segments > 1)
    size += fmt::format(" in {} TCP segments", r.wire.segments);
  else if (r.spec.wire.one_segment)
    size += " in one TCP segment";
  std::string sni = r.spec.sni ? "SNI " + *r.spec.sni : std::string("no SNI");
  return fmt::format("{} ({}, {})", what, size, sni);
}

} // namespace

std::string describe(const ProbeResult& r) {
  if (r.spec.engine == handshake::Engine::wire) {
    std::string got;
    if (r.status == handshake::ProbeStatus::ok) {
      got = fmt::format("ServerHello {} {}", r.version ? to_string(*r.version) : "?", r.cipher);
      if (!r.group.empty())
        got += " " + r.group;
    } else if (r.alert && r.alert->received) {
      got = fmt::format("alert {} {} (sent by the origin)", r.alert->code, r.alert->name);
    } else if (!r.wire.refusal.empty()) {
      got = "the client gives up: the server " + r.wire.refusal;
    } else {
      got = std::string(to_string(r.status));
      if (!r.reason.empty())
        got += ": " + r.reason;
    }
    if (r.wire.hrr_group) {
      const auto* g = tls::find_group(*r.wire.hrr_group);
      const auto hrr =
          fmt::format("HelloRetryRequest for {}",
                      g ? std::string(g->name) : fmt::format("0x{:04X}", *r.wire.hrr_group));
      got = r.wire.second_hello ? hrr + ", second ClientHello -> " + got : hrr + " -> " + got;
    }
    if (r.status == handshake::ProbeStatus::not_tls && !r.first_bytes.empty())
      got += fmt::format(" (reply began \"{}\")", r.first_bytes.substr(0, 40));
    return fmt::format("sent {} -> {}", offered_wire(r), got);
  }
  std::string got;
  using handshake::ProbeStatus;
  switch (r.status) {
  case ProbeStatus::ok:
    got = fmt::format("handshake ok: {} {}", r.version ? to_string(*r.version) : "?", r.cipher);
    if (!r.group.empty())
      got += " " + r.group;
    if (!r.chain.empty())
      got += fmt::format(", certificate {}", r.chain.front().subject);
    break;
  case ProbeStatus::tls_alert:
    if (r.alert) {
      got = fmt::format("alert {} {} ({})", r.alert->code, r.alert->name,
                        r.alert->received ? "sent by the origin" : "sent by us");
    } else {
      got = "TLS alert";
    }
    break;
  default:
    got = std::string(to_string(r.status));
    if (!r.reason.empty())
      got += ": " + r.reason;
  }
  if (r.status == ProbeStatus::not_tls && !r.first_bytes.empty()) {
    got += fmt::format(" (reply began \"{}\")", r.first_bytes.substr(0, 40));
  }
  if (r.http.status == handshake::HttpStatus::ok) {
    got += fmt::format("; HTTP {}", r.http.code);
  } else if (r.http.status == handshake::HttpStatus::timeout) {
    got += "; HTTP: no response in time";
  }
  return fmt::format("offered {} -> {}", offered(r), got);
}

EvidenceItem evidence(const OriginView& o, const ProbeResult& r) {
  return {r.spec.label, o.where(), describe(r)};
}

EvidenceItem evidence(const ProbeResult& r) {
  return {r.spec.label, r.spec.target.to_string(), describe(r)};
}

bool handshake_ok(const ProbeResult* r) {
  return r && r->status == handshake::ProbeStatus::ok;
}

bool handshake_failed(const ProbeResult* r) {
  using handshake::ProbeStatus;
  if (!r)
    return false;
  switch (r->status) {
  case ProbeStatus::tls_alert:
  case ProbeStatus::reset:
  case ProbeStatus::eof:
  case ProbeStatus::protocol_error:
  case ProbeStatus::not_tls:
  case ProbeStatus::handshake_timeout:
    return true;
  default:
    return false;
  }
}

bool is_exact_hello(const ProbeResult& r) {
  const std::string& l = r.spec.label;
  if (r.spec.engine != handshake::Engine::wire)
    return false;
  if (l == probe_label::wire)
    return true;
  const std::string prefix = std::string(probe_label::wire) + "/";
  return l.rfind(prefix, 0) == 0 && l.find('/', prefix.size()) == std::string::npos;
}

std::vector<const ProbeResult*> exact_hellos(const OriginView& o) {
  std::vector<const ProbeResult*> out;
  for (const auto* p : o.probes)
    if (is_exact_hello(*p))
      out.push_back(p);
  std::sort(out.begin(), out.end(), [](const ProbeResult* a, const ProbeResult* b) {
    return a->spec.hello < b->spec.hello;
  });
  return out;
}

namespace {
bool wire_failed(const ProbeResult* r) {
  return r && r->status != handshake::ProbeStatus::ok;
}
} // namespace

bool edge_any_failed(const OriginView& o) {
  auto hellos = exact_hellos(o);
  if (hellos.empty())
    return handshake_failed(o.get(probe_label::primary));
  return std::any_of(hellos.begin(), hellos.end(), wire_failed);
}

bool edge_all_failed(const OriginView& o) {
  auto hellos = exact_hellos(o);
  if (hellos.empty())
    return handshake_failed(o.get(probe_label::primary));
  return std::all_of(hellos.begin(), hellos.end(), wire_failed);
}

bool edge_accepted(const OriginView& o) {
  auto hellos = exact_hellos(o);
  return !hellos.empty() && std::none_of(hellos.begin(), hellos.end(), wire_failed);
}

const ProbeResult* edge_failure(const OriginView& o) {
  const auto hellos = exact_hellos(o);
  for (const auto* p : hellos)
    if (wire_failed(p))
      return p;
  if (!hellos.empty())
    return nullptr; // the edge's hellos judge: all accepted (OpenSSL's failure is not the edge's)
  const auto* primary = o.get(probe_label::primary);
  return handshake_failed(primary) ? primary : nullptr;
}

const ProbeResult* certificate_source(const OriginView& o) {
  const auto* primary = o.get(probe_label::primary);
  if (handshake_ok(primary))
    return primary->chain.empty() ? nullptr : primary;
  if (!edge_accepted(o))
    return nullptr;
  if (const auto* p = o.get(probe_label::permissive); handshake_ok(p) && !p->chain.empty())
    return p;
  for (const auto* p : exact_hellos(o))
    if (!p->chain.empty())
      return p;
  return nullptr;
}

std::vector<std::string> whole_hello(const Context& ctx) {
  std::vector<std::string> out;
  for (auto name : profiles::hello_field_names())
    if (ctx.cdn().provenance.count(std::string(name)))
      out.emplace_back(name);
  return out;
}

bool alert_is(const ProbeResult* r, int code) {
  return r && r->alert && r->alert->code == code;
}

bool has_failure(const std::vector<Finding>& so_far, const OriginView& o) {
  return std::any_of(so_far.begin(), so_far.end(), [&](const Finding& f) {
    return f.target == o.where() && f.severity == Severity::failure;
  });
}

bool has_id(const std::vector<Finding>& so_far, const OriginView& o, std::string_view id) {
  return std::any_of(so_far.begin(), so_far.end(),
                     [&](const Finding& f) { return f.target == o.where() && f.id == id; });
}

std::vector<TlsVersion> accepted_versions(const OriginView& o) {
  std::vector<TlsVersion> out;
  for (TlsVersion v : k_all_tls_versions) {
    const auto* r = o.get(std::string(probe_label::version) + "/" + std::string(to_string(v)));
    if (handshake_ok(r))
      out.push_back(v);
  }
  return out;
}

std::string join_versions(const std::vector<TlsVersion>& v) {
  if (v.empty())
    return "none";
  std::vector<std::string> names;
  for (auto x : v)
    names.emplace_back(to_string(x));
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string human_age(std::chrono::seconds s) {
  long long secs = std::llabs(s.count());
  if (secs >= 2 * 86400)
    return fmt::format("{} days", secs / 86400);
  if (secs >= 2 * 3600)
    return fmt::format("{} hours", secs / 3600);
  if (secs >= 120)
    return fmt::format("{} minutes", secs / 60);
  return fmt::format("{} seconds", secs);
}

Finding make_finding(std::string_view id, const OriginView* o, std::vector<ModeResult> predicted) {
  Finding f;
  f.id = std::string(id);
  f.target = o ? o->where() : "all origins";
  f.severity = severity_of(predicted);
  f.predicted = std::move(predicted);
  return f;
}

} // namespace edgeshake::compare::rules
