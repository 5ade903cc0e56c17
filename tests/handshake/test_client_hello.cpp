// A profile must really produce its ClientHello: the engine's ClientHello is
// captured by a raw server and parsed here; versions (supported_versions),
// cipher suite order, supported_groups, SNI and ALPN must equal the profile.
#include "handshake/handshake.hpp"
#include "profiles/profiles.hpp"
#include "tests/handshake/probe_helpers.hpp"
#include "tests/support/raw_server.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <map>

namespace edgeshake::testing {
namespace {

using namespace std::chrono_literals;

// OpenSSL cipher name (and IANA name) -> wire code point, from the linked OpenSSL.
const std::map<std::string, int>& cipher_ids() {
  static const std::map<std::string, int> ids = [] {
    std::map<std::string, int> m;
    SSL_CTX* ctx = SSL_CTX_new(TLS_method());
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL");
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx);
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
      const int id = SSL_CIPHER_get_protocol_id(c);
      m[SSL_CIPHER_get_name(c)] = id;
      if (const char* std_name = SSL_CIPHER_standard_name(c))
        m[std_name] = id;
    }
    SSL_CTX_free(ctx);
    return m;
  }();
  return ids;
}

int group_id(const std::string& name) {
  static const std::map<std::string, int> ids = {
      {"X25519", 0x001d},    {"x25519", 0x001d},    {"X448", 0x001e},       {"x448", 0x001e},
      {"P-256", 0x0017},     {"secp256r1", 0x0017}, {"prime256v1", 0x0017}, {"P-384", 0x0018},
      {"secp384r1", 0x0018}, {"P-521", 0x0019},     {"secp521r1", 0x0019},  {"ffdhe2048", 0x0100},
      {"ffdhe3072", 0x0101}, {"ffdhe4096", 0x0102}, {"ffdhe6144", 0x0103},  {"ffdhe8192", 0x0104}};
  auto it = ids.find(name);
  return it == ids.end() ? -1 : it->second;
}

bool is_grease(int v) {
  return (v & 0x0f0f) == 0x0a0a;
}

struct Capture {
  handshake::ProbeResult result;
  ParsedClientHello hello;
};

Capture capture(const profiles::Profile& profile, std::optional<std::string> sni) {
  RawServer server(RawMode::capture);
  auto spec = loopback_spec(server.port(), profile, shared_catalogue(), std::move(sni));
  spec.timeout = 3s;
  auto results = handshake::run({spec});
  auto hellos = server.wait_for_captures(1, 3s);
  Capture c;
  c.result = results.at(0);
  if (!hellos.empty())
    c.hello = parse_client_hello(hellos[0]);
  return c;
}

