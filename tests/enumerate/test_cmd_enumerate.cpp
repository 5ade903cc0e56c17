// The `edgeshake enumerate` command end to end: exit codes, text and JSON output.
#include "tests/support/certs.hpp"
#include "tests/support/dnsmasq.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace edgeshake::testing;

namespace {

CommandResult run_enumerate_cli(std::vector<std::string> args) {
  args.insert(args.begin(), {EDGESHAKE_BINARY, "enumerate"});
  return run_command(args, std::chrono::seconds(60));
}

NginxConfig small_origin() {
  const auto& c = shared_catalogue();
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_rsa.chain, c.leaf_rsa.key, {c.host}));
  cfg.protocols = {"TLSv1.2", "TLSv1.3"};
  cfg.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA";
  cfg.prefer_server_ciphers = true;
  return cfg;
}

} // namespace

TEST(CmdEnumerate, UsageErrorsExitTwo) {
  EXPECT_EQ(run_enumerate_cli({"127.0.0.1:99999"}).status, 2);
  EXPECT_EQ(run_enumerate_cli({"127.0.0.1", "--max-conns", "0"}).status, 2);
  EXPECT_EQ(run_enumerate_cli({"127.0.0.1", "--timeout", "soon"}).status, 2);
  auto r = run_enumerate_cli({"origin.test", "--connect", "not-an-ip"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--connect"), std::string::npos) << r.output;
  EXPECT_EQ(run_enumerate_cli({"origin.test", "--resolver", "not-an-ip"}).status, 2);
}

// A name without --connect is looked up (here at a loopback dnsmasq) and its
// first address enumerated; the JSON says what the name resolved to.
TEST(CmdEnumerate, NameIsResolvedToItsFirstAddress) {
  ES_REQUIRE_PROGRAM("nginx");
  ES_REQUIRE_PROGRAM("dnsmasq");
  NginxOrigin origin(small_origin());
  Dnsmasq dns("origin.test A 127.0.0.1\n");
  auto r = run_enumerate_cli(
      {"origin.test:" + std::to_string(origin.port()), "--resolver", dns.server(), "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["status"], "complete");
  EXPECT_EQ(j["target"]["address"], "127.0.0.1");
  EXPECT_EQ(j["sni"], "origin.test");
  EXPECT_EQ(j["resolved"]["name"], "origin.test");
  EXPECT_EQ(j["resolved"]["addresses"], nlohmann::json::array({"127.0.0.1"}));
  // With --connect nothing is looked up.
  auto direct = run_enumerate_cli(
      {"origin.test:" + std::to_string(origin.port()), "--connect", "127.0.0.1", "--json"});
  ASSERT_EQ(direct.status, 0) << direct.output;
  EXPECT_TRUE(nlohmann::json::parse(direct.output)["resolved"].is_null());
}

TEST(CmdEnumerate, UnresolvableNameCannotRun) {
  ES_REQUIRE_PROGRAM("dnsmasq");
  Dnsmasq dns("known.test A 127.0.0.1\n");
  auto r = run_enumerate_cli({"unknown.test", "--resolver", dns.server()});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("could not resolve (nxdomain)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--connect"), std::string::npos) << r.output;
}

TEST(CmdEnumerate, UnreachableExitsOne) {
  auto r = run_enumerate_cli({"127.0.0.1:" + std::to_string(free_tcp_port()), "--timeout", "2s"});
  EXPECT_EQ(r.status, 1) << r.output;
}

TEST(CmdEnumerate, TextNamesSuitesInBothForms) {
  ES_REQUIRE_PROGRAM("nginx");
  NginxOrigin origin(small_origin());
  auto r = run_enumerate_cli(
      {"origin.test:" + std::to_string(origin.port()), "--connect", "127.0.0.1", "--no-color"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("ECDHE-RSA-AES128-GCM-SHA256"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), std::string::npos);
  EXPECT_NE(r.output.find("TLS_RSA_WITH_AES_256_CBC_SHA"), std::string::npos);
  EXPECT_NE(r.output.find("server order"), std::string::npos);
  EXPECT_EQ(r.output.find("\x1b["), std::string::npos); // --no-color
}

TEST(CmdEnumerate, JsonFollowsTheDocumentedShape) {
  ES_REQUIRE_PROGRAM("nginx");
  NginxOrigin origin(small_origin());
  auto r = run_enumerate_cli({"127.0.0.1:" + std::to_string(origin.port()), "--sni", "origin.test",
                              "--json", "--max-conns", "3"});
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["status"], "complete");
  EXPECT_EQ(j["sni"], "origin.test");
  EXPECT_LE(j["peak_in_flight"].get<int>(), 3);
  EXPECT_EQ(j["connections"].get<std::size_t>(), j["probes"].size());
  bool saw12 = false;
  for (const auto& v : j["versions"]) {
    if (v["version"] != "TLSv1.2")
      continue;
    saw12 = true;
    EXPECT_EQ(v["status"], "supported");
    EXPECT_EQ(v["preference"], "server");
    ASSERT_EQ(v["suites"].size(), 2u);
    EXPECT_EQ(v["suites"][0]["code"], "0xC02F");
    EXPECT_EQ(v["suites"][0]["openssl"], "ECDHE-RSA-AES128-GCM-SHA256");
    EXPECT_EQ(v["suites"][1]["iana"], "TLS_RSA_WITH_AES_256_CBC_SHA");
  }
  EXPECT_TRUE(saw12);
  for (const char* key : {"groups", "alpn", "sni_behaviour", "split_hello", "elapsed_ms"})
    EXPECT_TRUE(j.contains(key)) << key;
}
