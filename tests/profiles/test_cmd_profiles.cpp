// `edgeshake profiles list|show`, run as the real binary.
#include "profiles/profiles.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace edgeshake::profiles {
namespace {

using edgeshake::testing::run_command;
using edgeshake::testing::TempDir;
using edgeshake::testing::write_file;
using json = nlohmann::json;

TEST(ProfilesCommand, ListShowsEveryBundledProfile) {
  auto r = run_command({EDGESHAKE_BINARY, "profiles", "list", "--no-color"});
  ASSERT_EQ(r.status, 0) << r.output;
  for (const auto& p : bundled())
    EXPECT_NE(r.output.find("\n" + p.id + " "), std::string::npos) << p.id << "\n" << r.output;
  EXPECT_NE(r.output.find("TLSv1..TLSv1.3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("9+3"), std::string::npos) << r.output; // cloudflare's suites
  EXPECT_NE(r.output.find("flexible, full, strict*"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\x1b["), std::string::npos) << "colour with --no-color";
}

TEST(ProfilesCommand, ListJson) {
  auto r = run_command({EDGESHAKE_BINARY, "profiles", "list", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = json::parse(r.output);
  EXPECT_EQ(j["schema_version"], 1);
  ASSERT_EQ(j["profiles"].size(), bundled().size());
  bool found = false;
  for (const auto& p : j["profiles"]) {
    if (p["id"] != "cloudflare")
      continue;
    found = true;
    EXPECT_EQ(p["ciphers"], 9);
    EXPECT_EQ(p["tls13_ciphersuites"], 3);
    EXPECT_EQ(p["modes"], json::array({"flexible", "full", "strict"}));
    EXPECT_EQ(p["default_mode"], "strict");
    EXPECT_EQ(p["versions"], json::array({"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}));
  }
  EXPECT_TRUE(found);
}

TEST(ProfilesCommand, ShowCloudflareJsonHasEverything) {
  auto r = run_command({EDGESHAKE_BINARY, "profiles", "show", "cloudflare", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = json::parse(r.output);
  auto expected = find("cloudflare");
  ASSERT_TRUE(expected);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["id"], "cloudflare");
  EXPECT_EQ(j["path"], "<bundled>/cloudflare.toml");
  EXPECT_EQ(j["sources"].get<std::vector<std::string>>(), expected->sources);
  EXPECT_EQ(j["assumptions"].get<std::vector<std::string>>(), expected->assumptions);
  const auto& hello = j["client_hello"];
  EXPECT_EQ(hello["ciphers"].get<std::vector<std::string>>(), expected->ciphers);
  EXPECT_EQ(hello["tls13_ciphersuites"].get<std::vector<std::string>>(),
            expected->tls13_ciphersuites);
  EXPECT_EQ(hello["groups"].get<std::vector<std::string>>(), expected->groups);
  EXPECT_EQ(hello["key_share"], expected->groups.front());
  EXPECT_EQ(hello["ciphers_not_offered"][0]["name"], "DES-CBC3-SHA");
  EXPECT_FALSE(hello["ciphers_not_offered"][0]["reason"].get<std::string>().empty());
  EXPECT_EQ(hello["sni"], "request_host");
  EXPECT_TRUE(hello["sni_name"].is_null());
  EXPECT_EQ(hello["security_level"], 0);
  EXPECT_EQ(j["validation"]["default_mode"], "strict");
  EXPECT_EQ(j["errors"]["connection_refused"], "521");
  ASSERT_EQ(j["modes"].size(), 3u);
  const auto& strict = j["modes"][2];
  EXPECT_EQ(strict["name"], "strict");
  EXPECT_EQ(strict["default"], true);
  EXPECT_EQ(strict["verify"], "chain_and_name");
  EXPECT_EQ(strict["extra_trust"], json::array({"cloudflare_origin_ca"}));
  EXPECT_EQ(strict["errors"]["certificate_invalid"], "526");
  EXPECT_EQ(strict["errors"]["handshake_failure"], "525");
  // Full never checks the certificate, Flexible has no handshake: null = cannot happen.
  EXPECT_TRUE(j["modes"][1]["errors"]["certificate_invalid"].is_null());
  EXPECT_EQ(j["modes"][1]["errors"]["handshake_failure"], "525");
  EXPECT_TRUE(j["modes"][0]["errors"]["handshake_failure"].is_null());
  EXPECT_EQ(j["modes"][0]["errors"]["connection_refused"], "521");
  EXPECT_EQ(j["modes"][0]["transport"], "plaintext");
  EXPECT_EQ(j["modes"][0]["port"], 80);
}

TEST(ProfilesCommand, ShowTextIncludesSourcesAndAssumptions) {
  auto r = run_command({EDGESHAKE_BINARY, "profiles", "show", "cloudflare", "--no-color"});
  ASSERT_EQ(r.status, 0) << r.output;
  auto p = find("cloudflare");
  ASSERT_TRUE(p);
  for (const auto& c : p->ciphers)
    EXPECT_NE(r.output.find(c), std::string::npos) << c;
  EXPECT_NE(r.output.find(p->sources.front()), std::string::npos);
  EXPECT_NE(r.output.find(p->assumptions.front()), std::string::npos);
  EXPECT_NE(r.output.find("DES-CBC3-SHA"), std::string::npos);
  EXPECT_NE(r.output.find("strict (default)"), std::string::npos) << r.output;
}

TEST(ProfilesCommand, ShowFileByPath) {
  TempDir tmp("es-profiles-cli");
  auto path = (tmp.path() / "mine.toml").string();
  write_file(path, "name = \"Mine\"\n[client_hello]\nversions = [\"TLSv1.2\"]\n"
                   "ciphers = [\"AES128-SHA\"]\ngroups = [\"P-256\"]\nsni = \"none\"\n"
                   "[errors]\nconnection_refused = \"x\"\nconnect_timeout = \"x\"\n"
                   "handshake_failure = \"x\"\nhandshake_timeout = \"x\"\n"
                   "certificate_invalid = \"x\"\nresponse_timeout = \"x\"\nhttp_error = \"x\"\n"
                   "origin_unresolvable = \"x\"\n[[modes]]\nname = \"only\"\nverify = \"none\"\n");
  auto r = run_command({EDGESHAKE_BINARY, "profiles", "show", path, "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = json::parse(r.output);
  EXPECT_EQ(j["id"], "mine");
  EXPECT_EQ(j["path"], path);
  EXPECT_EQ(j["client_hello"]["sni"], "none");
}

TEST(ProfilesCommand, BrokenProfileExits2WithPosition) {
  TempDir tmp("es-profiles-cli");
  auto path = (tmp.path() / "broken.toml").string();
  write_file(path, "name = \"Broken\"\n[client_hello]\nversions = [\"TLSv1.2\"]\n"
                   "ciphers = [\"AES128-SHA\", \"NOPE\"]\ngroups = [\"P-256\"]\n"
                   "[errors]\nconnection_refused = \"x\"\nconnect_timeout = \"x\"\n"
                   "handshake_failure = \"x\"\nhandshake_timeout = \"x\"\n"
                   "certificate_invalid = \"x\"\nresponse_timeout = \"x\"\nhttp_error = \"x\"\n"
                   "origin_unresolvable = \"x\"\n[[modes]]\nname = \"only\"\nverify = \"none\"\n");
  auto r = run_command({EDGESHAKE_BINARY, "profiles", "show", path});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(r.output, "edgeshake: " + path + ":4:26: unknown TLS 1.2 cipher 'NOPE'\n");

  write_file(path, "name = \"Broken\"\n[client_hello\n");
  r = run_command({EDGESHAKE_BINARY, "profiles", "show", path, "--json"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(r.output.rfind("edgeshake: " + path + ":2:", 0), 0u) << r.output;
  EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << "one line: " << r.output;
}

TEST(ProfilesCommand, UnknownNameAndMissingFileExit2) {
  auto r = run_command({EDGESHAKE_BINARY, "profiles", "show", "nope"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(r.output.rfind("edgeshake: unknown profile 'nope'", 0), 0u) << r.output;

  r = run_command({EDGESHAKE_BINARY, "profiles", "show", "/nonexistent/x.toml"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(r.output, "edgeshake: /nonexistent/x.toml: cannot open profile file\n");

  r = run_command({EDGESHAKE_BINARY, "profiles"});
  EXPECT_EQ(r.status, 2) << r.output;
}

} // namespace
} // namespace edgeshake::profiles