// Compare one capture with what the profile says.
void expect_client_hello_matches(const profiles::Profile& p,
                                 const std::optional<std::string>& sni) {
  SCOPED_TRACE("profile " + p.id);
  Capture c = capture(p, sni);
  ASSERT_TRUE(c.hello.ok) << c.hello.error << " (probe: " << c.result.reason << ")";

  // Versions: OpenSSL lists supported_versions highest first; without TLS 1.3
  // there is no such extension and legacy_version carries the maximum.
  std::vector<TlsVersion> versions = p.versions;
  std::erase(versions, TlsVersion::ssl3); // not offerable by this OpenSSL
  std::sort(versions.begin(), versions.end());
  ASSERT_FALSE(versions.empty());
  std::vector<int> sent_versions;
  for (int v : c.hello.supported_versions)
    if (!is_grease(v))
      sent_versions.push_back(v);
  if (versions.back() == TlsVersion::tls1_3) {
    std::vector<int> expected;
    for (auto it = versions.rbegin(); it != versions.rend(); ++it)
      expected.push_back(wire_version(*it));
    EXPECT_EQ(sent_versions, expected);
  } else {
    EXPECT_TRUE(sent_versions.empty());
    EXPECT_EQ(c.hello.legacy_version, wire_version(versions.back()));
  }

  // Cipher suites, in order: TLS 1.3 suites first (if 1.3 is offered), then
  // the TLS <= 1.2 list (if offered); the renegotiation SCSV is ignored.
  const bool offers13 = versions.back() == TlsVersion::tls1_3;
  const bool offers12 = versions.front() <= TlsVersion::tls1_2;
  std::vector<int> expected_suites;
  if (offers13) {
    for (const auto& name : p.tls13_ciphersuites) {
      ASSERT_TRUE(cipher_ids().count(name)) << name;
      expected_suites.push_back(cipher_ids().at(name));
    }
  }
  if (offers12) {
    for (const auto& name : p.ciphers) {
      ASSERT_TRUE(cipher_ids().count(name)) << name;
      expected_suites.push_back(cipher_ids().at(name));
    }
  }
  std::vector<int> sent_suites;
  for (int s : c.hello.cipher_suites)
    if (s != 0x00ff && !is_grease(s))
      sent_suites.push_back(s);
  if ((offers13 && !p.tls13_ciphersuites.empty()) && (!offers12 || !p.ciphers.empty())) {
    EXPECT_EQ(sent_suites, expected_suites);
  } else if (offers12 && !p.ciphers.empty()) {
    // TLS 1.3 defaults first, then exactly the profile's list.
    ASSERT_GE(sent_suites.size(), expected_suites.size());
    EXPECT_EQ(std::vector<int>(sent_suites.end() - static_cast<long>(expected_suites.size()),
                               sent_suites.end()),
              expected_suites);
  }

  if (!p.groups.empty()) {
    std::vector<int> expected_groups;
    for (const auto& g : p.groups)
      expected_groups.push_back(group_id(g));
    EXPECT_EQ(c.hello.supported_groups, expected_groups);
    if (offers13) {
      ASSERT_FALSE(c.hello.key_share_groups.empty());
      EXPECT_EQ(c.hello.key_share_groups.front(), expected_groups.front());
    }
  }
  EXPECT_EQ(c.hello.sni, sni);
  EXPECT_EQ(c.result.sni_sent, sni.has_value());
  EXPECT_EQ(c.hello.alpn, p.alpn);
}

// A format-1 profile's hello (profiles/derive.cpp) is what OpenSSL 3.0 really
// sends for its settings: compared with the bytes the OpenSSL probe writes.
void expect_derived_hello_is_sent(const profiles::Profile& p,
                                  const std::optional<std::string>& sni) {
  SCOPED_TRACE("profile " + p.id);
  ASSERT_EQ(p.format, 1);
  Capture c = capture(p, sni);
  ASSERT_TRUE(c.hello.ok) << c.hello.error << " (probe: " << c.result.reason << ")";
  const profiles::WireHello& h = p.hello;
  auto ints = [](const auto& v) { return std::vector<int>(v.begin(), v.end()); };
  std::vector<int> extensions;
  for (auto e : h.extensions)
    if (e != 0x0000 || sni)
      extensions.push_back(e);
  EXPECT_EQ(c.hello.extensions, extensions);
  EXPECT_EQ(c.hello.cipher_suites, ints(h.cipher_suites));
  EXPECT_EQ(c.hello.supported_groups, ints(h.groups));
  EXPECT_EQ(c.hello.key_share_groups, ints(h.key_shares));
  EXPECT_EQ(c.hello.signature_algorithms, ints(h.signature_algorithms));
  EXPECT_EQ(c.hello.legacy_version, h.legacy_version);
  EXPECT_EQ(c.hello.record_version, h.record_version);
}

