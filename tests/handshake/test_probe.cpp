// The probe engine against real servers on loopback (nginx, openssl s_server,
// purpose-built raw servers), certificates generated at test time. Each row is
// (server setup, profile, spec tweaks, expected status and facts), run
// through one helper (RunRow).
#include "handshake/handshake.hpp"
#include "tests/handshake/probe_helpers.hpp"
#include "tests/support/certs.hpp"
#include "tests/support/dnsmasq.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/openssl_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace edgeshake::testing {
namespace {

using handshake::ProbeResult;
using handshake::ProbeSpec;
using handshake::ProbeStatus;
using std::chrono::milliseconds;

struct Started {
  std::shared_ptr<void> server; // keeps it alive for the row
  std::uint16_t port = 0;
};
using Setup = std::function<Started(const CertCatalogue&)>;
using Check = std::function<void(const ProbeResult&, const CertCatalogue&)>;

struct Row {
  std::string name;
  std::vector<std::string> programs; // needed on PATH
  Setup setup;
  std::function<profiles::Profile()> profile = default_client_profile;
  std::function<void(ProbeSpec&, const CertCatalogue&)> tweak; // SNI, http, client cert, timeout
  ProbeStatus status;
  Check check;
};

std::ostream& operator<<(std::ostream& os, const Row& row) {
  return os << row.name;
}

// --- server setups -------------------------------------------------------------

Setup nginx(std::function<void(NginxConfig&, const CertCatalogue&)> configure) {
  return [configure](const CertCatalogue& c) {
    NginxConfig cfg;
    configure(cfg, c);
    auto server = std::make_shared<NginxOrigin>(cfg);
    return Started{server, server->port()};
  };
}

// A single nginx server block serving `pick(c)`'s chain file (or cert only).
Setup nginx_serving(std::function<const IssuedCert&(const CertCatalogue&)> pick,
                    bool leaf_only = false) {
  return nginx([pick, leaf_only](NginxConfig& cfg, const CertCatalogue& c) {
    const IssuedCert& cert = pick(c);
    cfg.servers.push_back(NginxServer::tls(leaf_only ? cert.cert : cert.chain, cert.key, {c.host}));
  });
}

Setup s_server(std::function<OpensslServerConfig(const CertCatalogue&)> make) {
  return [make](const CertCatalogue& c) {
    auto server = std::make_shared<OpensslServer>(make(c));
    return Started{server, server->port()};
  };
}

Setup raw(RawMode mode) {
  return [mode](const CertCatalogue&) {
    auto server = std::make_shared<RawServer>(mode);
    return Started{server, server->port()};
  };
}

Setup closed_port() {
  return [](const CertCatalogue&) { return Started{nullptr, free_tcp_port()}; };
}

const IssuedCert& leaf_ecdsa(const CertCatalogue& c) {
  return c.leaf_ecdsa;
}

// --- common checks -------------------------------------------------------------

void expect_good_chain(const ProbeResult& r, const CertCatalogue& c, const IssuedCert& leaf) {
  ASSERT_EQ(r.chain.size(), 2u);
  EXPECT_EQ(r.chain[0].sha256, leaf.sha256);
  EXPECT_EQ(r.chain[0].subject, leaf.subject);
  EXPECT_EQ(r.chain[0].issuer, c.intermediate.subject);
  EXPECT_EQ(r.chain[0].dns_names, leaf.dns_names);
  EXPECT_EQ(r.chain[0].ip_addresses, leaf.ip_addresses);
  EXPECT_EQ(r.chain[0].not_after, leaf.not_after);
  EXPECT_EQ(r.chain[0].key_type, leaf.key_type);
  EXPECT_EQ(r.chain[0].key_bits, leaf.key_bits);
  EXPECT_EQ(r.chain[0].curve, leaf.curve);
  EXPECT_EQ(r.chain[0].serial, leaf.serial);
  EXPECT_EQ(r.chain[0].signature_algorithm, leaf.signature_algorithm);
  EXPECT_FALSE(r.chain[0].is_ca);
  EXPECT_EQ(r.chain[1].sha256, c.intermediate.sha256);
  EXPECT_TRUE(r.chain[1].is_ca);
  EXPECT_TRUE(r.verification.performed);
  EXPECT_TRUE(r.verification.chain_ok) << r.verification.text;
  EXPECT_TRUE(r.verification.hostname_ok);
  EXPECT_EQ(r.verification.code, 0);
}

void expect_verify_failure(const ProbeResult& r, int code, int depth, bool hostname_ok) {
  EXPECT_TRUE(r.verification.performed);
  EXPECT_FALSE(r.verification.chain_ok);
  EXPECT_EQ(r.verification.code, code) << r.verification.text;
  EXPECT_EQ(r.verification.depth, depth);
  EXPECT_EQ(r.verification.hostname_ok, hostname_ok);
  EXPECT_FALSE(r.verification.text.empty());
}

void expect_alert(const ProbeResult& r, int code, const std::string& name, bool received) {
  ASSERT_TRUE(r.alert.has_value()) << r.reason;
  EXPECT_EQ(r.alert->code, code) << r.reason;
  EXPECT_EQ(r.alert->name, name);
  EXPECT_EQ(r.alert->received, received);
  EXPECT_EQ(r.alert->level, 2);
  EXPECT_EQ(r.phase, handshake::ProbePhase::handshake);
}

profiles::Profile bundled_cloudflare() {
  auto p = profiles::find("cloudflare");
  if (!p)
    throw std::runtime_error("bundled cloudflare profile: " + p.error().to_string());
  return *p;
}

void no_sni(ProbeSpec& s, const CertCatalogue&) {
  s.sni.reset();
}

// --- the table -----------------------------------------------------------------

std::vector<Row> rows() {
  std::vector<Row> v;
  v.push_back({"GoodOriginTls13",
               {"nginx"},
               nginx_serving(leaf_ecdsa),
               default_client_profile,
               nullptr,
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue& c) {
                 EXPECT_EQ(r.version, TlsVersion::tls1_3);
                 EXPECT_EQ(r.phase, handshake::ProbePhase::done);
                 EXPECT_EQ(r.cipher_iana.rfind("TLS_", 0), 0u) << r.cipher_iana;
                 EXPECT_EQ(r.group, "X25519");
                 EXPECT_TRUE(r.sni_sent);
                 EXPECT_FALSE(r.client_cert_requested);
                 EXPECT_FALSE(r.ocsp_stapled);
                 EXPECT_TRUE(r.timings.connect.has_value());
                 EXPECT_TRUE(r.timings.handshake.has_value());
                 EXPECT_EQ(r.http.status, handshake::HttpStatus::not_attempted);
                 expect_good_chain(r, c, c.leaf_ecdsa);
               }});
  v.push_back({"GoodOriginRsaTls12WithHttp",
               {"nginx"},
               nginx([](NginxConfig& cfg, const CertCatalogue& c) {
                 cfg.protocols = {"TLSv1.2"};
                 cfg.servers.push_back(
                     NginxServer::tls(c.leaf_rsa.chain, c.leaf_rsa.key, {c.host}));
               }),
               cloudflare_like_profile,
               [](ProbeSpec& s, const CertCatalogue&) { s.http = true; },
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue& c) {
                 EXPECT_EQ(r.version, TlsVersion::tls1_2);
                 // The server takes the client's order: Cloudflare's first RSA suite.
                 EXPECT_EQ(r.cipher, "ECDHE-RSA-AES128-GCM-SHA256");
                 EXPECT_EQ(r.cipher_iana, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
                 EXPECT_EQ(r.group, "X25519");
                 EXPECT_EQ(r.alpn, "http/1.1"); // nginx without http2 picks http/1.1
                 expect_good_chain(r, c, c.leaf_rsa);
                 EXPECT_EQ(r.http.status, handshake::HttpStatus::ok);
                 EXPECT_EQ(r.http.code, 200);
                 EXPECT_EQ(r.http.status_line, "HTTP/1.1 200 OK");
                 EXPECT_NE(r.http.body_excerpt.find("edgeshake origin ok"), std::string::npos);
                 auto server = std::find_if(r.http.headers.begin(), r.http.headers.end(),
                                            [](const auto& h) { return h.first == "server"; });
                 ASSERT_NE(server, r.http.headers.end());
                 EXPECT_EQ(server->second.rfind("nginx", 0), 0u);
                 ASSERT_TRUE(r.http.date.has_value());
                 auto skew = std::chrono::system_clock::now() - *r.http.date;
                 EXPECT_LT(std::chrono::abs(skew), std::chrono::seconds(60));
                 EXPECT_TRUE(r.timings.first_byte.has_value());
               }});
  auto tls10_only = nginx([](NginxConfig& cfg, const CertCatalogue& c) {
    cfg.protocols = {"TLSv1"};
    cfg.ciphers = "DEFAULT:@SECLEVEL=0";
    cfg.servers.push_back(NginxServer::tls(c.leaf_rsa.chain, c.leaf_rsa.key, {c.host}));
  });
  v.push_back({"Tls10OnlyOriginWithTls10Profile",
               {"nginx"},
               tls10_only,
               cloudflare_like_profile,
               nullptr,
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.version, TlsVersion::tls1_0);
                 EXPECT_EQ(r.cipher, "ECDHE-RSA-AES128-SHA");
               }});
  v.push_back({"Tls10OnlyOriginWithModernClient",
               {"nginx"},
               tls10_only,
               default_client_profile,
               nullptr,
               ProbeStatus::tls_alert,
               [](const ProbeResult& r, const CertCatalogue&) {
                 expect_alert(r, 70, "protocol_version", true);
                 EXPECT_FALSE(r.version.has_value());
                 EXPECT_TRUE(r.chain.empty());
                 EXPECT_FALSE(r.verification.performed);
               }});
  auto no_common_cipher = nginx([](NginxConfig& cfg, const CertCatalogue& c) {
    cfg.protocols = {"TLSv1.2"};
    cfg.ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305";
    cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  });
  v.push_back({"NoCommonCipherCloudflareFails",
               {"nginx"},
               no_common_cipher,
               cloudflare_like_profile,
               nullptr,
               ProbeStatus::tls_alert,
               [](const ProbeResult& r, const CertCatalogue&) {
                 expect_alert(r, 40, "handshake_failure", true);
                 EXPECT_FALSE(r.error_queue.empty());
               }});
  v.push_back({"NoCommonCipherDefaultClientSucceeds",
               {"nginx"},
               no_common_cipher,
               default_client_profile,
               nullptr,
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.version, TlsVersion::tls1_2);
                 EXPECT_EQ(r.cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
               }});
  // The same with the bundled `cloudflare` profile (profiles/providers/cloudflare.toml).
  v.push_back({"NoCommonCipherBundledCloudflareFails",
               {"nginx"},
               no_common_cipher,
               bundled_cloudflare,
               nullptr,
               ProbeStatus::tls_alert,
               [](const ProbeResult& r, const CertCatalogue&) {
                 expect_alert(r, 40, "handshake_failure", true);
               }});
  v.push_back({"Tls10OnlyOriginWithBundledCloudflare",
               {"nginx"},
               tls10_only,
               bundled_cloudflare,
               nullptr,
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.version, TlsVersion::tls1_0);
               }});
  auto sni_required = nginx([](NginxConfig& cfg, const CertCatalogue& c) {
    cfg.servers.push_back(NginxServer::rejecting_default());
    cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  });
  v.push_back({"SniRequiredWithoutSni",
               {"nginx"},
               sni_required,
               default_client_profile,
               no_sni,
               ProbeStatus::tls_alert,
               [](const ProbeResult& r, const CertCatalogue&) {
                 expect_alert(r, 112, "unrecognized_name", true);
                 EXPECT_FALSE(r.sni_sent);
               }});
  v.push_back({"SniRequiredWithSni",
               {"nginx"},
               sni_required,
               default_client_profile,
               nullptr,
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue& c) {
                 EXPECT_TRUE(r.sni_sent);
                 expect_good_chain(r, c, c.leaf_ecdsa);
               }});
  v.push_back({"ExpiredCertificate",
               {"nginx"},
               nginx_serving([](const CertCatalogue& c) -> const IssuedCert& { return c.expired; }),
               default_client_profile,
               nullptr,
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue& c) {
                 expect_verify_failure(r, 10 /* X509_V_ERR_CERT_HAS_EXPIRED */, 0, true);
                 ASSERT_FALSE(r.chain.empty());
                 EXPECT_EQ(r.chain[0].not_after, c.expired.not_after);
                 EXPECT_EQ(r.verification.text, "certificate has expired");
               }});
  v.push_back(
      {"NotYetValidCertificate",
       {"nginx"},
       nginx_serving([](const CertCatalogue& c) -> const IssuedCert& { return c.not_yet_valid; }),
       default_client_profile,
       nullptr,
       ProbeStatus::ok,
       [](const ProbeResult& r, const CertCatalogue&) {
         expect_verify_failure(r, 9 /* X509_V_ERR_CERT_NOT_YET_VALID */, 0, true);
       }});
  v.push_back(
      {"WrongHostCertificate",
       {"nginx"},
       nginx_serving([](const CertCatalogue& c) -> const IssuedCert& { return c.wrong_host; }),
       default_client_profile,
       nullptr,
       ProbeStatus::ok,
       [](const ProbeResult& r, const CertCatalogue& c) {
         EXPECT_TRUE(r.verification.chain_ok);
         EXPECT_FALSE(r.verification.hostname_ok);
         EXPECT_EQ(r.verification.host, c.host);
         ASSERT_FALSE(r.chain.empty());
         EXPECT_EQ(r.chain[0].dns_names, std::vector<std::string>{c.other_host});
       }});
  v.push_back(
      {"SelfSignedCertificate",
       {"nginx"},
       nginx_serving([](const CertCatalogue& c) -> const IssuedCert& { return c.self_signed; }),
       default_client_profile,
       nullptr,
       ProbeStatus::ok,
       [](const ProbeResult& r, const CertCatalogue&) {
         expect_verify_failure(r, 18 /* DEPTH_ZERO_SELF_SIGNED_CERT */, 0, true);
         ASSERT_EQ(r.chain.size(), 1u);
         EXPECT_TRUE(r.chain[0].self_issued);
       }});
  v.push_back({"LeafOnlyChainMissingIntermediate",
               {"nginx"},
               nginx_serving(leaf_ecdsa, /*leaf_only=*/true),
               default_client_profile,
               nullptr,
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue& c) {
                 expect_verify_failure(r, 20 /* UNABLE_TO_GET_ISSUER_CERT_LOCALLY */, 0, true);
                 ASSERT_EQ(r.chain.size(), 1u);
                 EXPECT_EQ(r.chain[0].sha256, c.leaf_ecdsa.sha256);
               }});
  v.push_back({"UntrustedRootWithSystemStore",
               {"nginx"},
               nginx_serving(leaf_ecdsa),
               default_client_profile,
               [](ProbeSpec& s, const CertCatalogue&) { s.trust_store.clear(); },
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_FALSE(r.verification.chain_ok);
                 EXPECT_EQ(r.verification.trust_store, "/etc/ssl/certs/ca-certificates.crt");
                 EXPECT_EQ(r.verification.code, 20);
                 EXPECT_EQ(r.verification.depth, 1);
               }});
  auto verify_required = s_server([](const CertCatalogue& c) {
    OpensslServerConfig cfg;
    cfg.cert = c.leaf_ecdsa.cert;
    cfg.key = c.leaf_ecdsa.key;
    cfg.chain = c.intermediate.cert;
    cfg.verify_required = 2;
    cfg.ca_file = c.ca_file;
    return cfg;
  });
  v.push_back({"ClientCertificateRequiredTls13",
               {"openssl"},
               verify_required,
               default_client_profile,
               nullptr,
               ProbeStatus::tls_alert,
               [](const ProbeResult& r, const CertCatalogue& c) {
                 expect_alert(r, 116, "certificate_required", true);
                 EXPECT_TRUE(r.client_cert_requested);
                 EXPECT_FALSE(r.client_cert_sent);
                 EXPECT_EQ(r.client_ca_names, std::vector<std::string>{c.ca.subject});
                 EXPECT_EQ(r.version, TlsVersion::tls1_3); // it was negotiated
               }});
  v.push_back({"ClientCertificateProvided",
               {"openssl"},
               verify_required,
               default_client_profile,
               [](ProbeSpec& s, const CertCatalogue& c) {
                 s.client_cert =
                     handshake::ClientCertificate{c.client.chain.string(), c.client.key.string()};
               },
               ProbeStatus::ok,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_TRUE(r.client_cert_requested);
                 EXPECT_TRUE(r.client_cert_sent);
               }});
  v.push_back({"ClientCertificateRequiredTls12",
               {"openssl"},
               s_server([](const CertCatalogue& c) {
                 OpensslServerConfig cfg;
                 cfg.cert = c.leaf_ecdsa.cert;
                 cfg.key = c.leaf_ecdsa.key;
                 cfg.no_tls1_3 = true;
                 cfg.verify_required = 2;
                 cfg.ca_file = c.ca_file;
                 return cfg;
               }),
               default_client_profile,
               nullptr,
               ProbeStatus::tls_alert,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_TRUE(r.client_cert_requested);
                 ASSERT_TRUE(r.alert.has_value());
                 EXPECT_TRUE(r.alert->received);
                 EXPECT_EQ(r.alert->code, 40); // TLS 1.2: handshake_failure
               }});
  v.push_back(
      {"NginxVerifyClientOnAnswers400",
       {"nginx"},
       nginx([](NginxConfig& cfg, const CertCatalogue& c) {
         cfg.verify_client = "on";
         cfg.client_ca = c.ca_file;
         cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
       }),
       default_client_profile,
       [](ProbeSpec& s, const CertCatalogue&) { s.http = true; },
       ProbeStatus::ok,
       [](const ProbeResult& r, const CertCatalogue&) {
         EXPECT_TRUE(r.client_cert_requested);
         EXPECT_EQ(r.http.status, handshake::HttpStatus::ok);
         EXPECT_EQ(r.http.code, 400);
         EXPECT_NE(r.http.body_excerpt.find("No required SSL certificate"), std::string::npos)
             << r.http.body_excerpt;
       }});
  v.push_back({"PlainHttpOnTheTlsPort",
               {},
               raw(RawMode::http_reply),
               default_client_profile,
               nullptr,
               ProbeStatus::not_tls,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.first_bytes.rfind("HTTP/1.1 400 Bad Request", 0), 0u) << r.first_bytes;
                 EXPECT_EQ(r.phase, handshake::ProbePhase::handshake);
               }});
  v.push_back({"NginxPlainHttpListener",
               {"nginx"},
               nginx([](NginxConfig& cfg, const CertCatalogue&) {
                 NginxServer plain;
                 plain.ssl = false;
                 cfg.servers.push_back(plain);
               }),
               default_client_profile,
               nullptr,
               ProbeStatus::not_tls,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.first_bytes.rfind("HTTP/1.1 400", 0), 0u) << r.first_bytes;
                 EXPECT_NE(r.reason.find("not TLS"), std::string::npos) << r.reason;
               }});
  v.push_back({"GarbageReply",
               {},
               raw(RawMode::garbage),
               default_client_profile,
               nullptr,
               ProbeStatus::not_tls,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.first_bytes.rfind("\\x01\\x02\\x03", 0), 0u) << r.first_bytes;
               }});
  v.push_back({"ClosedPort",
               {},
               closed_port(),
               default_client_profile,
               nullptr,
               ProbeStatus::tcp_refused,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.phase, handshake::ProbePhase::connect);
                 EXPECT_FALSE(r.timings.connect.has_value());
               }});
  v.push_back({"AcceptAndClose",
               {},
               raw(RawMode::close),
               default_client_profile,
               nullptr,
               ProbeStatus::eof,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.phase, handshake::ProbePhase::handshake);
                 EXPECT_FALSE(r.alert && r.alert->received) << r.alert->name;
               }});
  v.push_back({"AcceptAndReset",
               {},
               raw(RawMode::reset),
               default_client_profile,
               nullptr,
               ProbeStatus::reset,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.phase, handshake::ProbePhase::handshake);
               }});
  v.push_back({"SilentServerTimesOut",
               {},
               raw(RawMode::silent),
               default_client_profile,
               [](ProbeSpec& s, const CertCatalogue&) { s.timeout = milliseconds(800); },
               ProbeStatus::handshake_timeout,
               [](const ProbeResult& r, const CertCatalogue&) {
                 EXPECT_EQ(r.phase, handshake::ProbePhase::handshake);
                 EXPECT_GE(r.timings.total, milliseconds(750));
                 EXPECT_LT(r.timings.total, milliseconds(800 + 300));
               }});
  v.push_back(
      {"BadClientCertificateFile",
       {},
       raw(RawMode::silent),
       default_client_profile,
       [](ProbeSpec& s, const CertCatalogue&) {
         s.client_cert = handshake::ClientCertificate{"/nonexistent.pem", "/nonexistent.key"};
       },
       ProbeStatus::client_error,
       [](const ProbeResult& r, const CertCatalogue&) {
         EXPECT_NE(r.reason.find("/nonexistent.pem"), std::string::npos) << r.reason;
       }});
  return v;
}

