// `edgeshake probe` end to end: the real binary (EDGESHAKE_BINARY) against a
// real nginx on loopback; exit codes and JSON fields (docs/probe.md).
#include "tests/support/certs.hpp"
#include "tests/support/dnsmasq.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

namespace edgeshake::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct Cli {
  int status = -1;
  std::string output;
  json doc; // parsed when the output is JSON
};

Cli edgeshake(std::vector<std::string> args) {
  args.insert(args.begin(), EDGESHAKE_BINARY);
  auto r = run_command(args, 30s);
  Cli c{r.status, r.output, nullptr};
  c.doc = json::parse(r.output, nullptr, /*allow_exceptions=*/false);
  return c;
}

std::vector<std::string> probe_args(std::uint16_t port, const CertCatalogue& c,
                                    std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"probe",         c.host + ":" + std::to_string(port),
                                "--connect",     "127.0.0.1",
                                "--trust-store", c.ca_file.string(),
                                "--timeout",     "5s"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::set<std::string> keys(const json& j) {
  std::set<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it)
    out.insert(it.key());
  return out;
}

NginxConfig origin_serving(const IssuedCert& cert, const CertCatalogue& c) {
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(cert.chain, cert.key, {c.host}));
  return cfg;
}

TEST(ProbeCli, GoodOriginJson) {
  ES_REQUIRE_PROGRAM("nginx");
  const auto& c = shared_catalogue();
  NginxOrigin nginx(origin_serving(c.leaf_ecdsa, c));
  auto r = edgeshake(probe_args(nginx.port(), c, {"--json", "--http", "--profile", "cloudflare"}));
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(r.doc.is_object()) << r.output;
  // The documented top-level and probe keys (docs/probe.md), no more, no less.
  EXPECT_EQ(keys(r.doc), (std::set<std::string>{"schema_version", "command", "input", "profile",
                                                "resolution", "verdict", "exit_code", "probes"}));
  EXPECT_EQ(r.doc["schema_version"], 1);
  EXPECT_EQ(r.doc["command"], "probe");
  EXPECT_EQ(r.doc["verdict"], "ok");
  EXPECT_EQ(r.doc["profile"]["id"], "cloudflare");
  // One OpenSSL probe per address, and one wire probe per hello the profile's
  // edge may send (each with the probe keys, "engine" telling them apart).
  const auto hellos = r.doc["profile"]["hellos"].size();
  ASSERT_EQ(r.doc["probes"].size(), 1u + hellos);
  const json* openssl = nullptr;
  for (const auto& probe : r.doc["probes"]) {
    if (probe["engine"] == "openssl")
      openssl = &probe;
    else
      EXPECT_EQ(probe["wire"]["accepted"], true) << probe.dump();
  }
  ASSERT_NE(openssl, nullptr);
  const json& p = *openssl;
  EXPECT_EQ(keys(p), (std::set<std::string>{"label", "engine", "target", "host", "sni", "profile",
                                            "status", "phase", "reason", "alert", "first_bytes",
                                            "tls", "client_certificate", "chain", "verification",
                                            "http", "timings_ms", "wire", "verdict"}));
  EXPECT_EQ(p["wire"], nullptr);
  EXPECT_EQ(p["status"], "ok");
  EXPECT_EQ(p["verdict"], "ok");
  EXPECT_EQ(p["target"]["address"], "127.0.0.1");
  EXPECT_EQ(p["target"]["port"], nginx.port());
  EXPECT_EQ(p["sni"], c.host);
  EXPECT_EQ(p["tls"]["version"], "TLSv1.3");
  EXPECT_EQ(p["tls"]["alpn"], "http/1.1");
  ASSERT_EQ(p["chain"].size(), 2u);
  EXPECT_EQ(p["chain"][0]["sha256"], c.leaf_ecdsa.sha256);
  EXPECT_EQ(p["chain"][0]["subject"], c.leaf_ecdsa.subject);
  EXPECT_EQ(p["chain"][0]["dns_names"], json(c.leaf_ecdsa.dns_names));
  EXPECT_EQ(p["chain"][1]["sha256"], c.intermediate.sha256);
  EXPECT_EQ(p["verification"]["chain_ok"], true);
  EXPECT_EQ(p["verification"]["hostname_ok"], true);
  EXPECT_EQ(p["verification"]["trust_store"], c.ca_file.string());
  EXPECT_EQ(p["http"]["code"], 200);
  EXPECT_TRUE(p["http"]["headers"].contains("server"));
  EXPECT_TRUE(p["timings_ms"]["handshake"].is_number());
  EXPECT_FALSE(p.contains("error_queue")); // only with --verbose
}

// The OpenSSL probes of a probe document (one per address; the wire probes,
// one per hello per address, are the others).
std::vector<json> openssl_probes(const json& doc) {
  std::vector<json> out;
  for (const auto& p : doc["probes"])
    if (p["engine"] == "openssl")
      out.push_back(p);
  return out;
}

