// Rule tests on hand-built results: each row breaks one probe the way a real
// misconfiguration does and checks the finding id, severity, the predicted
// result in Full and Full (strict), and the evidence. The same causes are
// produced against real servers in tests/e2e.
#include "tests/compare/fixtures.hpp"
#include "tests/support/hellos.hpp"

#include <gtest/gtest.h>

using namespace edgeshake;
using namespace edgeshake::testing;

namespace {

void expect_failure(const Diagnosis& d, const std::string& id, const std::string& full,
                    const std::string& strict, const std::string& evidence_probe) {
  const Finding* f = find_id(d, id);
  ASSERT_NE(f, nullptr) << "no finding " << id << "; first is " << d.findings.front().id;
  EXPECT_EQ(f->severity, Severity::failure);
  EXPECT_EQ(result_for(*f, "full"), full);
  EXPECT_EQ(result_for(*f, "strict"), strict);
  EXPECT_EQ(result_for(*f, "flexible"), "untested");
  bool named = false;
  for (const auto& e : f->evidence)
    named = named || e.probe == evidence_probe;
  EXPECT_TRUE(named) << id << " evidence does not name probe " << evidence_probe;
  EXPECT_FALSE(f->summary.empty());
  EXPECT_FALSE(f->fixes.empty());
  EXPECT_EQ(verdict_for(d, "full"), full);
  EXPECT_EQ(verdict_for(d, "strict"), strict);
}

} // namespace

TEST(Rules, HealthyOriginHasNoProblem) {
  Scenario s;
  auto d = s.run();
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].id, "none");
  EXPECT_TRUE(d.ok());
  EXPECT_EQ(verdict_for(d, "strict"), "ok");
  EXPECT_EQ(verdict_for(d, "flexible"), "untested");
}

TEST(Rules, ConnectionRefused) {
  Scenario s;
  auto& p = s.get("primary");
  p = ProbeResult{};
  p.spec.label = "primary";
  p.spec.target = s.origin;
  p.spec.profile = s.cdn;
  p.status = ProbeStatus::tcp_refused;
  auto d = s.run();
  expect_failure(d, "connection_refused", "521", "521", "primary");
  EXPECT_FALSE(d.ok());
}

TEST(Rules, NotTls) {
  Scenario s;
  auto& p = s.get("primary");
  p.status = ProbeStatus::not_tls;
  p.first_bytes = "HTTP/1.1 400 Bad Request";
  auto d = s.run();
  expect_failure(d, "not_tls", "525", "525", "primary");
  EXPECT_NE(find_id(d, "not_tls")->summary.find("plain HTTP"), std::string::npos);
}

TEST(Rules, ExpiredCertificateFailsOnlyStrict) {
  Scenario s;
  auto& p = s.get("primary");
  p.chain[0].not_after = fixed_now() - std::chrono::days(12);
  p.verification.chain_ok = false;
  p.verification.code = 10;
  p.verification.text = "certificate has expired";
  p.verification.depth = 0;
  auto d = s.run();
  expect_failure(d, "cert_expired", "ok", "526", "primary");
  EXPECT_NE(find_id(d, "cert_expired")->summary.find("12 days"), std::string::npos);
  EXPECT_EQ(find_id(d, "cert_verify_failed"), nullptr);
}

TEST(Rules, SelfSignedAndIncompleteChainAndUntrustedRoot) {
  {
    Scenario s;
    auto& p = s.get("primary");
    p.chain.resize(1);
    p.chain[0].issuer = p.chain[0].subject;
    p.chain[0].self_issued = true;
    p.verification.chain_ok = false;
    p.verification.code = 18;
    expect_failure(s.run(), "self_signed", "ok", "526", "primary");
  }
  {
    Scenario s;
    auto& p = s.get("primary");
    p.chain.resize(1);
    p.verification.chain_ok = false;
    p.verification.code = 21;
    auto d = s.run();
    expect_failure(d, "incomplete_chain", "ok", "526", "primary");
    EXPECT_EQ(find_id(d, "untrusted_root"), nullptr);
  }
  {
    Scenario s;
    auto& p = s.get("primary");
    p.verification.chain_ok = false;
    p.verification.code = 20;
    p.verification.depth = 1;
    expect_failure(s.run(), "untrusted_root", "ok", "526", "primary");
  }
}

TEST(Rules, HostnameMismatch) {
  Scenario s;
  auto& p = s.get("primary");
  p.verification.hostname_ok = false;
  p.chain[0].dns_names = {"other.example.test"};
  auto d = s.run();
  expect_failure(d, "hostname_mismatch", "ok", "526", "primary");
  EXPECT_NE(find_id(d, "hostname_mismatch")->summary.find("other.example.test"), std::string::npos);
}