class ProbeRows : public ::testing::TestWithParam<Row> {};

void RunRow(const Row& row) {
  for (const auto& program : row.programs)
    ES_REQUIRE_PROGRAM(program);
  const auto& certs = shared_catalogue();
  Started started = row.setup(certs);
  ProbeSpec spec = loopback_spec(started.port, row.profile(), certs, certs.host);
  if (row.tweak)
    row.tweak(spec, certs);
  const auto t0 = std::chrono::steady_clock::now();
  auto results = handshake::run({spec});
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(results.size(), 1u);
  const ProbeResult& r = results[0];
  EXPECT_EQ(r.spec, spec);
  EXPECT_EQ(handshake::to_string(r.status), handshake::to_string(row.status))
      << "reason: " << r.reason << "\nfirst bytes: " << r.first_bytes;
  EXPECT_LT(elapsed, spec.timeout + milliseconds(500));
  if (row.check)
    row.check(r, certs);
}

TEST_P(ProbeRows, Probe) {
  RunRow(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Handshake, ProbeRows, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

// --- many at once ----------------------------------------------------------------

TEST(ProbeConcurrency, SixtyProbesAtOnceAgainstOneNginx) {
  ES_REQUIRE_PROGRAM("nginx");
  const auto& c = shared_catalogue();
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin origin(cfg);
  std::vector<ProbeSpec> specs;
  for (int i = 0; i < 60; ++i) {
    auto s = loopback_spec(origin.port(),
                           i % 2 ? cloudflare_like_profile() : default_client_profile(), c, c.host);
    s.label = "probe/" + std::to_string(i);
    s.http = i % 3 == 0;
    specs.push_back(s);
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto results = handshake::run(specs, {.max_in_flight = 256, .max_per_address = 64});
  const auto ms = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << "[ measure  ] 60 concurrent probes against one nginx: " << ms.count() << " ms\n";
  RecordProperty("elapsed_ms", static_cast<int>(ms.count()));
  ASSERT_EQ(results.size(), specs.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    SCOPED_TRACE(r.spec.label);
    EXPECT_EQ(r.spec.label, specs[i].label); // spec order kept
    EXPECT_EQ(r.status, ProbeStatus::ok) << r.reason;
    EXPECT_EQ(r.version, TlsVersion::tls1_3);
    ASSERT_EQ(r.chain.size(), 2u);
    EXPECT_EQ(r.chain[0].sha256, c.leaf_ecdsa.sha256);
    EXPECT_TRUE(r.verification.chain_ok);
    EXPECT_TRUE(r.verification.hostname_ok);
    if (specs[i].http) {
      EXPECT_EQ(r.http.code, 200);
    }
  }
}

TEST(ProbeConcurrency, PerAddressCapBoundsConnections) {
  // 8 probes against a silent server, at most 2 at a time, 300 ms each: the
  // run takes 4 rounds, and the server saw all 8 connections.
  RawServer silent(RawMode::silent);
  const auto& c = shared_catalogue();
  std::vector<ProbeSpec> specs;
  for (int i = 0; i < 8; ++i) {
    auto s = loopback_spec(silent.port(), default_client_profile(), c, c.host);
    s.timeout = milliseconds(300);
    specs.push_back(s);
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto results = handshake::run(specs, {.max_in_flight = 100, .max_per_address = 2});
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(results.size(), 8u);
  for (const auto& r : results)
    EXPECT_EQ(r.status, ProbeStatus::handshake_timeout);
  EXPECT_GE(elapsed, milliseconds(4 * 300 - 50));
  EXPECT_LT(elapsed, milliseconds(4 * 300 + 800));
  EXPECT_EQ(silent.accepted(), 8);
}

TEST(ProbeThroughput, SequentialBatchesAgainstLoopbackNginx) {
  ES_REQUIRE_PROGRAM("nginx");
  const auto& c = shared_catalogue();
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin origin(cfg);
  std::vector<ProbeSpec> specs(300,
                               loopback_spec(origin.port(), default_client_profile(), c, c.host));
  const auto t0 = std::chrono::steady_clock::now();
  auto results = handshake::run(specs, {.max_in_flight = 32, .max_per_address = 32});
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto ok = std::count_if(results.begin(), results.end(),
                                [](const ProbeResult& r) { return r.status == ProbeStatus::ok; });
  std::cout << "[ measure  ] " << results.size() << " probes (TLS 1.3, ECDSA P-256, 32 in flight)"
            << " in " << secs << " s = " << results.size() / secs << " probes/s\n";
  EXPECT_EQ(ok, static_cast<long>(results.size()));
}

TEST(ProbeRun, Ipv6Loopback) {
  if (!loopback_ipv6_available())
    GTEST_SKIP() << "no IPv6 loopback here";
  RawServer server(RawMode::http_reply, "::1");
  const auto& c = shared_catalogue();
  auto spec = loopback_spec(server.port(), default_client_profile(), c, c.host);
  spec.target.address = "::1";
  auto results = handshake::run({spec});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, ProbeStatus::not_tls) << results[0].reason;
  EXPECT_EQ(results[0].first_bytes.rfind("HTTP/1.1 400", 0), 0u);
}

// A listener whose accept queue is full drops further SYNs (Linux), so a
// connect to it never completes: tcp_timeout, on loopback.
TEST(ProbeRun, FullAcceptQueueIsATcpTimeout) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t len = sizeof sa;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len);
  const auto port = ntohs(sa.sin_port);
  // Fill the queue (never accepted).
  int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(filler, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  const auto& c = shared_catalogue();
  auto spec = loopback_spec(port, default_client_profile(), c, c.host);
  spec.timeout = milliseconds(600);
  auto results = handshake::run({spec});
  ::close(filler);
  ::close(listener);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(handshake::to_string(results[0].status), "tcp_timeout") << results[0].reason;
  EXPECT_EQ(results[0].phase, handshake::ProbePhase::connect);
  EXPECT_GE(results[0].timings.total, milliseconds(550));
  EXPECT_LT(results[0].timings.total, milliseconds(600 + 300));
}

TEST(ProbeRun, EmptyRunCallsBackWithNothing) {
  EXPECT_TRUE(handshake::run({}).empty());
}

TEST(ProbeRun, NotAnIpAddressIsAClientError) {
  const auto& c = shared_catalogue();
  auto spec = loopback_spec(443, default_client_profile(), c, c.host);
  spec.target.address = "origin.test";
  auto results = handshake::run({spec});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, ProbeStatus::client_error);
}

} // namespace
} // namespace edgeshake::testing
