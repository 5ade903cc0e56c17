// The wire probe (Engine::wire) against real servers: what a Cloudflare-like
// edge's exact hello gets, where OpenSSL's approximation of it differs.
#include "handshake/handshake.hpp"
#include "tests/handshake/probe_helpers.hpp"
#include "tests/support/hellos.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/openssl_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_server.hpp"

#include <gtest/gtest.h>

namespace edgeshake::testing {
namespace {

using namespace std::chrono_literals;
using handshake::ProbeStatus;

profiles::Profile wire_profile(bool post_quantum = false) {
  auto p = cloudflare_like_profile();
  p.hello = pingora_hello(post_quantum);
  p.hellos = {p.hello};
  return p;
}

handshake::ProbeSpec wire_spec(std::uint16_t port, const profiles::Profile& p,
                               handshake::WireOverrides o = {}) {
  auto s = loopback_spec(port, p, shared_catalogue(), shared_catalogue().host);
  s.engine = handshake::Engine::wire;
  s.wire = o;
  return s;
}

handshake::ProbeResult run_one(const handshake::ProbeSpec& s) {
  return handshake::run({s}).at(0);
}

TEST(WireProbe, HealthyTls13OriginAcceptsTheClassicalHello) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  OpensslServer server(
      {.cert = c.leaf_ecdsa.cert, .key = c.leaf_ecdsa.key, .chain = c.intermediate.cert});
  auto r = run_one(wire_spec(server.port(), wire_profile()));
  EXPECT_EQ(r.status, ProbeStatus::ok) << r.reason;
  EXPECT_TRUE(r.wire.performed);
  EXPECT_TRUE(r.wire.accepted);
  EXPECT_EQ(r.version, TlsVersion::tls1_3);
  EXPECT_EQ(r.group, "X25519");
  EXPECT_FALSE(r.wire.hrr_group);
  EXPECT_EQ(r.wire.hello_bytes, 266u); // the captured 272 bytes, with SNI origin.test
  EXPECT_TRUE(r.chain.empty());        // TLS 1.3: encrypted
}

// The flip case of issue 13: an origin that accepts only P-521 answers the
// X25519 share with a HelloRetryRequest; the edge sends a second ClientHello.
TEST(WireProbe, P521OnlyOriginIsReachedThroughHelloRetryRequest) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  OpensslServer server({.cert = c.leaf_ecdsa.cert,
                        .key = c.leaf_ecdsa.key,
                        .chain = c.intermediate.cert,
                        .groups = "P-521"});
  auto r = run_one(wire_spec(server.port(), wire_profile()));
  EXPECT_EQ(r.status, ProbeStatus::ok) << r.reason;
  EXPECT_EQ(r.wire.hrr_group, std::optional<std::uint16_t>(25));
  EXPECT_TRUE(r.wire.second_hello);
  EXPECT_EQ(r.group, "P-521");
  EXPECT_EQ(r.version, TlsVersion::tls1_3);
}

// TLS 1.2: the ServerKeyExchange names the curve; the chain arrives in the
// clear and is described and verified like an OpenSSL probe's.
TEST(WireProbe, Tls12FlightGivesGroupChainAndVerification) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  OpensslServer server({.cert = c.leaf_ecdsa.cert,
                        .key = c.leaf_ecdsa.key,
                        .chain = c.intermediate.cert,
                        .groups = "P-521",
                        .no_tls1_3 = true,
                        .verify = 1,
                        .ca_file = c.ca_file});
  auto r = run_one(wire_spec(server.port(), wire_profile()));
  EXPECT_EQ(r.status, ProbeStatus::ok) << r.reason;
  EXPECT_EQ(r.version, TlsVersion::tls1_2);
  EXPECT_EQ(r.group, "P-521");
  EXPECT_EQ(r.wire.signature_scheme, std::optional<std::uint16_t>(0x0403));
  ASSERT_EQ(r.chain.size(), 2u);
  EXPECT_EQ(r.chain[0].sha256, c.leaf_ecdsa.sha256);
  EXPECT_TRUE(r.verification.performed);
  EXPECT_TRUE(r.verification.chain_ok) << r.verification.text;
  EXPECT_TRUE(r.verification.hostname_ok);
  EXPECT_TRUE(r.client_cert_requested); // CertificateRequest, read to ServerHelloDone
}

// The edge offers no Ed25519 or rsa_pss_pss_* scheme: the origin cannot sign.
TEST(WireProbe, CertificateKeysTheEdgeCannotVerifyAreRefused) {
  ES_REQUIRE_PROGRAM("openssl");
  for (auto [key, name] :
       {std::pair{KeySpec::ed25519(), "ed25519"}, std::pair{KeySpec::rsa_pss(2048), "rsa-pss"}}) {
    SCOPED_TRACE(name);
    auto leaf = shared_leaf_with(key, name);
    OpensslServer server(
        {.cert = leaf.cert, .key = leaf.key, .chain = shared_catalogue().intermediate.cert});
    auto r = run_one(wire_spec(server.port(), wire_profile()));
    EXPECT_EQ(r.status, ProbeStatus::tls_alert) << r.reason;
    ASSERT_TRUE(r.alert);
    EXPECT_TRUE(r.alert->received);
    EXPECT_EQ(r.alert->code, 40);
  }
}

