// The loader's structural checks: TOML syntax, unknown keys at every level,
// value types, enum words. Each case is one bad line at a known line:column.
#include "tests/profiles/support.hpp"
#include "tests/support/process.hpp"

#include <filesystem>

namespace edgeshake::profiles::testing {
namespace {

TEST(ProfileLoad, MinimalProfileLoadsWithDefaults) {
  auto p = parse(k_head + k_tail);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->id, "t");
  EXPECT_EQ(p->name, "t");
  EXPECT_EQ(p->path, "t.toml");
  EXPECT_EQ(p->versions, std::vector<TlsVersion>{TlsVersion::tls1_2});
  EXPECT_EQ(p->ciphers, std::vector<std::string>{"AES128-SHA"});
  EXPECT_TRUE(p->tls13_ciphersuites.empty());
  EXPECT_EQ(p->groups, std::vector<std::string>{"P-256"});
  EXPECT_TRUE(p->signature_algorithms.empty());
  EXPECT_TRUE(p->alpn.empty());
  EXPECT_EQ(p->sni, SniPolicy::request_host);
  EXPECT_EQ(p->security_level, 0);
  EXPECT_FALSE(p->sends_client_certificate);
  EXPECT_EQ(p->trust_store, "system");
  ASSERT_EQ(p->modes.size(), 1u);
  EXPECT_EQ(p->default_mode, "default");
  EXPECT_EQ(p->modes[0].label, "default");
  EXPECT_EQ(p->modes[0].transport, Transport::tls);
  EXPECT_EQ(p->modes[0].verify, Verify::none);
  EXPECT_EQ(p->modes[0].port, 0);
  EXPECT_EQ(p->errors.size(), std::size(k_all_failure_classes));
  EXPECT_EQ(p->errors.at(FailureClass::origin_unresolvable), "h");
}

TEST(ProfileLoad, IdKeyOverridesFileStem) {
  auto p = parse("id = \"mine\"\n" + k_head + k_tail);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->id, "mine");
}

TEST(ProfileLoad, TomlSyntaxErrorHasLineAndColumn) {
  auto r = parse("name = \"t\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::profile);
  EXPECT_EQ(r.error().where.rfind("t.toml:1:", 0), 0u) << r.error().to_string();
  auto r2 = parse(k_head + "alpn = [h2]\n" + k_tail);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().where.rfind("t.toml:6:", 0), 0u) << r2.error().to_string();
}

TEST(ProfileLoad, DuplicateKeyIsATomlError) {
  auto r = parse(k_head + "groups = [\"P-384\"]\n" + k_tail);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where.rfind("t.toml:6:", 0), 0u) << r.error().to_string();
}

TEST(ProfileLoad, UnknownKeys) {
  profile_should_fail("nmae = \"t\"\n" + k_head + k_tail, "unknown key 'nmae' at the top level", 1,
                      1);
  profile_should_fail(k_head + "cipher = [\"AES128-SHA\"]\n" + k_tail,
                      "unknown key 'cipher' in [client_hello]", 6, 1);
  profile_should_fail(k_head + "[validation]\n  trust = \"system\"\n" + k_tail,
                      "unknown key 'trust' in [validation]", 7, 3);
  profile_should_fail(k_head + k_errors + k_mode + "verfy = \"chain\"\n",
                      "unknown key 'verfy' in [[modes]]", 18, 1);
  profile_should_fail(k_head + "ciphers_not_offered = [{ name = \"RC4-MD5\", why = \"x\" }]\n" +
                          k_tail,
                      "unknown key 'why' in ciphers_not_offered", 6, 44);
}

TEST(ProfileLoad, MissingRequiredParts) {
  profile_should_fail("provider = \"x\"\n[client_hello]\nversions = [\"TLSv1.2\"]\n" + k_tail,
                      "missing required key 'name'", 1, 1);
  profile_should_fail("name = \"t\"\n" + k_tail, "missing required table [client_hello]", 1, 1);
  profile_should_fail("name = \"t\"\n[client_hello]\nciphers = [\"AES128-SHA\"]\n" + k_tail,
                      "missing required key 'versions' in [client_hello]", 2, 1);
  profile_should_fail(
      "name = \"t\"\n[client_hello]\nversions = [\"TLSv1.2\"]\nciphers = [\"AES128-SHA\"]\n" +
          k_tail,
      "missing required key 'groups' in [client_hello]", 2, 1);
  profile_should_fail(k_head + k_errors, "missing required [[modes]]", 1, 1);
  profile_should_fail("name = \"\"\n[client_hello]\n" + k_tail, "name must not be empty", 1, 8);
}

