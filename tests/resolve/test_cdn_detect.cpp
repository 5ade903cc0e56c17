// CdnDatabase: range matching (edges of prefixes, longest prefix, IPv4 and IPv6,
// thousands of prefixes), CNAME suffixes on label boundaries, data-file errors,
// and the bundled files.
#include "resolve/resolve.hpp"

#include <gtest/gtest.h>

#include <fmt/core.h>

#include <chrono>
#include <random>

namespace edgeshake::resolve {
namespace {

CdnDatabase parse_ok(const std::string& text) {
  auto db = CdnDatabase::parse(text, "test.toml");
  EXPECT_TRUE(db) << (db ? "" : db.error().to_string());
  return db ? std::move(*db) : CdnDatabase{};
}

const char* const k_two_levels = R"(
id = "outer"
name = "Outer"
[ranges]
source = "test"
snapshot = "test"
v4 = ["10.0.0.0/8", "192.0.2.0/24", "198.51.100.128/25", "0.0.0.0/0"]
v6 = ["2001:db8::/32", "2001:db8:ffff:ffff::/64", "2001:db8:1::/48"]
[cname]
suffixes = ["cdn.example.net", "Example.ORG"]
source = "test"
snapshot = "test"
)";

std::string cdn_of(const CdnDatabase& db, const std::string& ip) {
  auto m = db.match_address(ip);
  return m ? m->matched : "-";
}

TEST(CdnRangeTest, FirstAndLastAddressOfAPrefixMatchAndJustOutsideDoesNot) {
  auto db = parse_ok(R"(
id = "x"
name = "X"
[ranges]
source = "s"
snapshot = "d"
v4 = ["192.0.2.0/24", "198.51.100.128/25"]
v6 = ["2001:db8:1::/48", "2001:db8:ffff:ffff::/64"]
)");
  EXPECT_EQ(cdn_of(db, "192.0.2.0"), "192.0.2.0/24");
  EXPECT_EQ(cdn_of(db, "192.0.2.255"), "192.0.2.0/24");
  EXPECT_EQ(cdn_of(db, "192.0.1.255"), "-");
  EXPECT_EQ(cdn_of(db, "192.0.3.0"), "-");
  EXPECT_EQ(cdn_of(db, "198.51.100.128"), "198.51.100.128/25");
  EXPECT_EQ(cdn_of(db, "198.51.100.255"), "198.51.100.128/25");
  EXPECT_EQ(cdn_of(db, "198.51.100.127"), "-");
  EXPECT_EQ(cdn_of(db, "198.51.101.0"), "-");

  EXPECT_EQ(cdn_of(db, "2001:db8:1::"), "2001:db8:1::/48");
  EXPECT_EQ(cdn_of(db, "2001:db8:1:ffff:ffff:ffff:ffff:ffff"), "2001:db8:1::/48");
  EXPECT_EQ(cdn_of(db, "2001:db8:0:ffff:ffff:ffff:ffff:ffff"), "-");
  EXPECT_EQ(cdn_of(db, "2001:db8:2::"), "-");
  EXPECT_EQ(cdn_of(db, "2001:db8:ffff:ffff::"), "2001:db8:ffff:ffff::/64");
  EXPECT_EQ(cdn_of(db, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), "2001:db8:ffff:ffff::/64");
  EXPECT_EQ(cdn_of(db, "2001:db8:ffff:fffe:ffff:ffff:ffff:ffff"), "-");
  EXPECT_EQ(cdn_of(db, "2001:db9::"), "-");
  // An IPv4 address never matches an IPv6 prefix and vice versa.
  EXPECT_EQ(cdn_of(db, "::ffff:192.0.2.1"), "-");
  EXPECT_EQ(cdn_of(db, "not-an-ip"), "-");
}

TEST(CdnRangeTest, LongestPrefixWinsAcrossProviders) {
  auto db = CdnDatabase::parse_files({{"a.toml", R"(
id = "wide"
name = "Wide"
[ranges]
source = "wide-src"
snapshot = "d"
v4 = ["10.0.0.0/8", "0.0.0.0/0"]
v6 = ["2001:db8::/32"]
)"},
                                      {"b.toml", R"(
id = "narrow"
name = "Narrow"
[ranges]
source = "narrow-src"
snapshot = "d"
v4 = ["10.1.2.0/24", "10.1.2.3/32"]
v6 = ["2001:db8:1::/48", "2001:db8:1::1/128"]
)"}});
  ASSERT_TRUE(db) << db.error().to_string();
  auto m = db->match_address("10.1.2.4");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cdn, "narrow");
  EXPECT_EQ(m->matched, "10.1.2.0/24");
  EXPECT_EQ(m->source, "narrow-src");
  EXPECT_EQ(m->evidence_kind, "ip_range");
  EXPECT_EQ(m->on, "10.1.2.4");
  EXPECT_EQ(db->match_address("10.1.2.3")->matched, "10.1.2.3/32");
  EXPECT_EQ(db->match_address("10.1.3.0")->matched, "10.0.0.0/8");
  EXPECT_EQ(db->match_address("11.0.0.0")->matched, "0.0.0.0/0");
  EXPECT_EQ(db->match_address("2001:db8:1::1")->matched, "2001:db8:1::1/128");
  EXPECT_EQ(db->match_address("2001:db8:1::2")->matched, "2001:db8:1::/48");
  EXPECT_EQ(db->match_address("2001:db8:2::")->cdn, "wide");
  EXPECT_FALSE(db->match_address("2001:db9::"));
  EXPECT_EQ(db->prefix_count(), 7u);
  EXPECT_EQ(db->cdn_ids(), (std::vector<std::string>{"narrow", "wide"}));
}

// Thousands of prefixes: every lookup must agree with a brute-force scan, and
// stay fast (binary search per distinct length, not a linear scan).
TEST(CdnRangeTest, ThousandsOfPrefixesAgreeWithBruteForceAndStayFast) {
  std::mt19937 rng(12345);
  struct P {
    std::uint32_t net;
    int len;
  };
  std::vector<P> prefixes;
  std::string v4;
  for (int i = 0; i < 20000; ++i) {
    int len = 8 + static_cast<int>(rng() % 25); // /8../32
    std::uint32_t net = rng() & (len == 0 ? 0u : ~0u << (32 - len));
    prefixes.push_back({net, len});
    v4 += fmt::format("{}\"{}.{}.{}.{}/{}\"", v4.empty() ? "" : ",", net >> 24, (net >> 16) & 255,
                      (net >> 8) & 255, net & 255, len);
  }
  std::string text = "id = \"big\"\nname = \"Big\"\n[ranges]\nsource = \"s\"\nsnapshot = \"d\"\n"
                     "v4 = [" +
                     v4 + "]\n";
  auto parse_start = std::chrono::steady_clock::now();
  auto db = CdnDatabase::parse(text, "big.toml");
  auto parse_took = std::chrono::steady_clock::now() - parse_start;
  ASSERT_TRUE(db) << db.error().to_string();
  EXPECT_EQ(db->prefix_count(), 20000u);

  auto brute = [&](std::uint32_t a) {
    int best = -1;
    for (const auto& p : prefixes) {
      std::uint32_t mask = p.len == 0 ? 0u : ~0u << (32 - p.len);
      if ((a & mask) == p.net && p.len > best)
        best = p.len;
    }
    return best;
  };
  std::vector<std::uint32_t> probes;
  for (int i = 0; i < 2000; ++i) {
    // Half inside a known prefix (at its first/last address or inside), half random.
    if (i % 2 == 0) {
      const auto& p = prefixes[rng() % prefixes.size()];
      std::uint32_t host = p.len == 32 ? 0u : (~0u >> p.len);
      std::uint32_t pick = i % 6 == 0 ? 0u : (i % 6 == 2 ? host : (rng() & host));
      probes.push_back(p.net | pick);
    } else {
      probes.push_back(rng());
    }
  }
  for (auto a : probes) {
    std::string ip = fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    auto m = db->match_address(ip);
    int want = brute(a);
    if (want < 0) {
      EXPECT_FALSE(m) << ip;
    } else {
      ASSERT_TRUE(m) << ip;
      EXPECT_EQ(m->matched.substr(m->matched.find('/') + 1), std::to_string(want)) << ip;
    }
  }
  // Timing (reported, loosely bounded): 200k lookups of preformatted addresses
  // (the cost includes inet_pton of the text, as callers pass text).
  std::vector<std::string> texts;
  for (auto a : probes)
    texts.push_back(fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255));
  auto start = std::chrono::steady_clock::now();
  std::size_t hits = 0;
  for (int round = 0; round < 100; ++round) {
    for (const auto& ip : texts)
      hits += db->match_address(ip).has_value();
  }
  auto took = std::chrono::steady_clock::now() - start;
  double ns = std::chrono::duration<double, std::nano>(took).count() / 200000.0;
  RecordProperty("ns_per_lookup_20000_prefixes", std::to_string(static_cast<int>(ns)));
  RecordProperty(
      "parse_ms_20000_prefixes",
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(parse_took).count()));
  std::printf("20000 prefixes: parse+build %lld ms, %.0f ns per match_address, %zu hits\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(parse_took).count()),
              ns, hits);
  EXPECT_LT(ns, 20000.0); // a linear scan over 20000 prefixes would be far slower in debug too
}