TEST(Rules, CloudflareOriginCaTrustedOnlyInCloudflareStrict) {
  Scenario s;
  auto& p = s.get("primary");
  p.chain.resize(1);
  p.chain[0].issuer = "OU=CloudFlare Origin SSL Certificate Authority,O=CloudFlare, Inc.";
  p.verification.chain_ok = false;
  p.verification.code = 20;
  auto d = s.run();
  const Finding* f = find_id(d, "cf_origin_ca");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::info);
  EXPECT_EQ(result_for(*f, "strict"), "ok");
  EXPECT_EQ(find_id(d, "incomplete_chain"), nullptr);
  EXPECT_TRUE(d.ok());

  // The same certificate behind a CDN that verifies and does not trust it.
  auto other = cloudflare_like();
  other.modes[2].extra_trust.clear();
  Scenario s2(other);
  s2.get("primary") = p;
  s2.get("primary").spec.profile = other;
  auto d2 = s2.run();
  ASSERT_NE(find_id(d2, "cf_origin_ca"), nullptr);
  EXPECT_EQ(find_id(d2, "cf_origin_ca")->severity, Severity::failure);
  EXPECT_EQ(verdict_for(d2, "strict"), "526");
}

TEST(Rules, ProtocolMismatchAndLegacyOnly) {
  // Origin speaks TLS 1.0 only; a CDN offering TLS 1.2+ cannot connect.
  auto modern = cloudflare_like();
  modern.versions = {TlsVersion::tls1_2, TlsVersion::tls1_3};
  Scenario s(modern);
  s.get("primary") = alert_result("primary", s.origin, modern, 70, "protocol_version");
  for (auto v : {"TLSv1.1", "TLSv1.2", "TLSv1.3"}) {
    s.get(std::string("version/") + v) =
        alert_result(std::string("version/") + v, s.origin, modern, 70, "protocol_version");
  }
  auto d = s.run();
  expect_failure(d, "legacy_protocol_only", "525", "525", "version/TLSv1");

  // Cloudflare still offers TLS 1.0: only a warning.
  Scenario w;
  for (auto v : {"TLSv1.1", "TLSv1.2", "TLSv1.3"}) {
    w.get(std::string("version/") + v) =
        alert_result(std::string("version/") + v, w.origin, w.cdn, 70, "protocol_version");
  }
  w.get("primary").version = TlsVersion::tls1_0;
  auto dw = w.run();
  ASSERT_NE(find_id(dw, "legacy_protocol_only"), nullptr);
  EXPECT_EQ(find_id(dw, "legacy_protocol_only")->severity, Severity::warning);
  EXPECT_TRUE(dw.ok());

  // Origin TLS 1.3 only vs a CDN offering up to TLS 1.2.
  auto old = cloudflare_like();
  old.versions = {TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2};
  Scenario m(old);
  m.get("primary") = alert_result("primary", m.origin, old, 70, "protocol_version");
  for (auto v : {"TLSv1", "TLSv1.1", "TLSv1.2"}) {
    m.get(std::string("version/") + v) =
        alert_result(std::string("version/") + v, m.origin, old, 70, "protocol_version");
  }
  expect_failure(m.run(), "protocol_mismatch", "525", "525", "version/TLSv1.3");
}