TEST(ProfileLoad, WrongTypes) {
  profile_should_fail("name = 3\n" + k_tail, "'name' must be a string, not an integer", 1, 8);
  profile_should_fail("name = \"t\"\nsources = \"https://x\"\n" + k_tail,
                      "'sources' must be an array of strings, not a string", 2, 11);
  profile_should_fail("name = \"t\"\n[client_hello]\nversions = \"TLSv1.2\"\n" + k_tail,
                      "'versions' must be an array of strings, not a string", 3, 12);
  profile_should_fail("name = \"t\"\n[client_hello]\nversions = [1.2]\n" + k_tail,
                      "'versions' entries must be strings, not a float", 3, 13);
  profile_should_fail(k_head + "security_level = \"high\"\n" + k_tail,
                      "'security_level' must be an integer, not a string", 6, 18);
  profile_should_fail(k_head + "sends_client_certificate = \"yes\"\n" + k_tail,
                      "'sends_client_certificate' must be a boolean", 6, 28);
  profile_should_fail("name = \"t\"\nclient_hello = 1\n" + k_tail,
                      "'client_hello' must be a table, not an integer", 2, 16);
  profile_should_fail(k_head + "ciphers_not_offered = [\"RC4-MD5\"]\n" + k_tail,
                      "'ciphers_not_offered' entries must be tables {name, reason}, not a string",
                      6, 24);
  profile_should_fail(k_head + "[errors]\nconnection_refused = 521\n" + k_mode,
                      "the edge result for 'connection_refused' must be a string, not an integer",
                      7, 22);
  profile_should_fail("modes = 1\n" + k_head + k_errors,
                      "'modes' must be an array of tables ([[modes]]), not an integer", 1, 9);
  profile_should_fail(k_head + k_errors +
                          "[[modes]]\nname = \"x\"\nverify = \"none\"\nport = \"80\"\n",
                      "'port' must be an integer, not a string", 18, 8);
}

TEST(ProfileLoad, UnknownWords) {
  profile_should_fail("name = \"t\"\n[client_hello]\nversions = [\"TLSv1.4\"]\n" + k_tail,
                      "unknown TLS version 'TLSv1.4'", 3, 13);
  profile_should_fail(k_head + "sni = \"sometimes\"\n" + k_tail, "unknown sni policy 'sometimes'",
                      6, 7);
  profile_should_fail(k_head + k_errors + "[[modes]]\nname = \"x\"\ntransport = \"quic\"\n",
                      "unknown transport 'quic'", 17, 13);
  profile_should_fail(k_head + k_errors + "[[modes]]\nname = \"x\"\nverify = \"name\"\n",
                      "unknown verify policy 'name'", 17, 10);
  profile_should_fail(k_head + "[errors]\nconection_refused = \"521\"\n" + k_mode,
                      "unknown failure class 'conection_refused' in [errors]", 7, 1);
  profile_should_fail(k_head + k_errors + k_mode + "errors = { tls_failure = \"525\" }\n",
                      "unknown failure class 'tls_failure' in [modes.errors]", 18, 12);
}

TEST(ProfileLoad, BadScalars) {
  profile_should_fail(k_head + "security_level = 9\n" + k_tail, "security_level must be 0 to 5", 6,
                      18);
  profile_should_fail(k_head + k_errors + k_mode + "port = 70000\n", "port must be 0 to 65535", 18,
                      8);
  profile_should_fail(k_head + "[errors]\nconnection_refused = \"\"\n" + k_mode,
                      "the edge result for 'connection_refused' must be one non-empty line", 7, 22);
  profile_should_fail("id = \"Bad Id\"\n" + k_head + k_tail, "id 'Bad Id' must be lower-case", 1,
                      6);
  profile_should_fail(k_head + "ciphers_not_offered = [{ name = \"RC4-MD5\" }]\n" + k_tail,
                      "missing required key 'reason'", 6, 24);
}

TEST(ProfileLoad, LoadFileResolvesTrustStoreAndReportsIoErrors) {
  ::edgeshake::testing::TempDir tmp("es-profiles");
  const auto& dir = tmp.path();
  std::filesystem::create_directories(dir / "sub");
  ::edgeshake::testing::write_file(dir / "sub" / "ca.pem", "not parsed at load time\n");
  ::edgeshake::testing::write_file(
      dir / "mine.toml", k_head + "[validation]\n" + "trust_store = \"sub/ca.pem\"\n" + k_tail);
  ::edgeshake::testing::write_file(dir / "broken.toml", k_head + "ciphers2 = 1\n" + k_tail);

  auto p = load_file((dir / "mine.toml").string());
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->id, "mine");
  EXPECT_EQ(p->path, (dir / "mine.toml").string());
  EXPECT_EQ(p->trust_store, (dir / "sub" / "ca.pem").string());

  auto broken = load_file((dir / "broken.toml").string());
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().where, (dir / "broken.toml").string() + ":6:1");
  EXPECT_EQ(broken.error().message, "unknown key 'ciphers2' in [client_hello]");

  auto missing = load_file((dir / "nope.toml").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::io);
  EXPECT_EQ(missing.error().where, (dir / "nope.toml").string());

  auto all = load_dir(dir.string());
  ASSERT_FALSE(all); // broken.toml sorts first
  EXPECT_EQ(all.error().where, (dir / "broken.toml").string() + ":6:1");
  std::filesystem::remove(dir / "broken.toml");
  all = load_dir(dir.string());
  ASSERT_TRUE(all) << all.error().to_string();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().id, "mine");

  std::filesystem::remove(dir / "sub" / "ca.pem");
  auto gone = load_file((dir / "mine.toml").string());
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message,
            "trust store '" + (dir / "sub" / "ca.pem").string() + "' does not exist");
  EXPECT_EQ(gone.error().where, (dir / "mine.toml").string() + ":7:15");
}

} // namespace
} // namespace edgeshake::profiles::testing