TEST(CdnRangeTest, ThousandsOfIpv6Prefixes) {
  std::string v6;
  for (int i = 0; i < 4096; ++i)
    v6 += fmt::format("{}\"2001:db8:{:x}::/48\"", v6.empty() ? "" : ",", i);
  auto db = CdnDatabase::parse("id = \"v6\"\nname = \"V6\"\n[ranges]\nsource = \"s\"\nsnapshot = "
                               "\"d\"\nv6 = [" +
                                   v6 + "]\n",
                               "v6.toml");
  ASSERT_TRUE(db) << db.error().to_string();
  EXPECT_EQ(db->match_address("2001:db8:0::")->matched, "2001:db8:0::/48");
  EXPECT_EQ(db->match_address("2001:db8:fff:ffff:ffff:ffff:ffff:ffff")->matched,
            "2001:db8:fff::/48");
  EXPECT_FALSE(db->match_address("2001:db8:1000::"));
  EXPECT_FALSE(db->match_address("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
}

TEST(CdnNameTest, SuffixesMatchOnLabelBoundariesOnly) {
  auto db = parse_ok(k_two_levels);
  auto m = db.match_name("www.example.com.cdn.example.net");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cdn, "outer");
  EXPECT_EQ(m->evidence_kind, "cname_suffix");
  EXPECT_EQ(m->matched, "cdn.example.net");
  EXPECT_EQ(m->on, "www.example.com.cdn.example.net");
  EXPECT_TRUE(db.match_name("cdn.example.net"));    // the suffix itself
  EXPECT_TRUE(db.match_name("X.CDN.Example.Net.")); // case and trailing dot
  EXPECT_EQ(db.match_name("a.example.org")->matched, "example.org");
  EXPECT_FALSE(db.match_name("evilcdn.example.net"));
  EXPECT_FALSE(db.match_name("cdn.example.net.evil.test"));
  EXPECT_FALSE(db.match_name("example.net"));
  EXPECT_FALSE(db.match_name(""));
}

TEST(CdnNameTest, DetectPrefersTheNameThenTheChainThenAddresses) {
  auto db = parse_ok(k_two_levels);
  ResolveResult r;
  r.name = "www.shop.test";
  r.status = ResolveStatus::ok;
  r.cname_chain = {"a.b.test", "edge.cdn.example.net"};
  r.addresses = {{"192.0.2.9", AddressFamily::ipv4, 60}};
  auto all = db.detect_all(r);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].evidence_kind, "cname_suffix");
  EXPECT_EQ(all[0].on, "edge.cdn.example.net");
  EXPECT_EQ(all[1].evidence_kind, "ip_range");
  EXPECT_EQ(all[1].matched, "192.0.2.0/24");
  EXPECT_EQ(db.detect(r)->evidence_kind, "cname_suffix");
}