TEST(ProbeCli, ExpiredCertificateFailsVerificationInStrictMode) {
  ES_REQUIRE_PROGRAM("nginx");
  const auto& c = shared_catalogue();
  NginxOrigin nginx(origin_serving(c.expired, c));
  auto r = edgeshake(probe_args(nginx.port(), c, {"--json", "--verbose"}));
  EXPECT_EQ(r.status, 1) << r.output;
  ASSERT_TRUE(r.doc.is_object()) << r.output;
  ASSERT_EQ(openssl_probes(r.doc).size(), 1u) << r.output;
  const json p = openssl_probes(r.doc)[0];
  EXPECT_EQ(p["status"], "ok");
  EXPECT_EQ(p["verdict"], "verification_failed");
  EXPECT_EQ(p["verification"]["code"], 10);
  EXPECT_EQ(p["verification"]["text"], "certificate has expired");
  EXPECT_TRUE(p.contains("error_queue"));
  EXPECT_EQ(r.doc["exit_code"], 1);
}

TEST(ProbeCli, NoSniAgainstSniRequiredOriginIsAnAlert) {
  ES_REQUIRE_PROGRAM("nginx");
  const auto& c = shared_catalogue();
  NginxConfig cfg = origin_serving(c.leaf_ecdsa, c);
  cfg.servers.insert(cfg.servers.begin(), NginxServer::rejecting_default());
  NginxOrigin nginx(cfg);
  auto r = edgeshake(probe_args(nginx.port(), c, {"--json", "--no-sni"}));
  EXPECT_EQ(r.status, 1) << r.output;
  ASSERT_TRUE(r.doc.is_object()) << r.output;
  ASSERT_EQ(openssl_probes(r.doc).size(), 1u) << r.output;
  const json p = openssl_probes(r.doc)[0];
  EXPECT_EQ(p["status"], "tls_alert");
  EXPECT_EQ(p["alert"]["code"], 112);
  EXPECT_EQ(p["alert"]["name"], "unrecognized_name");
  EXPECT_EQ(p["alert"]["received"], true);
  EXPECT_EQ(p["sni"], nullptr);
  EXPECT_EQ(p["verdict"], "handshake_failed");
}

TEST(ProbeCli, HumanOutputAndClosedPort) {
  const auto& c = shared_catalogue();
  const auto port = free_tcp_port();
  auto r = edgeshake(probe_args(port, c, {"--no-color"}));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("tcp_refused"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("verdict  handshake_failed"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\x1b["), std::string::npos); // no colour when not a terminal
}

TEST(ProbeCli, NameIsResolvedAndEveryAddressProbed) {
  ES_REQUIRE_PROGRAM("nginx");
  ES_REQUIRE_PROGRAM("dnsmasq");
  const auto& c = shared_catalogue();
  NginxOrigin nginx(origin_serving(c.leaf_ecdsa, c)); // listens on 127.0.0.1 only
  Dnsmasq dns(c.host + " A 127.0.0.1\n" + c.host + " A 127.0.0.2\n");
  auto r = edgeshake({"probe", c.host + ":" + std::to_string(nginx.port()), "--resolver",
                      dns.server(), "--trust-store", c.ca_file.string(), "--json"});
  EXPECT_EQ(r.status, 1) << r.output; // 127.0.0.2 refuses
  ASSERT_TRUE(r.doc.is_object()) << r.output;
  ASSERT_TRUE(r.doc["resolution"].is_object());
  EXPECT_EQ(r.doc["resolution"]["targets"].size(), 2u);
  const auto probes = openssl_probes(r.doc);
  ASSERT_EQ(probes.size(), 2u);
  std::map<std::string, std::string> status_by_address;
  for (const auto& p : probes)
    status_by_address[p["target"]["address"]] = p["status"];
  EXPECT_EQ(status_by_address["127.0.0.1"], "ok");
  EXPECT_EQ(status_by_address["127.0.0.2"], "tcp_refused");
  EXPECT_EQ(probes[0]["sni"], c.host);
  // Every hello the edge may send went to each address too.
  EXPECT_EQ(r.doc["probes"].size(), 2u * (1u + r.doc["profile"]["hellos"].size()));
}

TEST(ProbeCli, UnresolvableNameCannotRun) {
  ES_REQUIRE_PROGRAM("dnsmasq");
  Dnsmasq dns("known.test A 127.0.0.1\n");
  auto r = edgeshake({"probe", "unknown.test", "--resolver", dns.server()});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("could not resolve"), std::string::npos) << r.output;
}

TEST(ProbeCli, UsageErrorsExitTwo) {
  const auto& c = shared_catalogue();
  EXPECT_EQ(edgeshake({"probe"}).status, 2);
  EXPECT_EQ(edgeshake(probe_args(443, c, {"--sni", "a.test", "--no-sni"})).status, 2);
  EXPECT_EQ(edgeshake({"probe", "x.test", "--connect", "not-an-ip"}).status, 2);
  EXPECT_EQ(edgeshake({"probe", "x.test:99999", "--connect", "127.0.0.1"}).status, 2);
  EXPECT_EQ(edgeshake({"probe", "x.test", "--connect", "127.0.0.1", "--timeout", "soon"}).status,
            2);
  EXPECT_EQ(
      edgeshake({"probe", "x.test", "--connect", "127.0.0.1", "--trust-store", "/nonexistent.pem"})
          .status,
      2);
  EXPECT_EQ(edgeshake({"probe", "x.test", "--connect", "127.0.0.1", "--profile", "no-such-profile"})
                .status,
            2);
  EXPECT_EQ(edgeshake({"probe", "x.test", "--client-cert", c.client.cert.string()}).status, 2);
}

} // namespace
} // namespace edgeshake::testing
