// `edgeshake resolve` end to end: the real binary against a real dnsmasq on
// loopback (always through --resolver; never the system resolver).
#include "tests/support/dnsmasq.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <set>

namespace edgeshake {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const char* const k_zone = R"(
shop.example.test       CNAME  edge.example.test
edge.example.test       CNAME  shop.example.test.cdn.cloudflare.net
shop.example.test.cdn.cloudflare.net  A     104.16.1.1
shop.example.test.cdn.cloudflare.net  AAAA  2606:4700::1
origin.example.test     A      127.0.0.21
origin.example.test     A      127.0.0.22
origin.example.test     A      127.0.0.23
origin.example.test     A      127.0.0.24
plain.example.test      A      127.0.0.30
)";

std::string binary() {
  // EDGESHAKE_TEST_BINARY lets a developer point the test at another build.
  if (const char* b = std::getenv("EDGESHAKE_TEST_BINARY"))
    return b;
  return EDGESHAKE_BINARY;
}

class ResolveCliTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    if (testing::find_program("dnsmasq"))
      s_dns = std::make_unique<testing::Dnsmasq>(k_zone);
  }
  static void TearDownTestSuite() { s_dns.reset(); }
  void SetUp() override {
    ES_REQUIRE_PROGRAM("dnsmasq");
    ASSERT_TRUE(s_dns);
  }

  testing::CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {binary(), "resolve"});
    return testing::run_command(args, 30s);
  }
  static json parse(const testing::CommandResult& r) {
    try {
      return json::parse(r.output);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.output;
      return json::object();
    }
  }

  static inline std::unique_ptr<testing::Dnsmasq> s_dns;
};

TEST_F(ResolveCliTest, JsonShowsChainAddressesCdnEvidenceAndOriginTargets) {
  auto r = run({"shop.example.test", "--resolver", s_dns->server(), "--origin",
                "origin.example.test:8443", "--origin", "192.0.2.9", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  json j = parse(r);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["command"], "resolve");
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["query"]["name"], "shop.example.test");
  EXPECT_EQ(j["query"]["status"], "ok");
  EXPECT_EQ(j["query"]["cname_chain"],
            json({"edge.example.test", "shop.example.test.cdn.cloudflare.net"}));
  ASSERT_EQ(j["query"]["addresses"].size(), 2u);
  EXPECT_EQ(j["query"]["addresses"][0],
            json({{"ip", "104.16.1.1"}, {"family", "ipv4"}, {"ttl", 300}}));
  EXPECT_EQ(j["query"]["addresses"][1]["ip"], "2606:4700::1");
  EXPECT_EQ(j["cdn"]["cdn"], "cloudflare");
  EXPECT_EQ(j["cdn"]["evidence_kind"], "cname_suffix");
  EXPECT_EQ(j["cdn"]["matched"], "cdn.cloudflare.net");
  EXPECT_EQ(j["cdn"]["on"], "shop.example.test.cdn.cloudflare.net");
  ASSERT_EQ(j["cdn_evidence"].size(), 3u);
  EXPECT_EQ(j["cdn_evidence"][1]["matched"], "104.16.0.0/13");
  EXPECT_EQ(j["cdn_evidence"][2]["matched"], "2606:4700::/32");

  ASSERT_EQ(j["origin"].size(), 2u);
  const json& o = j["origin"][0];
  EXPECT_EQ(o["input"], "origin.example.test:8443");
  EXPECT_EQ(o["status"], "ok");
  ASSERT_EQ(o["targets"].size(), 4u);
  std::set<std::string> addrs;
  for (const auto& t : o["targets"]) {
    EXPECT_EQ(t["port"], 8443);
    EXPECT_EQ(t["name"], "origin.example.test");
    addrs.insert(t["address"].get<std::string>());
  }
  EXPECT_EQ(addrs, (std::set<std::string>{"127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24"}));
  EXPECT_TRUE(j["origin"][1]["resolution"].is_null());
  EXPECT_EQ(j["origin"][1]["targets"][0]["address"], "192.0.2.9");
  EXPECT_EQ(j["origin"][1]["targets"][0]["port"], 443);
}

TEST_F(ResolveCliTest, TextOutputOverIpv6Resolver) {
  if (!testing::loopback_ipv6_available())
    GTEST_SKIP() << "no IPv6 loopback";
  testing::DnsmasqOptions opts;
  opts.ipv6 = true;
  testing::Dnsmasq dns6(k_zone, opts);
  auto r = run({"shop.example.test", "--resolver", dns6.server6(), "--no-color"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("shop.example.test -> edge.example.test -> "
                          "shop.example.test.cdn.cloudflare.net"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("104.16.1.1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Cloudflare [cloudflare]"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\x1b["), std::string::npos) << "colour despite --no-color";
}

TEST_F(ResolveCliTest, NxdomainExitsOneWithStatus) {
  auto r = run({"missing.example.test", "--resolver", s_dns->server(), "--json"});
  EXPECT_EQ(r.status, 1) << r.output;
  json j = parse(r);
  EXPECT_EQ(j["status"], "unresolved");
  EXPECT_EQ(j["query"]["status"], "nxdomain");
  EXPECT_TRUE(j["cdn"].is_null());
}

TEST_F(ResolveCliTest, UnresolvableOriginExitsOne) {
  auto r = run({"plain.example.test", "--resolver", s_dns->server(), "--origin",
                "gone.example.test", "--json"});
  EXPECT_EQ(r.status, 1) << r.output;
  json j = parse(r);
  EXPECT_EQ(j["query"]["status"], "ok");
  EXPECT_EQ(j["origin"][0]["status"], "nxdomain");
  EXPECT_TRUE(j["origin"][0]["targets"].empty());
}

TEST_F(ResolveCliTest, SilentResolverTimesOutWithinTheGivenTime) {
  testing::SilentUdpPort silent;
  auto start = std::chrono::steady_clock::now();
  auto r = run({"plain.example.test", "--resolver", silent.server(), "--timeout", "200ms",
                "--tries", "1", "--json"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(parse(r)["query"]["status"], "timeout");
  EXPECT_LT(took, 2s);
}

TEST_F(ResolveCliTest, BadInputExitsTwoWithOneLine) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"bad..name.test", "--resolver", s_dns->server()},
           {"plain.example.test", "--resolver", "dns.example"},
           {"plain.example.test", "--resolver", "127.0.0.1:99999"},
           {"plain.example.test", "--resolver", s_dns->server(), "--timeout", "soon"},
           {"plain.example.test", "--resolver", s_dns->server(), "--tries", "0"},
           {"plain.example.test", "--resolver", s_dns->server(), "--origin", "[::1"},
           {}}) {
    auto r = run(args);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_EQ(r.output.rfind("edgeshake: ", 0), 0u) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
}

} // namespace
} // namespace edgeshake