TEST(Rules, NoCipherOverlapVersusNoGroupOverlap) {
  {
    Scenario s;
    s.get("primary") = alert_result("primary", s.origin, s.cdn, 40, "handshake_failure");
    s.get("profile_any_group") =
        alert_result("profile_any_group", s.origin, s.cdn, 40, "handshake_failure");
    auto& ac = s.get("profile_any_cipher");
    ac.version = TlsVersion::tls1_2;
    ac.cipher = "DHE-RSA-AES256-GCM-SHA384";
    auto d = s.run();
    expect_failure(d, "no_cipher_overlap", "525", "525", "profile_any_cipher");
    EXPECT_NE(find_id(d, "no_cipher_overlap")->summary.find("DHE-RSA-AES256-GCM-SHA384"),
              std::string::npos);
    EXPECT_EQ(find_id(d, "tls_handshake_failed"), nullptr);
  }
  {
    Scenario s;
    s.get("primary") = alert_result("primary", s.origin, s.cdn, 40, "handshake_failure");
    s.get("profile_any_cipher") =
        alert_result("profile_any_cipher", s.origin, s.cdn, 40, "handshake_failure");
    s.get("profile_any_group").group = "secp521r1";
    auto d = s.run();
    expect_failure(d, "no_group_overlap", "525", "525", "profile_any_group");
  }
  {
    Scenario s; // TLS 1.3 suites only
    s.get("primary") = alert_result("primary", s.origin, s.cdn, 40, "handshake_failure");
    s.get("profile_any_group") =
        alert_result("profile_any_group", s.origin, s.cdn, 40, "handshake_failure");
    s.get("profile_any_cipher").cipher = "TLS_AES_128_CCM_SHA256";
    expect_failure(s.run(), "no_tls13_cipher_overlap", "525", "525", "profile_any_cipher");
  }
  {
    Scenario s; // ECDSA certificate, TLS 1.1 only: Cloudflare has no ECDSA suite there
    s.get("primary") = alert_result("primary", s.origin, s.cdn, 40, "handshake_failure");
    s.get("profile_any_group") =
        alert_result("profile_any_group", s.origin, s.cdn, 40, "handshake_failure");
    auto& ac = s.get("profile_any_cipher");
    ac.version = TlsVersion::tls1_1;
    ac.cipher = "ECDHE-ECDSA-AES128-SHA";
    ac.chain[0].key_type = "EC";
    ac.chain[0].key_bits = 256;
    expect_failure(s.run(), "cert_type_cipher_mismatch", "525", "525", "profile_any_cipher");
  }
}

TEST(Rules, SniRequiredIsAWarningForCloudflareAndAFailureForNginxProxy) {
  Scenario s;
  s.get("no_sni") = alert_result("no_sni", s.origin, s.cdn, 112, "unrecognized_name");
  s.get("no_sni").spec.sni.reset();
  auto d = s.run();
  const Finding* f = find_id(d, "sni_required");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::warning);
  EXPECT_TRUE(d.ok());

  Scenario n(nginx_proxy_like());
  n.probes.erase(std::remove_if(n.probes.begin(), n.probes.end(),
                                [](const ProbeResult& p) { return p.spec.label == "no_sni"; }),
                 n.probes.end());
  n.get("primary") = alert_result("primary", n.origin, n.cdn, 112, "unrecognized_name");
  n.get("primary").spec.sni.reset();
  n.get("with_sni");
  auto dn = n.run();
  const Finding* fn = find_id(dn, "sni_required");
  ASSERT_NE(fn, nullptr);
  EXPECT_EQ(fn->severity, Severity::failure);
  EXPECT_EQ(result_for(*fn, "default"), "502");
  EXPECT_EQ(find_id(dn, "sni_unknown_rejected"), nullptr);
}

TEST(Rules, SniUnknownRejected) {
  Scenario s;
  s.get("primary") = alert_result("primary", s.origin, s.cdn, 112, "unrecognized_name");
  expect_failure(s.run(), "sni_unknown_rejected", "525", "525", "primary");
}

TEST(Rules, ClientCertificateRequired) {
  {
    Scenario s;
    auto& p = s.get("primary");
    p = alert_result("primary", s.origin, s.cdn, 116, "certificate_required");
    p.client_cert_requested = true;
    p.client_ca_names = {"CN=origin-pull.cloudflare.net"};
    auto d = s.run();
    expect_failure(d, "client_cert_required_handshake", "525", "525", "primary");
    EXPECT_NE(find_id(d, "client_cert_required_handshake")->explanation.find("origin-pull"),
              std::string::npos);
  }
  {
    Scenario s;
    auto& p = s.get("primary");
    p.client_cert_requested = true;
    p.http.status = handshake::HttpStatus::ok;
    p.http.code = 400;
    expect_failure(s.run(), "client_cert_required_http", "400", "400", "primary");
  }
}

TEST(Rules, HandshakeTimeoutAndHttpTimeout) {
  {
    Scenario s;
    s.get("primary").status = ProbeStatus::handshake_timeout;
    expect_failure(s.run(), "tls_handshake_timeout", "525", "525", "primary");
  }
  {
    Scenario s;
    s.get("primary").http.status = handshake::HttpStatus::timeout;
    expect_failure(s.run(), "http_response_timeout", "524", "524", "primary");
  }
}

TEST(Rules, UnexplainedFailureStillFails) {
  Scenario s;
  s.get("primary") = alert_result("primary", s.origin, s.cdn, 80, "internal_error");
  auto d = s.run();
  expect_failure(d, "tls_handshake_failed", "525", "525", "primary");
}

TEST(Rules, ClockSkew) {
  Scenario s;
  s.get("primary").http.status = handshake::HttpStatus::ok;
  s.get("primary").http.code = 200;
  s.get("primary").http.date = fixed_now() - std::chrono::hours(3);
  auto d = s.run();
  const Finding* f = find_id(d, "clock_skew");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::warning);
  EXPECT_NE(f->summary.find("3 hours ahead"), std::string::npos) << f->summary;
}

