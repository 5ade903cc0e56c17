// Correctness against real nginx origins on loopback: what the enumerator finds
// must equal what nginx was configured to accept, where the expected TLS <= 1.2 set
// is what `openssl ciphers -V -s -<version> 'STRING'` expands the configured
// string to (run here, not hard-coded) and the TLS 1.3 set is the configured list.
#include "handshake/enumerate/enumerate.hpp"
#include "handshake/enumerate/tables.hpp"
#include "tests/support/certs.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace en = edgeshake::handshake::enumerate;
using edgeshake::TlsVersion;
using namespace edgeshake::testing;

namespace {

using Codes = std::vector<std::uint16_t>;

// `openssl ciphers -V -s -<flag> STRING`, in OpenSSL's order, TLS 1.3 suites dropped.
Codes openssl_expand(const std::string& flag, const std::string& cipher_string) {
  auto out = run_command({"openssl", "ciphers", "-V", "-s", "-" + flag, cipher_string});
  EXPECT_EQ(out.status, 0) << out.output;
  Codes codes;
  std::istringstream in(out.output);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string code;
    ls >> code;
    if (code.size() != 9 || code.rfind("0x", 0) != 0)
      continue;
    const auto v = static_cast<std::uint16_t>(std::stoi(code.substr(2, 2), nullptr, 16) << 8 |
                                              std::stoi(code.substr(7, 2), nullptr, 16));
    if ((v >> 8) != 0x13)
      codes.push_back(v);
  }
  return codes;
}

Codes tls13_codes(const std::string& ciphersuites) {
  Codes out;
  std::istringstream in(ciphersuites);
  std::string name;
  while (std::getline(in, name, ':')) {
    auto c = en::cipher_suite_by_name(name);
    EXPECT_TRUE(c) << name;
    if (c)
      out.push_back(*c);
  }
  return out;
}

std::string names(const Codes& codes) {
  std::string s;
  for (auto c : codes)
    s += std::string(s.empty() ? "" : " ") + std::string(en::display_name(c));
  return s;
}

// Exactly the same set: prints what is missing and what is extra.
::testing::AssertionResult same_set(const Codes& found, const Codes& expected) {
  std::set<std::uint16_t> f(found.begin(), found.end()), e(expected.begin(), expected.end());
  Codes missing, extra;
  std::set_difference(e.begin(), e.end(), f.begin(), f.end(), std::back_inserter(missing));
  std::set_difference(f.begin(), f.end(), e.begin(), e.end(), std::back_inserter(extra));
  if (missing.empty() && extra.empty() && f.size() == found.size())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "missing: [" << names(missing) << "] extra: [" << names(extra) << "] found "
         << found.size() << " expected " << expected.size();
}

const en::VersionResult& version(const en::EnumerateResult& r, TlsVersion v) {
  for (const auto& x : r.versions)
    if (x.version == v)
      return x;
  throw std::runtime_error("version missing from result");
}

void expect_only(const en::EnumerateResult& r, std::set<TlsVersion> supported) {
  for (const auto& v : r.versions)
    EXPECT_EQ(v.status == en::VersionStatus::supported, supported.count(v.version) == 1)
        << to_string(v.version) << ": " << en::to_string(v.status) << " " << v.detail;
}

class EnumerateNginx : public ::testing::Test {
protected:
  void SetUp() override {
    ES_REQUIRE_PROGRAM("nginx");
    ES_REQUIRE_PROGRAM("openssl");
  }

  static const CertCatalogue& certs() { return shared_catalogue(); }

