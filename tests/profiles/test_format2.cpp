// Format 2: the hello by name, provenance per field, variants, the OpenSSL
// approximation derived from the hello, and the bundled Cloudflare profile
// against the BoringSSL/Pingora reference hellos (tests/support/hellos.hpp).
#include "tests/profiles/support.hpp"
#include "tests/support/hellos.hpp"

#include <algorithm>

namespace edgeshake::profiles::testing {
namespace {

// Lines 1-3, then the [hello] lines (from line 4), then provenance for every
// key among them, then the tail.
std::string f2(const std::vector<std::string>& hello_lines, const std::string& after = "",
               bool with_provenance = true) {
  std::string s = "format = 2\nname = \"t\"\n[hello]\n";
  for (const auto& l : hello_lines)
    s += l + "\n";
  if (with_provenance) {
    s += "[provenance]\n";
    for (const auto& l : hello_lines)
      s += l.substr(0, l.find(' ')) + " = { source = \"assumed\", note = \"A test.\" }\n";
  }
  return s + after + k_tail;
}

const std::vector<std::string> k_ok = {
    "versions = [\"TLSv1.2\"]",                                                       // 4
    "cipher_suites = [\"AES128-SHA\"]",                                               // 5
    "extensions = [\"server_name\", \"supported_groups\", \"signature_algorithms\"]", // 6
    "groups = [\"P-256\"]",                                                           // 7
    "signature_algorithms = [\"rsa_pkcs1_sha256\"]",                                  // 8
};

std::vector<std::string> with(std::size_t line, const std::string& text) {
  auto v = k_ok;
  if (line - 4 < v.size())
    v[line - 4] = text;
  else
    v.push_back(text);
  return v;
}

Profile bundled_cloudflare() {
  auto p = find("cloudflare");
  EXPECT_TRUE(p.has_value());
  return *p;
}

WireHello as_profiled(WireHello h) {
  h.tcp_max_segment = 1448;
  h.suite_versions[0x000a] = {TlsVersion::tls1_0};
  return h;
}

TEST(ProfileFormat2, LoadsAndResolvesNames) {
  auto r = parse(f2(k_ok));
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->format, 2);
  ASSERT_EQ(r->hellos.size(), 1u);
  const WireHello& h = r->hellos.front();
  EXPECT_EQ(h.cipher_suites, (std::vector<std::uint16_t>{0x002f}));
  EXPECT_EQ(h.extensions, (std::vector<std::uint16_t>{0x0000, 0x000a, 0x000d}));
  EXPECT_EQ(h.groups, (std::vector<std::uint16_t>{23}));
  EXPECT_EQ(r->ciphers, (std::vector<std::string>{"AES128-SHA"}));
  EXPECT_EQ(r->groups, (std::vector<std::string>{"P-256"}));
  EXPECT_EQ(r->signature_algorithms, (std::vector<std::string>{"rsa_pkcs1_sha256"}));
  EXPECT_EQ(r->provenance.at("groups").kind, SourceKind::assumed);
  EXPECT_FALSE(r->openssl.status_request);
  EXPECT_FALSE(r->openssl.session_ticket);
  EXPECT_FALSE(r->openssl.encrypt_then_mac);
  EXPECT_FALSE(r->openssl.extended_master_secret);
}

TEST(ProfileFormat2, ValidationErrors) {
  profile_should_fail(f2(with(7, "groups = [\"P-256\", \"NOPE\"]")), "unknown group 'NOPE'", 7, 20);
  profile_should_fail(f2(with(6, "extensions = [\"server_name\", \"nope\"]")),
                      "unknown extension 'nope'", 6, 30);
  profile_should_fail(f2(with(6, "extensions = [\"early_data\"]")),
                      "extension 'early_data' (0x002a) cannot be written by the wire probe", 6, 15);
  profile_should_fail(f2(with(6, "extensions = [\"server_name\", \"server_name\"]")),
                      "duplicate 'server_name' in extensions", 6, 30);
  profile_should_fail(f2(with(5, "cipher_suites = [\"NOPE\"]")), "unknown cipher suite 'NOPE'", 5,
                      18);
  // Key shares: a subset of groups, in groups' order.
  profile_should_fail(f2(with(9, "key_shares = [\"X25519\"]")),
                      "key share 'x25519' is not in groups", 9, 15);
  auto two = with(7, "groups = [\"P-256\", \"P-384\"]");
  two.push_back("key_shares = [\"P-384\", \"P-256\"]");
  two[2] = "extensions = [\"server_name\", \"supported_groups\", \"signature_algorithms\", "
           "\"key_share\"]";
  profile_should_fail(f2(two), "key_shares must follow the order of groups", 9, 24);
  // Every hello field cites its source.
  auto text = f2(k_ok, "", false);
  // (Checked in key order: cipher_suites is the first key without one.)
  profile_should_fail(text, "hello field 'cipher_suites' has no provenance", 5, 1);
  profile_should_fail(f2(k_ok, "ghost = { source = \"assumed\", note = \"x\" }\n"),
                      "provenance for unknown hello field 'ghost'", 15, 1);
  profile_should_fail(
      f2(k_ok, "sni = { source = \"inferred\", reference = \"x\", note = \"x\" }\n"),
      "an inferred source needs reference = \"owner/repo@commit:path\"", 15, 42);
  // suite_versions: the suite must be offered, at versions offered.
  profile_should_fail(f2(with(9, "suite_versions = { \"AES256-SHA\" = [\"TLSv1.2\"] }")),
                      "suite_versions names 'AES256-SHA', which is not in cipher_suites", 9, 20);
  profile_should_fail(f2(with(9, "suite_versions = { \"AES128-SHA\" = [\"TLSv1\"] }")),
                      "suite_versions: 'TLSv1' for 'AES128-SHA' is not in versions", 9, 36);
  // A field's extension must be listed.
  profile_should_fail(
      f2(with(9, "alpn = [\"h2\"]")),
      "alpn has values but extensions has no application_layer_protocol_negotiation", 3, 1);
  profile_should_fail(f2(k_ok).replace(0, 10, "format = 1"), "'hello' is format 2: set format = 2",
                      3, 1);
}

const std::string k_variant = R"([[variants]]
name = "h2"
description = "d"
default = "maybe"
provenance = { source = "assumed", note = "x" }
[[variants.values]]
name = "on"
description = "d"
[[variants.values.hellos]]
label = "x"
groups = ["P-384"]
)";