TEST(Rules, BackendsDiffer) {
  Scenario s;
  Endpoint second{"127.0.0.2", 8443};
  auto bad = ok_result("primary", second, s.cdn);
  bad.chain[0].not_after = fixed_now() - std::chrono::days(1);
  bad.chain[0].sha256 = "CC:DD";
  s.probes.push_back(bad);
  DiagnoseInput in;
  in.host = "www.example.test";
  in.cdn = s.cdn;
  in.origins = {{"origin", s.origin}, {"origin", second}};
  in.probes = s.probes;
  in.now = fixed_now();
  auto d = diagnose(in);
  const Finding* f = find_id(d, "backends_differ");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::failure);
  EXPECT_EQ(result_for(*f, "strict"), "526");
  EXPECT_EQ(result_for(*f, "full"), "ok");
  ASSERT_NE(find_id(d, "cert_expired"), nullptr);
  EXPECT_EQ(find_id(d, "cert_expired")->target, "127.0.0.2:8443");
}

TEST(Rules, ModeSelectionLimitsVerdicts) {
  Scenario s;
  auto d = s.run({"strict"});
  ASSERT_EQ(d.verdicts.size(), 1u);
  EXPECT_EQ(d.verdicts[0].mode, "strict");
}

TEST(Rules, EveryRegisteredIdIsDocumented) {
  std::string docs;
  {
    FILE* f = std::fopen(EDGESHAKE_SOURCE_DIR "/docs/rules.md", "r");
    ASSERT_NE(f, nullptr) << "docs/rules.md missing";
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
      docs.append(buf, n);
    std::fclose(f);
  }
  for (const auto& id : finding_ids()) {
    EXPECT_NE(docs.find("### `" + id + "`"), std::string::npos) << id << " not in docs/rules.md";
  }
}

TEST(Rules, CapabilitiesExplainCipherFindingsOnly) {
  Scenario s;
  s.get("primary") = alert_result("primary", s.origin, s.cdn, 40, "handshake_failure");
  s.get("profile_any_group") =
      alert_result("profile_any_group", s.origin, s.cdn, 40, "handshake_failure");
  auto& ac = s.get("profile_any_cipher");
  ac.version = TlsVersion::tls1_2;
  ac.cipher = "ECDHE-RSA-CHACHA20-POLY1305";
  DiagnoseInput in;
  in.host = "www.example.test";
  in.cdn = s.cdn;
  in.origins = {{"origin", s.origin}};
  in.probes = s.probes;
  in.now = fixed_now();
  auto first = diagnose(in);
  auto wanted = wants_capabilities(first, in.origins);
  ASSERT_EQ(wanted.size(), 1u);
  EXPECT_EQ(wanted[0], s.origin);
  in.capabilities = {
      {s.origin, {{TlsVersion::tls1_2, {"ECDHE-RSA-CHACHA20-POLY1305"}}}, {"x25519"}, 7}};
  auto second = diagnose(in);
  const Finding* f = find_id(second, "no_cipher_overlap");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->explanation.find("accepts only TLSv1.2: ECDHE-RSA-CHACHA20-POLY1305"),
            std::string::npos);
  EXPECT_EQ(f->evidence.back().probe, "enumerate");

  Scenario healthy;
  EXPECT_TRUE(wants_capabilities(healthy.run(), {{"origin", healthy.origin}}).empty());
  Scenario expired;
  expired.get("primary").chain[0].not_after = fixed_now() - std::chrono::days(1);
  EXPECT_TRUE(wants_capabilities(expired.run(), {{"origin", expired.origin}}).empty());
}