  // RFC 7919 ffdhe2048 parameters (instant, unlike `openssl dhparam`).
  static std::string dhparam() {
    static TempDir dir("edgeshake-dh");
    static const std::string path = [] {
      auto p = (dir / "ffdhe2048.pem").string();
      auto out = run_command({"openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                              "group:ffdhe2048", "-out", p});
      EXPECT_EQ(out.status, 0) << out.output;
      return p;
    }();
    return path;
  }

  // RSA and ECDSA certificates on one server block, so both authentications work.
  static NginxServer dual_cert_server() {
    const auto& c = certs();
    auto s = NginxServer::tls(c.leaf_rsa.chain, c.leaf_rsa.key, {c.host});
    s.extra.push_back("ssl_certificate " + c.leaf_ecdsa.chain.string() + ";");
    s.extra.push_back("ssl_certificate_key " + c.leaf_ecdsa.key.string() + ";");
    return s;
  }

  static NginxConfig config(std::vector<std::string> protocols, std::string ciphers,
                            bool with_dh = true) {
    NginxConfig cfg;
    cfg.servers.push_back(dual_cert_server());
    cfg.protocols = std::move(protocols);
    cfg.ciphers = std::move(ciphers);
    if (with_dh)
      cfg.http_extra.push_back("ssl_dhparam " + dhparam() + ";");
    return cfg;
  }

  static en::EnumerateResult
  enumerate(const NginxOrigin& origin, int max_conns = 8,
            std::optional<std::string> sni = std::string("origin.test")) {
    en::EnumerateSpec spec;
    spec.target = {origin.address(), origin.port()};
    spec.sni = std::move(sni);
    spec.max_connections = max_conns;
    spec.timeout = std::chrono::seconds(5);
    auto r = en::run_enumerate(spec);
    EXPECT_EQ(r.status, en::EnumerateStatus::complete) << r.detail;
    EXPECT_LE(r.peak_in_flight, static_cast<std::size_t>(max_conns));
    return r;
  }
};

} // namespace

TEST_F(EnumerateNginx, Tls12SuitesEqualTheOpensslExpansionOfHigh) {
  const std::string ciphers = "HIGH:!aNULL:!MD5:!PSK:!SRP:!DSS";
  auto cfg = config({"TLSv1.2", "TLSv1.3"}, ciphers);
  cfg.tls13_ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_CCM_8_SHA256";
  NginxOrigin origin(cfg);
  auto r = enumerate(origin);
  expect_only(r, {TlsVersion::tls1_2, TlsVersion::tls1_3});
  EXPECT_TRUE(same_set(version(r, TlsVersion::tls1_2).suites, openssl_expand("tls1_2", ciphers)));
  EXPECT_TRUE(same_set(version(r, TlsVersion::tls1_3).suites, tls13_codes(cfg.tls13_ciphersuites)));
}

TEST_F(EnumerateNginx, Tls12SuitesEqualAnExplicitMixedString) {
  const std::string ciphers =
      "ECDHE+AESGCM:DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
      "AES256-SHA:CAMELLIA128-SHA:ECDHE-RSA-AES128-SHA256:!DSS";
  NginxOrigin origin(config({"TLSv1.2"}, ciphers));
  auto r = enumerate(origin);
  expect_only(r, {TlsVersion::tls1_2});
  EXPECT_TRUE(same_set(version(r, TlsVersion::tls1_2).suites, openssl_expand("tls1_2", ciphers)));
  EXPECT_EQ(r.groups_tls12.dh_bits, std::optional<std::size_t>(2048));
}

TEST_F(EnumerateNginx, Tls13OnlyFindsTheConfiguredCiphersuites) {
  auto cfg = config({"TLSv1.3"}, "");
  cfg.tls13_ciphersuites =
      "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256";
  NginxOrigin origin(cfg);
  auto r = enumerate(origin);
  expect_only(r, {TlsVersion::tls1_3});
  EXPECT_TRUE(same_set(version(r, TlsVersion::tls1_3).suites, tls13_codes(cfg.tls13_ciphersuites)));
  EXPECT_FALSE(r.alpn.tested); // encrypted in TLS 1.3
  EXPECT_TRUE(r.groups_tls13.tested);
}

TEST_F(EnumerateNginx, Tls10OnlyFindsTheOpensslExpansion) {
  const std::string ciphers =
      "AES128-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES256-SHA:CAMELLIA256-SHA:DES-CBC3-SHA:"
      "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0";
  NginxOrigin origin(config({"TLSv1"}, ciphers));
  auto r = enumerate(origin);
  expect_only(r, {TlsVersion::tls1_0});
  EXPECT_TRUE(same_set(version(r, TlsVersion::tls1_0).suites, openssl_expand("tls1", ciphers)));
  // A TLS 1.2-only hello gets a refusal, not a TLSv1 answer counted as TLS 1.2.
  EXPECT_EQ(version(r, TlsVersion::tls1_2).status, en::VersionStatus::not_supported);
}

TEST_F(EnumerateNginx, CamelliaAndAriaOnly) {
  const std::string ciphers = "CAMELLIA:ARIA:!PSK:!DSS:!aNULL";
  ASSERT_FALSE(openssl_expand("tls1_2", ciphers).empty()) << "linked OpenSSL lacks CAMELLIA/ARIA";
  NginxOrigin origin(config({"TLSv1.2"}, ciphers));
  auto r = enumerate(origin);
  expect_only(r, {TlsVersion::tls1_2});
  EXPECT_TRUE(same_set(version(r, TlsVersion::tls1_2).suites, openssl_expand("tls1_2", ciphers)));
}

TEST_F(EnumerateNginx, DheOnly) {
  const std::string ciphers =
      "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-SHA:DHE-RSA-AES256-CCM8";
  NginxOrigin origin(config({"TLSv1.2"}, ciphers));
  auto r = enumerate(origin);
  EXPECT_TRUE(same_set(version(r, TlsVersion::tls1_2).suites, openssl_expand("tls1_2", ciphers)));
  EXPECT_EQ(r.groups_tls12.dh_bits, std::optional<std::size_t>(2048));
  EXPECT_FALSE(r.groups_tls12.tested); // no ECDHE suite to learn a curve with
}

TEST_F(EnumerateNginx, EcdsaOnlyCertificate) {
  const auto& c = certs();
  const std::string ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-CCM:"
                              "ECDHE-RSA-AES128-GCM-SHA256"; // RSA one cannot be used
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  cfg.protocols = {"TLSv1.2"};
  cfg.ciphers = ciphers;
  NginxOrigin origin(cfg);
  auto r = enumerate(origin);
  auto expected = openssl_expand("tls1_2", ciphers);
  std::erase(expected, 0xC02F);
  EXPECT_TRUE(same_set(version(r, TlsVersion::tls1_2).suites, expected));
}

TEST_F(EnumerateNginx, ServerPreferenceGivesTheConfiguredOrder) {
  const std::string ciphers =
      "AES256-SHA:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES128-GCM-SHA256:CAMELLIA128-SHA";
  auto cfg = config({"TLSv1.2", "TLSv1.3"}, ciphers, false);
  cfg.tls13_ciphersuites =
      "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
  cfg.prefer_server_ciphers = true;
  NginxOrigin origin(cfg);
  auto r = enumerate(origin);
  const auto& v12 = version(r, TlsVersion::tls1_2);
  EXPECT_EQ(v12.preference, en::Preference::server);
  EXPECT_EQ(names(v12.suites), names(openssl_expand("tls1_2", ciphers)));
  const auto& v13 = version(r, TlsVersion::tls1_3);
  EXPECT_EQ(v13.preference, en::Preference::server);
  EXPECT_EQ(names(v13.suites), names(tls13_codes(cfg.tls13_ciphersuites)));
}

TEST_F(EnumerateNginx, ClientPreferenceIsDetected) {
  const std::string ciphers =
      "AES256-SHA:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES128-GCM-SHA256:CAMELLIA128-SHA";
  auto cfg = config({"TLSv1.2", "TLSv1.3"}, ciphers, false);
  cfg.tls13_ciphersuites =
      "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
  cfg.prefer_server_ciphers = false;
  NginxOrigin origin(cfg);
  auto r = enumerate(origin);
  const auto& v12 = version(r, TlsVersion::tls1_2);
  EXPECT_EQ(v12.preference, en::Preference::client);
  EXPECT_TRUE(same_set(v12.suites, openssl_expand("tls1_2", ciphers)));
  EXPECT_EQ(version(r, TlsVersion::tls1_3).preference, en::Preference::client);
}

TEST_F(EnumerateNginx, P521OnlyGroups) {
  auto cfg = config({"TLSv1.2", "TLSv1.3"},
                    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384", false);
  cfg.ecdh_curve = "secp521r1";
  NginxOrigin origin(cfg);
  auto r = enumerate(origin);
  EXPECT_EQ(r.groups_tls13.groups, (Codes{25}));
  EXPECT_EQ(r.groups_tls12.groups, (Codes{25}));
}

TEST_F(EnumerateNginx, GroupsFollowTheConfiguredCurves) {
  auto cfg = config({"TLSv1.2", "TLSv1.3"}, "ECDHE-RSA-AES128-GCM-SHA256", false);
  cfg.ecdh_curve = "X448:secp384r1:X25519";
  cfg.prefer_server_ciphers = true;
  NginxOrigin origin(cfg);
  auto r = enumerate(origin);
  EXPECT_EQ(r.groups_tls13.groups, (Codes{30, 24, 29}));
  EXPECT_EQ(r.groups_tls13.preference, en::Preference::server);
  EXPECT_EQ(r.groups_tls12.groups, (Codes{30, 24, 29}));
}

// Five groups in the server's order: found by parallel chunks and pairwise
// comparisons (not one round trip per group), the order must still be exact,
// and the same with one connection at a time.
TEST_F(EnumerateNginx, LongServerGroupOrderIsExactAtAnyConnectionLimit) {
  auto cfg = config({"TLSv1.2", "TLSv1.3"}, "ECDHE-RSA-AES128-GCM-SHA256", false);
  cfg.ecdh_curve = "secp384r1:X25519:secp521r1:prime256v1:X448";
  cfg.prefer_server_ciphers = true;
  NginxOrigin origin(cfg);
  const Codes expected = {24, 29, 25, 23, 30};
  for (int conns : {16, 1}) {
    auto r = enumerate(origin, conns);
    EXPECT_EQ(r.groups_tls13.groups, expected) << conns;
    EXPECT_EQ(r.groups_tls13.preference, en::Preference::server);
    EXPECT_EQ(r.groups_tls12.groups, expected) << conns;
    EXPECT_EQ(r.groups_tls12.preference, en::Preference::server);
    EXPECT_EQ(r.groups_tls12.detail, "");
  }
}

// TLS 1.2 signature schemes (opt-in): read from the ServerKeyExchange. The set
// equals what the server is configured to sign with (OpenSSL's
// SignatureAlgorithms, through nginx's ssl_conf_command), and follows the key type.
TEST_F(EnumerateNginx, SignatureSchemesEqualTheConfiguredSet) {
  const auto& c = certs();
  auto sigalgs = [&](NginxConfig cfg) {
    NginxOrigin origin(std::move(cfg));
    en::EnumerateSpec spec;
    spec.target = {origin.address(), origin.port()};
    spec.sni = "origin.test";
    spec.timeout = std::chrono::seconds(5);
    spec.signature_algorithms = true;
    auto r = en::run_enumerate(spec);
    EXPECT_EQ(r.status, en::EnumerateStatus::complete) << r.detail;
    EXPECT_TRUE(r.sigalgs_tls12.tested) << r.sigalgs_tls12.detail;
    return r.sigalgs_tls12.schemes;
  };
  auto sorted = [](Codes v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  NginxConfig rsa;
  rsa.servers.push_back(NginxServer::tls(c.leaf_rsa.chain, c.leaf_rsa.key, {c.host}));
  rsa.protocols = {"TLSv1.2"};
  rsa.http_extra = {"ssl_conf_command SignatureAlgorithms RSA+SHA256:rsa_pss_rsae_sha384;"};
  EXPECT_EQ(sorted(sigalgs(rsa)), (Codes{0x0401, 0x0805}));

  NginxConfig ecdsa;
  ecdsa.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  ecdsa.protocols = {"TLSv1.2"};
  auto got = sigalgs(ecdsa); // OpenSSL's default list, for a P-256 key
  EXPECT_NE(std::find(got.begin(), got.end(), 0x0403), got.end()) << "ecdsa_secp256r1_sha256";
  for (auto code : got)
    EXPECT_EQ(code & 0xff, 0x03) << "an ECDSA key signs only with ECDSA schemes: "
                                 << en::signature_scheme_name(code);

  // Without the option nothing is sent for it.
  NginxOrigin plain(rsa);
  auto r = enumerate(plain);
  EXPECT_FALSE(r.sigalgs_tls12.tested);
  for (const auto& p : r.probes)
    EXPECT_NE(p.purpose, "TLSv1.2 signature schemes");
}

TEST_F(EnumerateNginx, SniRequiredWithRejectHandshake) {
  const auto& c = certs();
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::rejecting_default());
  cfg.servers.push_back(NginxServer::tls(c.leaf_rsa.chain, c.leaf_rsa.key, {c.host}));
  cfg.protocols = {"TLSv1.2", "TLSv1.3"};
  NginxOrigin origin(cfg);
  auto r = enumerate(origin, 8, c.host);
  ASSERT_EQ(r.sni.size(), 3u);
  for (const auto& s : r.sni) {
    if (s.sni == en::SniCase::right_name) {
      EXPECT_EQ(s.outcome, en::ProbeOutcome::accepted);
    } else {
      EXPECT_EQ(s.outcome, en::ProbeOutcome::alert) << en::to_string(s.sni);
      EXPECT_EQ(s.alert, std::optional<std::string>("unrecognized_name"));
    }
  }
  EXPECT_EQ(version(r, TlsVersion::tls1_2).status, en::VersionStatus::supported);
}

TEST_F(EnumerateNginx, SniSelectsDifferentCertificatesInTls12) {
  const auto& c = certs();
  NginxConfig cfg;
  auto first = NginxServer::tls(c.leaf_second.chain, c.leaf_second.key, {"second.test"});
  first.default_server = true;
  cfg.servers.push_back(first);
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  cfg.protocols = {"TLSv1.2"};
  NginxOrigin origin(cfg);
  auto r = enumerate(origin, 8, c.host);
  ASSERT_EQ(r.sni.size(), 3u);
  ASSERT_TRUE(r.sni[0].leaf_sha256 && r.sni[1].leaf_sha256 && r.sni[2].leaf_sha256);
  EXPECT_NE(*r.sni[0].leaf_sha256, *r.sni[1].leaf_sha256); // none vs right name
  EXPECT_EQ(*r.sni[0].leaf_sha256, *r.sni[2].leaf_sha256); // none vs unknown: the default
}

TEST_F(EnumerateNginx, AlpnAndSplitHello) {
  NginxOrigin origin(config({"TLSv1.2", "TLSv1.3"}, "ECDHE-RSA-AES128-GCM-SHA256", false));
  auto r = enumerate(origin);
  EXPECT_TRUE(r.alpn.tested);
  EXPECT_NE(std::find(r.alpn.protocols.begin(), r.alpn.protocols.end(), "http/1.1"),
            r.alpn.protocols.end());
  EXPECT_EQ(std::find(r.alpn.protocols.begin(), r.alpn.protocols.end(), "spdy/1"),
            r.alpn.protocols.end());
  EXPECT_TRUE(r.split_hello.tested);
  EXPECT_GT(r.split_hello.hello_bytes, 1400u);
  EXPECT_EQ(r.split_hello.outcome, en::ProbeOutcome::accepted);
  EXPECT_EQ(r.split_hello.group, std::optional<std::uint16_t>(29)); // no ML-KEM in OpenSSL 3.0
}

TEST_F(EnumerateNginx, ConnectionLimitDoesNotChangeTheResult) {
  NginxOrigin origin(config({"TLSv1.2", "TLSv1.3"}, "HIGH:!aNULL:!PSK:!SRP:!DSS"));
  auto wide = enumerate(origin, 8);
  auto narrow = enumerate(origin, 1);
  EXPECT_EQ(narrow.peak_in_flight, 1u);
  EXPECT_GT(wide.peak_in_flight, 1u);
  for (std::size_t i = 0; i < wide.versions.size(); ++i)
    EXPECT_TRUE(same_set(narrow.versions[i].suites, wide.versions[i].suites));
  EXPECT_EQ(narrow.groups_tls13.groups.size(), wide.groups_tls13.groups.size());
}

TEST(EnumerateUnreachable, ClosedPortIsUnreachable) {
  en::EnumerateSpec spec;
  spec.target = {"127.0.0.1", free_tcp_port()};
  spec.timeout = std::chrono::seconds(2);
  auto r = en::run_enumerate(spec);
  EXPECT_EQ(r.status, en::EnumerateStatus::unreachable);
  for (const auto& p : r.probes)
    EXPECT_EQ(p.outcome, en::ProbeOutcome::refused);
}

TEST(EnumerateUnreachable, PlainHttpIsNotTls) {
  RawServer server(RawMode::http_reply);
  en::EnumerateSpec spec;
  spec.target = {"127.0.0.1", server.port()};
  spec.timeout = std::chrono::seconds(2);
  auto r = en::run_enumerate(spec);
  EXPECT_EQ(r.status, en::EnumerateStatus::not_tls);
}

TEST(EnumerateUnreachable, SilentServerTimesOutInBoundedTime) {
  RawServer server(RawMode::silent);
  en::EnumerateSpec spec;
  spec.target = {"127.0.0.1", server.port()};
  spec.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  auto r = en::run_enumerate(spec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Connected, then silence: said as such, not as "unreachable".
  EXPECT_EQ(r.status, en::EnumerateStatus::no_answer) << r.detail;
  EXPECT_EQ(en::to_string(r.status), "no_answer");
  EXPECT_EQ(r.detail, "no answer within 300 ms");
  for (const auto& p : r.probes) {
    EXPECT_EQ(p.outcome, en::ProbeOutcome::timeout);
    EXPECT_EQ(p.detail, "no answer within 300 ms");
  }
}

TEST(EnumerateUnreachable, GarbageAndResetsAreClassified) {
  for (auto mode : {RawMode::garbage, RawMode::reset, RawMode::close}) {
    RawServer server(mode);
    en::EnumerateSpec spec;
    spec.target = {"127.0.0.1", server.port()};
    spec.timeout = std::chrono::seconds(2);
    auto r = en::run_enumerate(spec);
    EXPECT_NE(r.status, en::EnumerateStatus::complete);
    EXPECT_FALSE(r.probes.empty());
  }
}