TEST(ProfileFormat2, VariantErrors) {
  // Line 15 is the [[variants]] table, 20 its value.
  profile_should_fail(f2(k_ok, k_variant),
                      "default 'maybe' of variant 'h2' is not one of its values (on)", 18, 11);
  std::string bad = k_variant;
  bad.replace(bad.find("maybe"), 5, "on");
  bad += "key_shares = [\"P-256\"]\nextensions = [\"server_name\", \"supported_groups\", "
         "\"signature_algorithms\", \"key_share\"]\n";
  profile_should_fail(f2(k_ok, bad),
                      "leave an invalid hello 'x': key share P-256 is not in supported_groups", 20,
                      1);
}

TEST(ProfileFormat2, CloudflareHellosAreThePingoraHellos) {
  Profile p = bundled_cloudflare();
  EXPECT_EQ(p.format, 2);
  EXPECT_EQ(p.variant_choice, (std::vector<std::pair<std::string, std::string>>{
                                  {"pq", "auto"}, {"compliance", "none"}, {"http2", "on"}}));
  ASSERT_EQ(p.hellos.size(), 2u);
  EXPECT_EQ(p.hellos[0], as_profiled(edgeshake::testing::pingora_hello(false)));
  EXPECT_EQ(p.hellos[1], as_profiled(edgeshake::testing::pingora_hello(true)));
  WireHello base = as_profiled(edgeshake::testing::pingora_hello(false));
  base.label = "";
  EXPECT_EQ(p.hello, base);
  // Sizes on the wire with "shop.example.test" (17 bytes), as captured
  // (shared/reference/cloudflare-origin-hello.md: 272 and 1,494 bytes).
  EXPECT_EQ(encoded_size(p.hellos[0], 17), 272u);
  EXPECT_EQ(encoded_size(p.hellos[1], 17), 1494u);
  EXPECT_GT(encoded_size(p.hellos[1], 17), p.hellos[1].tcp_max_segment);
  for (auto field : {"versions", "cipher_suites", "extensions", "groups", "key_shares",
                     "signature_algorithms", "alpn", "tcp_max_segment", "suite_versions"})
    EXPECT_TRUE(p.provenance.count(field)) << field;
  EXPECT_EQ(p.provenance.at("tcp_max_segment").kind, SourceKind::assumed);
  EXPECT_EQ(p.provenance.at("versions").kind, SourceKind::documented);
  EXPECT_EQ(p.provenance.at("groups").kind, SourceKind::inferred);
}