// A suite the edge offers only with TLS 1.0 (Cloudflare's table: DES-CBC3-SHA),
// chosen at TLS 1.2: the client gives up, as the edge would.
TEST(WireProbe, ChoiceTheClientRefusesIsAProtocolError) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  auto p = wire_profile();
  p.hello.cipher_suites = {0xc02f, 0x002f};
  p.hello.suite_versions[0xc02f] = {TlsVersion::tls1_0};
  p.hellos = {p.hello};
  OpensslServer server({.cert = c.leaf_rsa.cert,
                        .key = c.leaf_rsa.key,
                        .chain = c.intermediate.cert,
                        .cipher = "ECDHE-RSA-AES128-GCM-SHA256",
                        .no_tls1_3 = true});
  auto r = run_one(wire_spec(server.port(), p));
  EXPECT_EQ(r.status, ProbeStatus::protocol_error);
  EXPECT_FALSE(r.wire.accepted);
  EXPECT_NE(r.wire.refusal.find("ECDHE-RSA-AES128-GCM-SHA256 at TLSv1.2"), std::string::npos)
      << r.wire.refusal;
  ASSERT_TRUE(r.alert);
  EXPECT_FALSE(r.alert->received);
  EXPECT_EQ(r.alert->code, 47);
}

TEST(WireProbe, EverySuiteFindsWhatTheProfileLacks) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  OpensslServer server({.cert = c.leaf_rsa.cert,
                        .key = c.leaf_rsa.key,
                        .chain = c.intermediate.cert,
                        .cipher = "ECDHE-RSA-CHACHA20-POLY1305",
                        .no_tls1_3 = true});
  auto exact = run_one(wire_spec(server.port(), wire_profile()));
  EXPECT_EQ(exact.status, ProbeStatus::tls_alert);
  auto every = run_one(wire_spec(server.port(), wire_profile(), {.every_suite = true}));
  EXPECT_EQ(every.status, ProbeStatus::ok) << every.reason;
  EXPECT_EQ(every.cipher, "ECDHE-RSA-CHACHA20-POLY1305");
}

TEST(WireProbe, EveryGroupFindsWhatTheProfileLacks) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  auto p = wire_profile();
  p.hello.groups = {29, 23};
  p.hellos = {p.hello};
  OpensslServer server({.cert = c.leaf_ecdsa.cert,
                        .key = c.leaf_ecdsa.key,
                        .chain = c.intermediate.cert,
                        .groups = "X448"});
  EXPECT_EQ(run_one(wire_spec(server.port(), p)).status, ProbeStatus::tls_alert);
  auto every = run_one(wire_spec(server.port(), p, {.every_group = true}));
  EXPECT_EQ(every.status, ProbeStatus::ok) << every.reason;
  EXPECT_EQ(every.group, "X448");
  EXPECT_TRUE(every.wire.second_hello);
}

TEST(WireProbe, PostQuantumHelloLeavesInTwoSegments) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  OpensslServer server(
      {.cert = c.leaf_ecdsa.cert, .key = c.leaf_ecdsa.key, .chain = c.intermediate.cert});
  auto p = wire_profile(true);
  p.hellos.front().tcp_max_segment = 1448;
  auto r = run_one(wire_spec(server.port(), p));
  EXPECT_EQ(r.status, ProbeStatus::ok) << r.reason; // OpenSSL 3.0 takes the X25519 share
  EXPECT_EQ(r.group, "X25519");
  EXPECT_EQ(r.wire.hello_bytes, 1488u);
  EXPECT_EQ(r.wire.segments, 2u);
  auto one = run_one(wire_spec(server.port(), p, {.one_segment = true}));
  EXPECT_EQ(one.wire.segments, 1u);
}

TEST(WireProbe, TransportFailuresAreClassified) {
  auto p = wire_profile();
  EXPECT_EQ(run_one(wire_spec(free_tcp_port(), p)).status, ProbeStatus::tcp_refused);
  RawServer http(RawMode::http_reply);
  auto r = run_one(wire_spec(http.port(), p));
  EXPECT_EQ(r.status, ProbeStatus::not_tls);
  EXPECT_EQ(r.first_bytes.rfind("HTTP/", 0), 0u) << r.first_bytes;
  RawServer silent(RawMode::silent);
  auto s = wire_spec(silent.port(), p);
  s.timeout = 300ms;
  EXPECT_EQ(run_one(s).status, ProbeStatus::handshake_timeout);
  RawServer closing(RawMode::close);
  EXPECT_EQ(run_one(wire_spec(closing.port(), p)).status, ProbeStatus::eof);
  RawServer resetting(RawMode::reset);
  EXPECT_EQ(run_one(wire_spec(resetting.port(), p)).status, ProbeStatus::reset);
}

TEST(WireProbe, ProfileWithoutThatHelloIsAClientError) {
  auto p = wire_profile();
  auto s = wire_spec(free_tcp_port(), p);
  s.hello = 3;
  auto r = run_one(s);
  EXPECT_EQ(r.status, ProbeStatus::client_error);
}

} // namespace
} // namespace edgeshake::testing