TEST(ClientHello, DerivedHelloOfEveryFormatOneProfileIsWhatOpensslSends) {
  int checked = 0;
  for (const auto& p : profiles::bundled()) {
    if (p.format != 1)
      continue;
    expect_derived_hello_is_sent(p, p.sni == profiles::SniPolicy::none
                                        ? std::nullopt
                                        : std::optional<std::string>("bundled.test"));
    ++checked;
  }
  // Hand-written corners: RSA key exchange only (no groups, no point formats),
  // TLS 1.3 only, security level 3 (no SHA-1/SHA-224 schemes).
  const std::string tail = "[[modes]]\nname = \"m\"\nverify = \"none\"\n[errors]\n"
                           "connection_refused = \"a\"\nconnect_timeout = \"a\"\n"
                           "handshake_failure = \"a\"\nhandshake_timeout = \"a\"\n"
                           "response_timeout = \"a\"\nhttp_error = \"a\"\n"
                           "origin_unresolvable = \"a\"\n";
  for (const std::string hello :
       {"versions = [\"TLSv1.2\"]\nciphers = [\"AES128-SHA\"]\ngroups = [\"P-256\"]\n",
        "versions = [\"TLSv1.3\"]\ntls13_ciphersuites = [\"TLS_AES_256_GCM_SHA384\"]\n"
        "groups = [\"P-384\", \"X25519\"]\nalpn = [\"h2\"]\n",
        "versions = [\"TLSv1.2\", \"TLSv1.3\"]\nciphers = [\"ECDHE-ECDSA-AES128-SHA\"]\n"
        "tls13_ciphersuites = [\"TLS_AES_128_GCM_SHA256\"]\ngroups = [\"ffdhe2048\", \"P-256\"]\n"
        "security_level = 3\n"}) {
    auto p =
        profiles::parse_profile("name = \"t\"\n[client_hello]\n" + hello + tail, "t.toml", "t");
    ASSERT_TRUE(p.has_value()) << p.error().to_string();
    expect_derived_hello_is_sent(*p, std::string("corner.test"));
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(ClientHello, CloudflareLikeProfileIsSentAsWritten) {
  expect_client_hello_matches(cloudflare_like_profile(), std::string("capture.test"));
}

TEST(ClientHello, NoSniAndNoAlpn) {
  auto p = cloudflare_like_profile();
  p.alpn.clear();
  expect_client_hello_matches(p, std::nullopt);
}

TEST(ClientHello, Tls12OnlyProfileHasNoSupportedVersions) {
  auto p = cloudflare_like_profile();
  p.versions = {TlsVersion::tls1_2};
  p.groups = {"P-384", "P-256"};
  p.ciphers = {"ECDHE-RSA-AES256-GCM-SHA384", "AES128-SHA"};
  expect_client_hello_matches(p, std::string("tls12.test"));
}

TEST(ClientHello, Tls13OnlyProfileOrdersSuites) {
  auto p = cloudflare_like_profile();
  p.versions = {TlsVersion::tls1_3};
  p.tls13_ciphersuites = {"TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"};
  p.groups = {"P-256", "X25519"};
  p.alpn = {"http/1.1"};
  expect_client_hello_matches(p, std::string("tls13.test"));
}

TEST(ClientHello, OverridesReplaceTheProfileLists) {
  auto p = cloudflare_like_profile();
  RawServer server(RawMode::capture);
  auto spec = loopback_spec(server.port(), p, shared_catalogue(), std::string("o.test"));
  spec.overrides.only_version = TlsVersion::tls1_2;
  spec.overrides.ciphers = std::vector<std::string>{"ECDHE-RSA-AES256-SHA"};
  spec.overrides.groups = std::vector<std::string>{"P-521"};
  handshake::run({spec});
  auto hellos = server.wait_for_captures(1, 3s);
  ASSERT_EQ(hellos.size(), 1u);
  auto hello = parse_client_hello(hellos[0]);
  ASSERT_TRUE(hello.ok);
  EXPECT_TRUE(hello.supported_versions.empty());
  EXPECT_EQ(hello.legacy_version, 0x0303);
  std::vector<int> suites;
  for (int s : hello.cipher_suites)
    if (s != 0x00ff)
      suites.push_back(s);
  EXPECT_EQ(suites, std::vector<int>{cipher_ids().at("ECDHE-RSA-AES256-SHA")});
  EXPECT_EQ(hello.supported_groups, std::vector<int>{0x0019});
}

TEST(ClientHello, EveryBundledProfile) {
  const auto& all = profiles::bundled();
  if (all.empty())
    GTEST_SKIP() << "no bundled profiles in this build yet";
  for (const auto& p : all) {
    std::optional<std::string> sni;
    if (p.sni == profiles::SniPolicy::request_host)
      sni = "bundled.test";
    else if (p.sni == profiles::SniPolicy::fixed)
      sni = p.sni_name;
    expect_client_hello_matches(p, sni);
  }
}

} // namespace
} // namespace edgeshake::testing
