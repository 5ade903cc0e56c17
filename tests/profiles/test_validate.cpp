// Validation: names against the linked OpenSSL (entry by entry) and the
// contradictions between entries. One bad line per case, at line:column.
#include "tests/profiles/support.hpp"

namespace edgeshake::profiles::testing {
namespace {

// A profile whose [client_hello] is exactly `hello` (lines 2..), then the tail.
std::string with_hello(const std::string& hello) {
  return "name = \"t\"\n[client_hello]\n" + hello + k_tail;
}

TEST(ProfileValidate, Versions) {
  profile_should_fail(with_hello("versions = [\"TLSv1\", \"TLSv1.2\"]\nciphers = [\"AES128-SHA\"]\n"
                                 "groups = [\"P-256\"]\n"),
                      "versions must be contiguous: 'TLSv1.2' follows 'TLSv1' without 'TLSv1.1'", 3,
                      22);
  profile_should_fail(with_hello("versions = [\"TLSv1.2\", \"TLSv1.1\"]\nciphers = [\"AES128-SHA\"]"
                                 "\ngroups = [\"P-256\"]\n"),
                      "versions must be in ascending order: 'TLSv1.1' after 'TLSv1.2'", 3, 24);
  profile_should_fail(
      with_hello("versions = [\"TLSv1.2\", \"tls1.2\"]\nciphers = [\"AES128-SHA\"]\n"
                 "groups = [\"P-256\"]\n"),
      "duplicate TLS version 'TLSv1.2'", 3, 24);
  profile_should_fail(with_hello("versions = []\ngroups = [\"P-256\"]\n"),
                      "versions must list at least one TLS version", 3, 12);
  profile_should_fail(with_hello("versions = [\"SSLv3\", \"TLSv1\"]\nciphers = [\"AES128-SHA\"]\n"
                                 "groups = [\"P-256\"]\n"),
                      "SSLv3 is not supported by the linked OpenSSL", 3, 13);
  // OpenSSL 3 negotiates TLS 1.0/1.1 (MD5+SHA-1 signatures) only at level 0.
  profile_should_fail(with_hello("versions = [\"TLSv1\", \"TLSv1.1\", \"TLSv1.2\"]\n"
                                 "ciphers = [\"AES128-SHA\"]\ngroups = [\"P-256\"]\n"
                                 "security_level = 1\n"),
                      "security_level 1 cannot negotiate TLSv1", 6, 18);
  profile_should_load(with_hello("versions = [\"TLSv1\", \"TLSv1.1\", \"TLSv1.2\"]\n"
                                 "ciphers = [\"AES128-SHA\"]\ngroups = [\"P-256\"]\n"));
}

TEST(ProfileValidate, Tls12Ciphers) {
  const std::string v = "versions = [\"TLSv1.2\"]\n";
  const std::string g = "groups = [\"P-256\"]\n";
  profile_should_fail(with_hello(v + "ciphers = [\"NOPE\"]\n" + g), "unknown TLS 1.2 cipher 'NOPE'",
                      4, 12);
  profile_should_fail(with_hello(v + "ciphers = [\"AES128-SHA\", \"NOPE\"]\n" + g),
                      "unknown TLS 1.2 cipher 'NOPE'", 4, 26);
  // Aliases and cipher strings select several suites: rejected by name.
  profile_should_fail(with_hello(v + "ciphers = [\"HIGH\"]\n" + g),
                      "unknown TLS 1.2 cipher 'HIGH': a cipher string selecting", 4, 12);
  profile_should_fail(with_hello(v + "ciphers = [\"ALL\"]\n" + g),
                      "unknown TLS 1.2 cipher 'ALL': a cipher string selecting", 4, 12);
  profile_should_fail(with_hello(v + "ciphers = [\"AES128-SHA:@SECLEVEL=5\"]\n" + g),
                      "unknown TLS 1.2 cipher 'AES128-SHA:@SECLEVEL=5'", 4, 12);
  profile_should_fail(with_hello(v + "ciphers = [\"!AES128-SHA\"]\n" + g),
                      "unknown TLS 1.2 cipher '!AES128-SHA'", 4, 12);
  // Control characters are escaped so the message stays on one line.
  profile_should_fail(with_hello(v + "ciphers = [\"AES\\nSHA\"]\n" + g),
                      "unknown TLS 1.2 cipher 'AES\\x0aSHA'", 4, 12);
  profile_should_fail(with_hello(v + "ciphers = [\"aes128-sha\"]\n" + g),
                      "unknown TLS 1.2 cipher 'aes128-sha'", 4, 12);
  profile_should_fail(with_hello(v + "ciphers = [\"TLS_AES_128_GCM_SHA256\"]\n" + g),
                      "it is a TLS 1.3 suite (list it in tls13_ciphersuites)", 4, 12);
  // Known to OpenSSL's tables but not offerable by this build (no 3DES, no RC4).
  profile_should_fail(with_hello(v + "ciphers = [\"DES-CBC3-SHA\"]\n" + g),
                      "unknown TLS 1.2 cipher 'DES-CBC3-SHA'", 4, 12);
  profile_should_fail(with_hello(v + "ciphers = [\"RC4-MD5\"]\n" + g),
                      "unknown TLS 1.2 cipher 'RC4-MD5'", 4, 12);
  profile_should_fail(with_hello(v + "ciphers = [\"AES128-SHA\", \"AES128-SHA\"]\n" + g),
                      "duplicate TLS 1.2 cipher 'AES128-SHA'", 4, 26);
  profile_should_fail(
      with_hello(v + "ciphers = [\"AES128-SHA\"]\n" + g +
                 "ciphers_not_offered = [{ name = \"AES128-SHA\", reason = \"x\" }]\n"),
      "cipher 'AES128-SHA' is in both ciphers and ciphers_not_offered", 6, 33);
}

TEST(ProfileValidate, CiphersMustMatchVersions) {
  profile_should_fail(with_hello("versions = [\"TLSv1.2\"]\nciphers = []\ngroups = [\"P-256\"]\n"),
                      "TLSv1.2 is offered but ciphers (TLS <= 1.2 suites) is empty", 3, 13);
  profile_should_fail(with_hello("versions = [\"TLSv1.1\", \"TLSv1.2\"]\ngroups = [\"P-256\"]\n"),
                      "TLSv1.1 is offered but ciphers (TLS <= 1.2 suites) is empty", 3, 13);
  profile_should_fail(with_hello("versions = [\"TLSv1.3\"]\nciphers = [\"AES128-SHA\"]\n"
                                 "tls13_ciphersuites = [\"TLS_AES_128_GCM_SHA256\"]\n"
                                 "groups = [\"P-256\"]\n"),
                      "ciphers are listed but no version below TLSv1.3 is offered", 4, 11);
  // A TLS 1.2-only suite cannot be in a TLS 1.0-only ClientHello.
  profile_should_fail(with_hello("versions = [\"TLSv1\"]\n"
                                 "ciphers = [\"AES128-SHA\", \"ECDHE-RSA-AES128-GCM-SHA256\"]\n"
                                 "groups = [\"P-256\"]\n"),
                      "TLS 1.2 cipher 'ECDHE-RSA-AES128-GCM-SHA256' would not be offered with "
                      "versions TLSv1 at security_level 0",
                      4, 26);
  // Level 4 (192 bits) filters out 128-bit suites.
  profile_should_fail(
      with_hello("versions = [\"TLSv1.2\"]\nciphers = [\"ECDHE-RSA-AES256-GCM-SHA384\","
                 " \"ECDHE-RSA-AES128-GCM-SHA256\"]\ngroups = [\"P-384\"]\n"
                 "security_level = 4\n"),
      "TLS 1.2 cipher 'ECDHE-RSA-AES128-GCM-SHA256' would not be offered", 4, 43);
}

TEST(ProfileValidate, Tls13Suites) {
  const std::string v = "versions = [\"TLSv1.2\", \"TLSv1.3\"]\nciphers = [\"AES128-SHA\"]\n";
  const std::string g = "groups = [\"X25519\"]\n";
  profile_should_fail(with_hello(v + g), "TLSv1.3 is offered but tls13_ciphersuites is empty", 3,
                      24);
  profile_should_fail(with_hello(v + g + "tls13_ciphersuites = [\"TLS_NOPE\"]\n"),
                      "unknown TLS 1.3 ciphersuite 'TLS_NOPE'", 6, 23);
  profile_should_fail(with_hello(v + g + "tls13_ciphersuites = [\"AES128-SHA\"]\n"),
                      "unknown TLS 1.3 ciphersuite 'AES128-SHA': it is a TLS 1.2 cipher", 6, 23);
  profile_should_fail(with_hello(v + g + "tls13_ciphersuites = [\"TLS_AES_128_GCM_SHA256:X\"]\n"),
                      "unknown TLS 1.3 ciphersuite 'TLS_AES_128_GCM_SHA256:X'", 6, 23);
  profile_should_fail(
      with_hello(v + g +
                 "tls13_ciphersuites = [\"TLS_AES_128_GCM_SHA256\", \"TLS_AES_128_GCM_SHA256\"]\n"),
      "duplicate TLS 1.3 ciphersuite 'TLS_AES_128_GCM_SHA256'", 6, 49);
  profile_should_fail(with_hello("versions = [\"TLSv1.2\"]\nciphers = [\"AES128-SHA\"]\n" + g +
                                 "tls13_ciphersuites = [\"TLS_AES_128_GCM_SHA256\"]\n"),
                      "tls13_ciphersuites are listed but TLSv1.3 is not in versions", 6, 22);
  profile_should_load(with_hello(v + g + "tls13_ciphersuites = [\"TLS_AES_128_CCM_8_SHA256\"]\n"));
}

TEST(ProfileValidate, Groups) {
  const std::string vc = "versions = [\"TLSv1.2\"]\nciphers = [\"AES128-SHA\"]\n";
  profile_should_fail(with_hello(vc + "groups = [\"P-999\"]\n"), "unknown group 'P-999'", 5, 11);
  profile_should_fail(with_hello(vc + "groups = [\"X25519MLKEM768\"]\n"),
                      "unknown group 'X25519MLKEM768'", 5, 11);
  profile_should_fail(with_hello(vc + "groups = [\"X25519:P-256\"]\n"),
                      "unknown group 'X25519:P-256'", 5, 11);
  profile_should_fail(with_hello(vc + "groups = []\n"), "groups must list at least one group", 5,
                      10);
  // The same group under two OpenSSL names.
  profile_should_fail(with_hello(vc + "groups = [\"P-256\", \"prime256v1\"]\n"),
                      "duplicate group 'prime256v1'", 5, 20);
  profile_should_fail(with_hello(vc +
                                 "groups = [\"X25519\"]\n"
                                 "groups_not_offered = [{ name = \"X25519\", reason = \"x\" }]\n"),
                      "group 'X25519' is in both groups and groups_not_offered", 6, 32);
}

TEST(ProfileValidate, SignatureAlgorithmsAndAlpn) {
  const std::string head =
      "versions = [\"TLSv1.2\"]\nciphers = [\"AES128-SHA\"]\ngroups = [\"P-256\"]\n";
  profile_should_fail(with_hello(head + "signature_algorithms = [\"RSA+NOPE\"]\n"),
                      "unknown signature algorithm 'RSA+NOPE'", 6, 25);
  profile_should_fail(with_hello(head + "signature_algorithms = [\"RSA+SHA256:ECDSA+SHA256\"]\n"),
                      "unknown signature algorithm 'RSA+SHA256:ECDSA+SHA256'", 6, 25);
  profile_should_fail(
      with_hello(head + "signature_algorithms = [\"RSA+SHA256\", \"rsa_pkcs1_sha256\"]\n"),
      "duplicate signature algorithm 'rsa_pkcs1_sha256'", 6, 39);
  profile_should_load(
      with_hello(head + "signature_algorithms = [\"rsa_pss_rsae_sha256\", \"ECDSA+SHA256\"]\n"));
  profile_should_fail(with_hello(head + "alpn = [\"\"]\n"),
                      "ALPN protocol names must be 1 to 255 bytes", 6, 9);
  profile_should_fail(with_hello(head + "alpn = [\"h2\", \"h2\"]\n"),
                      "duplicate ALPN protocol 'h2'", 6, 15);
}

TEST(ProfileValidate, Sni) {
  const std::string head =
      "versions = [\"TLSv1.2\"]\nciphers = [\"AES128-SHA\"]\ngroups = [\"P-256\"]\n";
  profile_should_fail(with_hello(head + "sni = \"fixed\"\n"), "sni = \"fixed\" needs sni_name", 6,
                      7);
  profile_should_fail(with_hello(head + "sni_name = \"a.example\"\n"),
                      "sni_name is set but sni is 'request_host'", 6, 12);
  profile_should_fail(with_hello(head + "sni = \"fixed\"\nsni_name = \"bad name\"\n"),
                      "sni_name 'bad name' is not a DNS host name", 7, 12);
  auto p = parse(with_hello(head + "sni = \"fixed\"\nsni_name = \"origin.example\"\n"));
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->sni, SniPolicy::fixed);
  EXPECT_EQ(p->sni_name, "origin.example");
}

TEST(ProfileValidate, Modes) {
  // k_head is lines 1-5, k_errors 6-14, so a [[modes]] header is line 15.
  const std::string base = k_head + k_errors;
  profile_should_fail(base + "[[modes]]\nname = \"x\"\n",
                      "mode 'x' needs verify (none, chain or chain_and_name)", 15, 1);
  profile_should_fail(base + "[[modes]]\nname = \"x\"\ntransport = \"plaintext\"\n"
                             "verify = \"chain\"\n",
                      "mode 'x' is plaintext but verify is 'chain'", 18, 10);
  profile_should_fail(base + k_mode + "[[modes]]\nname = \"default\"\nverify = \"chain\"\n",
                      "duplicate mode name 'default'", 19, 8);
  profile_should_fail(base + "[[modes]]\nname = \"Full Strict\"\nverify = \"none\"\n",
                      "mode name 'Full Strict' must be lower-case", 16, 8);
  profile_should_fail(base + "[[modes]]\nname = \"x\"\nverify = \"chain\"\n"
                             "extra_trust = [\"my_ca\"]\n",
                      "unknown extra_trust 'my_ca'", 18, 16);
  profile_should_fail(base + "[[modes]]\nname = \"x\"\nverify = \"none\"\n"
                             "extra_trust = [\"cloudflare_origin_ca\"]\n",
                      "extra_trust 'cloudflare_origin_ca' in mode 'x' has no effect with verify = "
                      "'none'",
                      18, 16);
  profile_should_fail("modes = []\n" + k_head + k_errors,
                      "modes must not be empty: a profile needs at least one mode", 1, 9);
  profile_should_fail(k_head + "[validation]\ndefault_mode = \"strict\"\n" + k_tail,
                      "default_mode 'strict' is not a mode (modes: default)", 7, 16);
  profile_should_fail(k_head + "[[modes]]\nname = \"x\"\nverify = \"none\"\n",
                      "mode 'x' has no edge result for connection_refused, connect_timeout", 6, 1);
  profile_should_fail(k_head + "[errors]\nconnection_refused = \"521\"\n" + k_mode,
                      "mode 'default' has no edge result for connect_timeout", 6, 1);
}

TEST(ProfileValidate, ModeErrorsCompleteTheProfileErrors) {
  // A class missing from [errors] is fine when every mode gives it.
  auto p =
      parse(k_head + "[errors]\nconnection_refused = \"521\"\n" +
            "[[modes]]\nname = \"m\"\nverify = \"none\"\n"
            "errors = { connect_timeout = \"1\", handshake_failure = \"2\", "
            "handshake_timeout = \"3\", certificate_invalid = \"4\", response_timeout = \"5\", "
            "http_error = \"6\", origin_unresolvable = \"7\" }\n");
  ASSERT_TRUE(p) << p.error().to_string();
  const Mode* m = p->find_mode("m");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(p->error_for(*m, FailureClass::connection_refused), "521");
  EXPECT_EQ(p->error_for(*m, FailureClass::origin_unresolvable), "7");
}

TEST(ProfileValidate, OnlyFailuresAModeCanHaveNeedAResult) {
  // No handshake in plaintext, no certificate check with verify = none.
  const std::string errors = "[errors]\nconnection_refused = \"a\"\nconnect_timeout = \"b\"\n"
                             "response_timeout = \"f\"\nhttp_error = \"g\"\n"
                             "origin_unresolvable = \"h\"\n";
  profile_should_load(k_head + errors + "[[modes]]\nname = \"p\"\ntransport = \"plaintext\"\n");
  profile_should_fail(k_head + errors + "[[modes]]\nname = \"full\"\nverify = \"none\"\n",
                      "mode 'full' has no edge result for handshake_failure, handshake_timeout "
                      "(add them to [errors])",
                      6, 1);
  profile_should_load(k_head + errors + "handshake_failure = \"c\"\nhandshake_timeout = \"d\"\n" +
                      "[[modes]]\nname = \"full\"\nverify = \"none\"\n");
  profile_should_fail(k_head + errors + "handshake_failure = \"c\"\nhandshake_timeout = \"d\"\n" +
                          "[[modes]]\nname = \"strict\"\nverify = \"chain\"\n",
                      "mode 'strict' has no edge result for certificate_invalid", 6, 1);
}

TEST(ProfileValidate, SourcesAndTrustStore) {
  profile_should_fail("name = \"t\"\nsources = [\"https://a.example/\", \"docs page\"]\n"
                      "[client_hello]\nversions = [\"TLSv1.2\"]\nciphers = [\"AES128-SHA\"]\n"
                      "groups = [\"P-256\"]\n" +
                          k_tail,
                      "source 'docs page' must be a URL", 2, 34);
  profile_should_fail(k_head + "[validation]\ntrust_store = \"/nonexistent/ca.pem\"\n" + k_tail,
                      "trust store '/nonexistent/ca.pem' does not exist", 7, 15);
}

} // namespace
} // namespace edgeshake::profiles::testing
