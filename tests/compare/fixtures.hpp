// Hand-built probe results for rule tests: compare/ is pure, so its tests need
// no network. (End-to-end tests against real servers live in tests/e2e.)
#pragma once

#include "compare/compare.hpp"

#include <chrono>
#include <string>

namespace edgeshake::testing {

using namespace edgeshake::compare;
using handshake::ProbeStatus;

inline profiles::Profile cloudflare_like() {
  using profiles::FailureClass;
  profiles::Profile p;
  p.id = "cloudflare";
  p.name = "Cloudflare";
  p.versions = {TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2, TlsVersion::tls1_3};
  p.ciphers = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
               "ECDHE-RSA-AES128-SHA", "AES128-GCM-SHA256", "AES128-SHA"};
  p.tls13_ciphersuites = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"};
  p.groups = {"X25519", "P-256", "P-384"};
  p.sni = profiles::SniPolicy::request_host;
  auto mode = [](std::string name, std::string label, profiles::Transport t, profiles::Verify v) {
    profiles::Mode m;
    m.name = std::move(name);
    m.label = std::move(label);
    m.transport = t;
    m.verify = v;
    return m;
  };
  auto flexible =
      mode("flexible", "Flexible", profiles::Transport::plaintext, profiles::Verify::none);
  auto full = mode("full", "Full", profiles::Transport::tls, profiles::Verify::none);
  auto strict =
      mode("strict", "Full (strict)", profiles::Transport::tls, profiles::Verify::chain_and_name);
  strict.extra_trust = {"cloudflare_origin_ca"};
  p.modes = {flexible, full, strict};
  p.default_mode = "strict";
  p.errors = {{FailureClass::connection_refused, "521"},  {FailureClass::connect_timeout, "522"},
              {FailureClass::handshake_failure, "525"},   {FailureClass::handshake_timeout, "525"},
              {FailureClass::certificate_invalid, "526"}, {FailureClass::response_timeout, "524"},
              {FailureClass::origin_unresolvable, "530"}};
  return p;
}

inline profiles::Profile nginx_proxy_like() {
  auto p = cloudflare_like();
  p.id = "nginx-proxy";
  p.name = "nginx proxy";
  p.sni = profiles::SniPolicy::none;
  p.versions = {TlsVersion::tls1_2, TlsVersion::tls1_3};
  profiles::Mode def;
  def.name = "default";
  def.label = "proxy_ssl_verify off";
  p.modes = {def};
  p.default_mode = "default";
  for (auto& [k, v] : p.errors)
    v = "502";
  return p;
}

inline std::chrono::sys_seconds fixed_now() {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 25} + hours{12};
}

// A healthy result for `label` at `target`.
inline ProbeResult ok_result(const std::string& label, const Endpoint& target,
                             const profiles::Profile& profile) {
  ProbeResult r;
  r.spec.label = label;
  r.spec.target = target;
  r.spec.host = "www.example.test";
  r.spec.sni = "www.example.test";
  r.spec.profile = profile;
  r.status = ProbeStatus::ok;
  r.phase = handshake::ProbePhase::done;
  r.version = TlsVersion::tls1_3;
  r.cipher = "TLS_AES_128_GCM_SHA256";
  r.group = "X25519";
  handshake::CertificateInfo leaf;
  leaf.subject = "CN=www.example.test";
  leaf.issuer = "CN=Example Intermediate";
  leaf.dns_names = {"www.example.test"};
  leaf.not_before = fixed_now() - std::chrono::days(30);
  leaf.not_after = fixed_now() + std::chrono::days(60);
  leaf.key_type = "RSA";
  leaf.key_bits = 2048;
  leaf.signature_algorithm = "sha256WithRSAEncryption";
  leaf.sha256 = "AA:BB";
  handshake::CertificateInfo inter;
  inter.subject = "CN=Example Intermediate";
  inter.issuer = "CN=Example Root";
  inter.is_ca = true;
  inter.not_before = fixed_now() - std::chrono::days(300);
  inter.not_after = fixed_now() + std::chrono::days(3000);
  inter.key_type = "RSA";
  inter.key_bits = 4096;
  inter.signature_algorithm = "sha256WithRSAEncryption";
  r.chain = {leaf, inter};
  r.verification.performed = true;
  r.verification.chain_ok = true;
  r.verification.hostname_ok = true;
  r.verification.text = "ok";
  r.verification.host = "www.example.test";
  return r;
}

inline ProbeResult alert_result(const std::string& label, const Endpoint& target,
                                const profiles::Profile& profile, int code, std::string name) {
  ProbeResult r;
  r.spec.label = label;
  r.spec.target = target;
  r.spec.host = "www.example.test";
  r.spec.sni = "www.example.test";
  r.spec.profile = profile;
  r.status = ProbeStatus::tls_alert;
  r.phase = handshake::ProbePhase::handshake;
  r.alert = handshake::Alert{true, 2, code, std::move(name)};
  return r;
}

// All probes of plan() for one origin, healthy, so a test can break one.
struct Scenario {
  profiles::Profile cdn = cloudflare_like();
  Endpoint origin{"127.0.0.1", 8443};
  std::vector<ProbeResult> probes;

  Scenario() { reset(); }
  explicit Scenario(profiles::Profile p) : cdn(std::move(p)) { reset(); }
  void reset() {
    probes.clear();
    for (const char* l :
         {"primary", "no_sni", "permissive", "profile_any_group", "profile_any_cipher"}) {
      probes.push_back(ok_result(l, origin, cdn));
    }
    for (auto v :
         {TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2, TlsVersion::tls1_3}) {
      auto r = ok_result("version/" + std::string(to_string(v)), origin, cdn);
      r.version = v;
      probes.push_back(r);
    }
  }
  ProbeResult& get(const std::string& label) {
    for (auto& p : probes) {
      if (p.spec.label == label)
        return p;
    }
    probes.push_back(ok_result(label, origin, cdn));
    return probes.back();
  }
  Diagnosis run(std::vector<std::string> modes = {}) const {
    DiagnoseInput in;
    in.host = "www.example.test";
    in.cdn = cdn;
    in.modes = std::move(modes);
    in.origins = {{"origin", origin}};
    in.probes = probes;
    in.now = fixed_now();
    return diagnose(in);
  }
};

inline const Finding* find_id(const Diagnosis& d, const std::string& id) {
  for (const auto& f : d.findings) {
    if (f.id == id)
      return &f;
  }
  return nullptr;
}

inline std::string result_for(const Finding& f, const std::string& mode) {
  for (const auto& m : f.predicted) {
    if (m.mode == mode)
      return m.result;
  }
  return "<no mode " + mode + ">";
}

inline std::string verdict_for(const Diagnosis& d, const std::string& mode) {
  for (const auto& v : d.verdicts) {
    if (v.mode == mode)
      return v.result;
  }
  return "<no mode " + mode + ">";
}

} // namespace edgeshake::testing