namespace {

// The Scenario with the two hellos a Cloudflare-like edge may send on the wire
// (classical, post_quantum; the latter also in one segment), all accepted.
Scenario wire_scenario() {
  auto p = cloudflare_like();
  p.hellos = {pingora_hello(false), pingora_hello(true)};
  p.hello = p.hellos.front();
  Scenario s(p);
  auto wire = [&](const std::string& label, std::size_t hello, std::size_t segments) {
    auto& r = s.get(label);
    r.spec.engine = handshake::Engine::wire;
    r.spec.hello = hello;
    r.wire.performed = true;
    r.wire.accepted = true;
    r.wire.response = "server_hello";
    r.wire.hello_label = p.hellos[hello].label;
    r.wire.hello_bytes = hello == 0 ? 274 : 1494;
    r.wire.segments = segments;
    r.wire.group = hello == 0 ? 29 : 0x11ec;
    r.version = TlsVersion::tls1_3;
    r.chain.clear(); // TLS 1.3: the certificate is encrypted, the wire probe does not read it
  };
  wire("wire/classical", 0, 1);
  wire("wire/post_quantum", 1, 2);
  wire("wire/post_quantum/one_segment", 1, 1);
  return s;
}

void refuse(ProbeResult& r, ProbeStatus status) {
  r.status = status;
  r.phase = handshake::ProbePhase::handshake;
  r.wire.accepted = false;
  r.wire.group.reset();
  r.wire.response = status == ProbeStatus::reset ? "reset" : "alert";
  if (status == ProbeStatus::tls_alert)
    r.alert = handshake::Alert{true, 2, 40, "handshake_failure"};
}

} // namespace

TEST(Rules, WireHellosAllAcceptedIsHealthy) {
  auto d = wire_scenario().run();
  ASSERT_EQ(d.findings.size(), 1u) << d.findings.front().id;
  EXPECT_EQ(d.findings[0].id, "none");
}

TEST(Rules, PostQuantumKeyShareRejected) {
  auto s = wire_scenario();
  refuse(s.get("wire/post_quantum"), ProbeStatus::tls_alert);
  refuse(s.get("wire/post_quantum/one_segment"), ProbeStatus::tls_alert);
  auto d = s.run();
  expect_failure(d, "post_quantum_key_share_rejected", "525", "525", "wire/post_quantum");
  const auto* f = find_id(d, "post_quantum_key_share_rejected");
  EXPECT_NE(f->summary.find("X25519MLKEM768"), std::string::npos) << f->summary;
  EXPECT_EQ(find_id(d, "split_client_hello_dropped"), nullptr);
  // Cloudflare's own setting is among the fixes.
  bool setting = false;
  for (const auto& fix : f->fixes)
    setting = setting || fix.server == "cloudflare";
  EXPECT_TRUE(setting);
}

TEST(Rules, SplitHelloDroppedOnlyWhenOneSegmentWorks) {
  {
    auto s = wire_scenario();
    refuse(s.get("wire/post_quantum"), ProbeStatus::reset);
    auto d = s.run();
    expect_failure(d, "split_client_hello_dropped", "525", "525", "wire/post_quantum");
    EXPECT_EQ(find_id(d, "post_quantum_key_share_rejected"), nullptr);
  }
  {
    // The same reset in one segment: it is the key share, not the split.
    auto s = wire_scenario();
    refuse(s.get("wire/post_quantum"), ProbeStatus::reset);
    refuse(s.get("wire/post_quantum/one_segment"), ProbeStatus::reset);
    auto d = s.run();
    EXPECT_EQ(find_id(d, "split_client_hello_dropped"), nullptr);
    EXPECT_NE(find_id(d, "post_quantum_key_share_rejected"), nullptr);
  }
}

TEST(Rules, HelloRetryFailed) {
  auto s = wire_scenario();
  for (const char* l : {"wire/classical", "wire/post_quantum", "wire/post_quantum/one_segment"}) {
    auto& r = s.get(l);
    refuse(r, ProbeStatus::tls_alert);
    r.wire.hrr_group = 25;
    r.wire.second_hello = true;
  }
  auto d = s.run();
  expect_failure(d, "hello_retry_failed", "525", "525", "wire/classical");
  EXPECT_NE(find_id(d, "hello_retry_failed")->summary.find("secp521r1"), std::string::npos);
}

// The edge's hellos are accepted, OpenSSL completes no handshake and no probe
// read the certificate: the modes that verify it are untested, not ok.
TEST(Rules, AcceptedOnTheWireWithoutACertificateIsUntested) {
  auto s = wire_scenario();
  for (const char* l : {"primary", "permissive", "no_sni"})
    s.get(l) = alert_result(l, s.origin, s.cdn, 40, "handshake_failure");
  auto d = s.run();
  const auto* f = find_id(d, "handshake_judged_on_wire");
  ASSERT_NE(f, nullptr) << d.findings.front().id;
  EXPECT_EQ(f->severity, Severity::warning);
  EXPECT_EQ(verdict_for(d, "full"), "ok");
  EXPECT_EQ(verdict_for(d, "strict"), "untested");
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.untested());
  // With the certificate from the permissive probe, strict is judged.
  s.get("permissive") = ok_result("permissive", s.origin, s.cdn);
  auto judged = s.run();
  EXPECT_EQ(verdict_for(judged, "strict"), "ok");
  EXPECT_FALSE(judged.untested());
}
