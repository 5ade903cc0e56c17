// The whole pipeline: a real dnsmasq zone that puts the site behind
// "Cloudflare" (CNAME under cdn.cloudflare.net), a real edge and a real origin.
#include "tests/e2e/diagnose_harness.hpp"
#include "tests/support/certs.hpp"
#include "tests/support/dnsmasq.hpp"
#include "tests/support/nginx.hpp"

using namespace edgeshake::testing;

namespace {

class Pipeline : public ::testing::Test {
protected:
  void SetUp() override {
    ES_REQUIRE_PROGRAM("nginx");
    ES_REQUIRE_PROGRAM("dnsmasq");
  }
  const CertCatalogue& c = shared_catalogue();
};

NginxConfig site(const IssuedCert& cert, const std::string& host) {
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(cert.chain, cert.key, {host}));
  return cfg;
}

} // namespace

TEST_F(Pipeline, DetectsTheCdnProbesTheEdgeAndDiagnosesTheOrigin) {
  NginxOrigin edge(site(c.leaf_rsa, c.host));
  NginxOrigin origin(site(c.expired, c.host));
  Dnsmasq dns(c.host + " CNAME " + c.host + ".cdn.cloudflare.net\n" + c.host +
              ".cdn.cloudflare.net A 127.0.0.1\n"
              "backend.origin.test A 127.0.0.1\n");
  auto run =
      run_diagnose(c.host, {"--origin", "backend.origin.test:" + std::to_string(origin.port()),
                            "--port", std::to_string(edge.port()), "--resolver", dns.server(),
                            "--trust-store", c.ca_file.string(), "--timeout", "3s"});
  ASSERT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(run.json["cdn"]["id"], "cloudflare");
  EXPECT_EQ(run.json["cdn"]["detection"]["evidence_kind"], "cname_suffix")
      << run.json["cdn"].dump();
  EXPECT_EQ(run.json["edge"], "127.0.0.1:" + std::to_string(edge.port()));
  bool edge_probed = false;
  for (const auto& p : run.json["probes"]) {
    if (p["label"] == "edge")
      edge_probed = p["status"] == "ok";
  }
  EXPECT_TRUE(edge_probed) << run.json["probes"].dump().substr(0, 500);
  ASSERT_NE(run.finding("cert_expired"), nullptr) << run.ids();
  EXPECT_EQ(run.verdict("strict"), "526");
  EXPECT_EQ(run.verdict("full"), "ok");
  EXPECT_EQ(run.json["origins"][0]["name"], "backend.origin.test");
}

TEST_F(Pipeline, BehindACdnWithoutOriginIsAUsageError) {
  Dnsmasq dns(c.host + " CNAME " + c.host + ".cdn.cloudflare.net\n" + c.host +
              ".cdn.cloudflare.net A 127.0.0.1\n");
  auto r = run_command({EDGESHAKE_BINARY, "diagnose", c.host, "--resolver", dns.server()});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--origin"), std::string::npos) << r.output;
}

TEST_F(Pipeline, UnresolvableOriginCannotComplete) {
  Dnsmasq dns("www.example.test A 127.0.0.1\n");
  auto r = run_command({EDGESHAKE_BINARY, "diagnose", "www.example.test", "--origin",
                        "missing.example.test", "--no-edge", "--resolver", dns.server()});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("nxdomain"), std::string::npos) << r.output;
}

TEST_F(Pipeline, TlsInterceptionSuspected) {
  // The edge's certificate chains to a root that only the "system" store holds.
  TempDir dir;
  CertFactory f(dir.path());
  auto public_root = f.root("a public root");
  NginxOrigin edge(site(c.leaf_rsa, c.host));
  NginxOrigin origin(site(c.leaf_rsa, c.host));
  auto r = run_command({"/usr/bin/env", "EDGESHAKE_SYSTEM_TRUST=" + c.ca_file.string(),
                        "EDGESHAKE_PUBLIC_TRUST=" + public_root.cert.string(), EDGESHAKE_BINARY,
                        "diagnose", c.host, "--json", "--edge",
                        "127.0.0.1:" + std::to_string(edge.port()), "--origin",
                        "127.0.0.1:" + std::to_string(origin.port()), "--cdn", "cloudflare",
                        "--trust-store", c.ca_file.string(), "--timeout", "3s"});
  auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  bool found = false;
  for (const auto& x : j["findings"])
    found = found || x["id"] == "tls_interception_suspected";
  EXPECT_TRUE(found) << r.output.substr(0, 2000);
  EXPECT_EQ(r.status, 0) << "interception is a warning about this machine, not the origin";
}

TEST_F(Pipeline, HumanOutputStartsWithTheVerdict) {
  NginxOrigin origin(site(c.expired, c.host));
  auto r = run_command({EDGESHAKE_BINARY, "diagnose", c.host, "--origin",
                        "127.0.0.1:" + std::to_string(origin.port()), "--no-edge", "--cdn",
                        "cloudflare", "--trust-store", c.ca_file.string(), "--timeout", "3s"});
  EXPECT_EQ(r.status, 1);
  auto verdict = r.output.find("Verdict");
  auto findings = r.output.find("Findings");
  auto table = r.output.find("Edge vs origin");
  ASSERT_NE(verdict, std::string::npos) << r.output;
  EXPECT_LT(verdict, findings);
  EXPECT_LT(findings, table);
  auto strict = r.output.find("Cloudflare Full (strict):");
  ASSERT_NE(strict, std::string::npos) << r.output;
  auto line = r.output.substr(strict, r.output.find('\n', strict) - strict);
  EXPECT_NE(line.find(" 526 "), std::string::npos) << line;
  EXPECT_NE(r.output.find("expired"), std::string::npos);
  EXPECT_EQ(r.output.find("\x1b["), std::string::npos) << "no colour when not a terminal";
}