struct BadFile {
  std::string text;
  std::string message;
  std::string where;
};

class CdnFileErrorTest : public ::testing::TestWithParam<BadFile> {};

TEST_P(CdnFileErrorTest, IsRejectedWithPosition) {
  auto db = CdnDatabase::parse(GetParam().text, "bad.toml");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, ErrorCode::profile);
  EXPECT_NE(db.error().message.find(GetParam().message), std::string::npos)
      << db.error().to_string();
  EXPECT_EQ(db.error().where, GetParam().where) << db.error().to_string();
}

const char* const k_head = "id = \"x\"\nname = \"X\"\n[ranges]\nsource = \"s\"\nsnapshot = \"d\"\n";

INSTANTIATE_TEST_SUITE_P(
    Files, CdnFileErrorTest,
    ::testing::Values(
        BadFile{std::string(k_head) + "v4 = [\"10.0.0.1/8\"]\n", "host bits set", "bad.toml:6:7"},
        BadFile{std::string(k_head) + "v4 = [\"10.0.0.0/33\"]\n", "prefix length must be 0-32",
                "bad.toml:6:7"},
        BadFile{std::string(k_head) + "v4 = [\"2001:db8::/32\"]\n", "not an IPv4 address",
                "bad.toml:6:7"},
        BadFile{std::string(k_head) + "v6 = [\"2001:db8::\"]\n", "missing '/length'",
                "bad.toml:6:7"},
        BadFile{std::string(k_head) + "v5 = []\n", "unknown key 'ranges.v5'", "bad.toml:6:6"},
        BadFile{"id = \"x\"\nname = \"X\"\n[ranges]\nv4 = []\n", "needs 'source' and 'snapshot'",
                "bad.toml:3:1"},
        BadFile{"id = \"Bad Id\"\nname = \"X\"\n", "'id' must be", "bad.toml:1:6"},
        BadFile{"id = \"x\"\nname = \"X\"\n", "needs a [cname] or a [ranges]", "bad.toml"},
        BadFile{"id = \"x\"\nname = \"X\"\n[cname]\nsource = \"s\"\nsnapshot = \"d\"\n"
                "suffixes = [\"nodot\"]\n",
                "CNAME suffix must be a domain name", "bad.toml:6:13"},
        BadFile{"id = \"x\"\nname = \"X\"\ncolour = 1\n[cname]\n", "unknown key 'colour'",
                "bad.toml:3:10"},
        BadFile{"id = \"x\"\nname = [\n", "encountered end-of-file", "bad.toml:2:10"}));

