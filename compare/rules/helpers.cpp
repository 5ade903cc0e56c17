// Helpers shared by the rules: predictions per mode, evidence lines.
#include "compare/rules/rule.hpp"

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

} // namespace

std::string describe(const ProbeResult& r) {
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
