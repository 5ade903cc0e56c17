// Hostile names in a certificate that verifies: a SAN with byte 0xFF, ESC/OSC,
// BEL, CR/LF sequences, a subject with C1 controls. Every JSON report stays
// JSON (invalid UTF-8 replaced by U+FFFD); no text report prints a control
// byte (common/text.hpp terminal_safe). The real binary against nginx.
#include "tests/support/certs.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace edgeshake::testing;
using nlohmann::json;

namespace {

// The bytes no terminal output may carry: C0 controls but the newline, DEL,
// C1 controls (raw or UTF-8 encoded), and invalid UTF-8 (0xFF).
std::string first_unsafe(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7F || c == 0xFF)
      return "byte " + std::to_string(c) + " at " + std::to_string(i) + ": " +
             text.substr(i > 40 ? i - 40 : 0, 80);
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9F)
      return "C1 control at " + std::to_string(i);
  }
  return {};
}

class CliHostileNames : public ::testing::Test {
protected:
  void SetUp() override {
    ES_REQUIRE_PROGRAM("nginx");
    CertFactory f(dir.path());
    CertOptions o;
    // CN as Latin-1: 0x9B is U+009B (CSI), 0x9D U+009D (OSC).
    o.common_name = std::string("c1\x9b"
                                "31m\x9d"
                                "0;t.test");
    o.dns_names = {c.host, "bad\xff.test", "esc\x1b]0;pwned\x07.test", "x\r\nverify chain ok.test",
                   "long" + std::string(80, 'a') + "\x1b[2J.test"};
    cert = f.issue(c.intermediate, "hostile", o);
    NginxConfig cfg;
    cfg.servers.push_back(NginxServer::tls(cert.chain, cert.key, {c.host}));
    nginx = std::make_unique<NginxOrigin>(cfg);
    target = "127.0.0.1:" + std::to_string(nginx->port());
  }
  CliRun run(std::vector<std::string> args) {
    args.insert(args.begin(), EDGESHAKE_BINARY);
    return run_cli(args, dir.path());
  }
  std::vector<std::string> probe(std::vector<std::string> extra) {
    std::vector<std::string> a = {"probe",         c.host + ":" + std::to_string(nginx->port()),
                                  "--connect",     "127.0.0.1",
                                  "--trust-store", c.ca_file.string(),
                                  "--timeout",     "5s",
                                  "--no-color"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::vector<std::string> diagnose(std::vector<std::string> extra) {
    std::vector<std::string> a = {"diagnose",  c.host,          "--origin",         target,
                                  "--no-edge", "--trust-store", c.ca_file.string(), "--timeout",
                                  "5s",        "--no-color"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::vector<std::string> compare(std::vector<std::string> extra) {
    std::vector<std::string> a = {
        "compare",          target,      target, "--sni",     c.host, "--trust-store",
        c.ca_file.string(), "--timeout", "5s",   "--no-color"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  const CertCatalogue& c = shared_catalogue();
  TempDir dir{"edgeshake-hostile-names"};
  IssuedCert cert;
  std::unique_ptr<NginxOrigin> nginx;
  std::string target;
};

TEST_F(CliHostileNames, ProbeJsonReplacesInvalidUtf8) {
  auto r = run(probe({"--json"}));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto doc = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_NE(r.out.find("bad\xef\xbf\xbd.test"), std::string::npos); // U+FFFD
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

TEST_F(CliHostileNames, DiagnoseJsonReplacesInvalidUtf8) {
  auto r = run(diagnose({"--json"}));
  ASSERT_LT(r.status, 2) << r.out << r.err;
  EXPECT_FALSE(json::parse(r.out, nullptr, false).is_discarded()) << r.out;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

TEST_F(CliHostileNames, CompareJsonKeepsTheBackend) {
  auto r = run(compare({"--json"}));
  ASSERT_LT(r.status, 2) << r.out << r.err;
  auto doc = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

TEST_F(CliHostileNames, TextReportsCarryNoControlBytes) {
  for (const auto& args : {probe({"--verbose"}), diagnose({"--verbose"}), compare({})}) {
    auto r = run(args);
    EXPECT_LT(r.status, 2) << args.front() << ": " << r.out << r.err;
    EXPECT_EQ(first_unsafe(r.out), "") << args.front();
    EXPECT_EQ(first_unsafe(r.err), "") << args.front();
    // The forged line cannot start a line of its own.
    EXPECT_EQ(r.out.find("\nverify chain ok.test"), std::string::npos) << args.front();
  }
}

TEST(CliHostileArgs, EchoedCommandLineValuesStayOnOneLine) {
  TempDir dir;
  auto r = run_cli({EDGESHAKE_BINARY, "probe", "bad\nname\x1b[2J..x"}, dir.path());
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(first_unsafe(r.err), "") << r.err;
}

} // namespace