TEST(ProfileFormat2, CloudflareOpensslApproximation) {
  Profile p = bundled_cloudflare();
  EXPECT_EQ(p.versions, (std::vector<TlsVersion>{TlsVersion::tls1_0, TlsVersion::tls1_1,
                                                 TlsVersion::tls1_2, TlsVersion::tls1_3}));
  EXPECT_EQ(p.ciphers, (std::vector<std::string>{
                           "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                           "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                           "ECDHE-RSA-AES128-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
                           "AES128-SHA", "AES256-SHA"}));
  ASSERT_EQ(p.ciphers_not_offered.size(), 1u);
  EXPECT_EQ(p.ciphers_not_offered[0].name, "DES-CBC3-SHA");
  EXPECT_EQ(p.tls13_ciphersuites,
            (std::vector<std::string>{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                      "TLS_CHACHA20_POLY1305_SHA256"}));
  EXPECT_EQ(p.groups, (std::vector<std::string>{"X25519", "P-256", "P-384", "P-521"}));
  EXPECT_TRUE(p.groups_not_offered.empty());
  EXPECT_EQ(p.signature_algorithms.size(), 10u);
  EXPECT_EQ(p.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_FALSE(p.openssl.status_request);
  EXPECT_TRUE(p.openssl.session_ticket);
  EXPECT_FALSE(p.openssl.encrypt_then_mac);
  EXPECT_TRUE(p.openssl.extended_master_secret);
  EXPECT_FALSE(p.openssl.padding);
  auto has = [&p](std::string_view text) {
    return std::any_of(p.openssl.deviations.begin(), p.openssl.deviations.end(),
                       [text](const std::string& d) { return d.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("the renegotiation SCSV (0x00ff) instead of the renegotiation_info extension"));
  EXPECT_TRUE(has("ec_point_formats [0,1,2] instead of [0]"));
  EXPECT_TRUE(has("extension order: OpenSSL's own"));
  EXPECT_TRUE(has("cipher suites without DES-CBC3-SHA"));

  auto pq = select_variants(p, {{"pq", "preferred"}});
  ASSERT_TRUE(pq.has_value()) << pq.error().to_string();
  ASSERT_EQ(pq->groups_not_offered.size(), 1u);
  EXPECT_EQ(pq->groups_not_offered[0].name, "X25519MLKEM768");
  EXPECT_EQ(pq->groups, (std::vector<std::string>{"X25519", "P-256", "P-384", "P-521"}));
}

struct Combo {
  std::vector<std::pair<std::string, std::string>> choices;
  std::vector<std::string> labels;
  std::vector<TlsVersion> versions;
  std::vector<std::uint16_t> front_groups;
  std::vector<std::uint16_t> front_shares;
  std::vector<std::string> alpn;
};

TEST(ProfileFormat2, CloudflareVariantCombinations) {
  const Profile p = bundled_cloudflare();
  using V = TlsVersion;
  const std::vector<V> all = {V::tls1_0, V::tls1_1, V::tls1_2, V::tls1_3};
  const std::vector<std::uint16_t> classical = {29, 23, 24, 25}, pq = {0x11ec, 29, 23, 24, 25};
  const std::vector<std::string> h2 = {"h2", "http/1.1"}, h1 = {"http/1.1"};
  const std::vector<Combo> rows = {
      {{}, {"classical", "post_quantum"}, all, classical, {29}, h2},
      {{{"pq", "preferred"}}, {"post_quantum"}, all, pq, {0x11ec, 29}, h2},
      {{{"pq", "supported"}}, {"classical"}, all, pq, {29}, h2},
      {{{"pq", "off"}}, {"classical"}, all, classical, {29}, h2},
      {{{"compliance", "pqh"}}, {"classical", "post_quantum"}, {V::tls1_3}, classical, {29}, h2},
      {{{"compliance", "fips"}}, {"classical"}, {V::tls1_2, V::tls1_3}, {23, 24}, {23}, h2},
      {{{"compliance", "fips"}, {"pq", "preferred"}},
       {"post_quantum"},
       {V::tls1_2, V::tls1_3},
       {23, 24},
       {23},
       h2},
      {{{"http2", "off"}}, {"classical", "post_quantum"}, all, classical, {29}, h1},
      {{{"pq", "preferred"}, {"compliance", "pqh"}, {"http2", "off"}},
       {"post_quantum"},
       {V::tls1_3},
       pq,
       {0x11ec, 29},
       h1},
  };
  for (const auto& row : rows) {
    std::string name;
    for (const auto& [k, v] : row.choices)
      name += k + "=" + v + " ";
    SCOPED_TRACE(name);
    auto r = select_variants(p, row.choices);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    std::vector<std::string> labels;
    for (const auto& h : r->hellos) {
      labels.push_back(h.label);
      EXPECT_EQ(h.versions, row.versions);
      EXPECT_EQ(h.alpn, row.alpn);
    }
    EXPECT_EQ(labels, row.labels);
    EXPECT_EQ(r->hellos.front().groups, row.front_groups);
    EXPECT_EQ(r->hellos.front().key_shares, row.front_shares);
    EXPECT_EQ(r->versions, row.versions);
    EXPECT_EQ(r->alpn, row.alpn);
    // Idempotent.
    auto again = select_variants(*r, row.choices);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, *r);
  }
  auto fips = select_variants(p, {{"compliance", "fips"}});
  ASSERT_TRUE(fips.has_value());
  EXPECT_TRUE(fips->hellos.front().suite_versions.empty()); // DES-CBC3-SHA is gone
  EXPECT_TRUE(fips->ciphers_not_offered.empty());
}

TEST(ProfileFormat2, UnknownVariantsAreUsageErrors) {
  const Profile p = bundled_cloudflare();
  auto r = select_variants(p, {{"nope", "x"}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::usage);
  EXPECT_NE(r.error().message.find("profile 'cloudflare' has no variant 'nope'"),
            std::string::npos);
  r = select_variants(p, {{"pq", "maybe"}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::usage);
  EXPECT_NE(r.error().message.find("variant 'pq' of profile 'cloudflare' has no value 'maybe'"),
            std::string::npos);
  auto c = parse_variant_choice("pq=preferred");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->first, "pq");
  EXPECT_EQ(c->second, "preferred");
  EXPECT_FALSE(parse_variant_choice("pq").has_value());
  EXPECT_FALSE(parse_variant_choice("=x").has_value());
}

TEST(ProfileFormat2, FormatOneGetsTheOpensslHello) {
  auto r = parse(k_head + "alpn = [\"h2\"]\n" + k_tail);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->hellos.size(), 1u);
  const WireHello& h = r->hellos.front();
  EXPECT_EQ(h, r->hello);
  // No ECDHE or ECDSA suite and no TLS 1.3: OpenSSL sends neither
  // ec_point_formats nor supported_groups (use_ecc in extensions_clnt.c).
  EXPECT_EQ(h.extensions,
            (std::vector<std::uint16_t>{0x0000, 0x0023, 0x0005, 0x0010, 0x0016, 0x0017, 0x000d}));
  EXPECT_EQ(h.cipher_suites, (std::vector<std::uint16_t>{0x002f, 0x00ff}));
  EXPECT_TRUE(h.groups.empty());
  EXPECT_EQ(h.legacy_version, 0x0303);
  EXPECT_FALSE(h.signature_algorithms.empty());
  EXPECT_EQ(r->provenance.at("extensions").kind, SourceKind::assumed);
  // With an ECDHE suite and TLS 1.3: the OpenSSL 3.0 extension order, one key share.
  auto t13 = parse(
      "name = \"t\"\n[client_hello]\nversions = [\"TLSv1.2\", \"TLSv1.3\"]\n"
      "ciphers = [\"ECDHE-RSA-AES128-GCM-SHA256\"]\n"
      "tls13_ciphersuites = [\"TLS_AES_128_GCM_SHA256\"]\ngroups = [\"X25519\", \"P-256\"]\n" +
      k_tail);
  ASSERT_TRUE(t13.has_value()) << t13.error().to_string();
  const WireHello& g = t13->hello;
  EXPECT_EQ(g.extensions,
            (std::vector<std::uint16_t>{0x0000, 0x000b, 0x000a, 0x0023, 0x0005, 0x0016, 0x0017,
                                        0x000d, 0x002b, 0x002d, 0x0033}));
  EXPECT_EQ(g.cipher_suites, (std::vector<std::uint16_t>{0x1301, 0xc02f, 0x00ff}));
  EXPECT_EQ(g.groups, (std::vector<std::uint16_t>{29, 23}));
  EXPECT_EQ(g.key_shares, (std::vector<std::uint16_t>{29}));
  EXPECT_EQ(g.ec_point_formats, (std::vector<std::uint8_t>{0, 1, 2}));
  EXPECT_EQ(g.psk_key_exchange_modes, (std::vector<std::uint8_t>{1}));
  // Variants need format 2.
  EXPECT_FALSE(select_variants(*r, {{"pq", "off"}}).has_value());
}

} // namespace
} // namespace edgeshake::profiles::testing