TEST(CdnBundledTest, BundledFilesLoadWithTheExpectedProvidersAndRanges) {
  const auto& db = CdnDatabase::bundled();
  EXPECT_EQ(db.cdn_ids(), (std::vector<std::string>{"akamai", "azure-front-door", "bunny",
                                                    "cloudflare", "cloudfront", "fastly"}));
  // Cloudflare: 15 IPv4 + 7 IPv6 (cdn-profiles.md 1.12); Fastly: 19 + 2.
  EXPECT_EQ(db.prefix_count(), 15u + 7u + 19u + 2u);
  auto m = db.match_address("104.16.0.0");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cdn, "cloudflare");
  EXPECT_NE(m->source.find("https://www.cloudflare.com/ips-v4"), std::string::npos);
  EXPECT_EQ(db.match_address("104.23.255.255")->matched, "104.16.0.0/13");
  EXPECT_FALSE(db.match_address("104.15.255.255"));
  EXPECT_EQ(db.match_address("2606:4700::6810:85e5")->matched, "2606:4700::/32");
  EXPECT_EQ(db.match_address("2a06:98c7:ffff::1")->matched, "2a06:98c0::/29");
  EXPECT_FALSE(db.match_address("2a06:98c8::"));
  EXPECT_EQ(db.match_address("151.101.1.69")->cdn, "fastly");
  for (auto [name, cdn] : std::vector<std::pair<std::string, std::string>>{
           {"www.example.com.cdn.cloudflare.net", "cloudflare"},
           {"d111111abcdef8.cloudfront.net", "cloudfront"},
           {"dualstack.d.sni.global.fastly.net", "fastly"},
           {"x.fastlylb.net", "fastly"},
           {"e1234.a.akamaiedge.net", "akamai"},
           {"www.example.com.edgekey.net", "akamai"},
           {"www.example.com.edgesuite.net", "akamai"},
           {"a1.g.akamai.net", "akamai"},
           {"x.akamaized.net", "akamai"},
           {"ep-abc.z01.azurefd.net", "azure-front-door"},
           {"ep.azureedge.net", "azure-front-door"},
           {"zone.b-cdn.net", "bunny"}}) {
    auto nm = db.match_name(name);
    ASSERT_TRUE(nm) << name;
    EXPECT_EQ(nm->cdn, cdn) << name;
    EXPECT_FALSE(nm->source.empty());
  }
  EXPECT_FALSE(db.match_name("evilcloudfront.net"));
  EXPECT_FALSE(db.match_name("notakamai.net"));
}

} // namespace
} // namespace edgeshake::resolve
