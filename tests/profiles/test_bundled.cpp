// The bundled profiles: all load, are self-consistent, match the documented
// facts they cite, and are found by id and by path.
#include "profiles/profiles.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace edgeshake::profiles {
namespace {

const Profile& get(std::string_view id) {
  for (const auto& p : bundled()) {
    if (p.id == id)
      return p;
  }
  ADD_FAILURE() << "no bundled profile " << id;
  static const Profile empty;
  return empty;
}

std::vector<std::string> openssl_default_tls12_ciphers() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  EXPECT_EQ(SSL_CTX_set_cipher_list(ctx, "DEFAULT"), 1);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL* ssl = SSL_new(ctx);
  std::vector<std::string> out;
  STACK_OF(SSL_CIPHER)* list = SSL_get1_supported_ciphers(ssl);
  for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i)
    out.emplace_back(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, i)));
  sk_SSL_CIPHER_free(list);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

TEST(BundledProfiles, TheExpectedSetLoads) {
  std::set<std::string> ids;
  for (const auto& p : bundled())
    ids.insert(p.id);
  EXPECT_EQ(ids,
            (std::set<std::string>{"akamai", "aws-alb", "azure-front-door", "browser", "cloudflare",
                                   "cloudfront", "fastly", "gcp-lb", "haproxy", "nginx-proxy"}));
}

TEST(BundledProfiles, EachIsSelfConsistentAndCitesSources) {
  for (const auto& p : bundled()) {
    SCOPED_TRACE(p.id);
    EXPECT_EQ(p.path, "<bundled>/" + p.id + ".toml");
    EXPECT_FALSE(p.name.empty());
    EXPECT_FALSE(p.provider.empty());
    EXPECT_FALSE(p.description.empty());
    EXPECT_FALSE(p.sources.empty());
    for (const auto& s : p.sources)
      EXPECT_EQ(s.rfind("https://", 0), 0u) << s;
    // Every bundled profile has facts the provider does not document.
    EXPECT_FALSE(p.assumptions.empty());
    ASSERT_FALSE(p.versions.empty());
    for (std::size_t i = 1; i < p.versions.size(); ++i)
      EXPECT_EQ(static_cast<int>(p.versions[i]), static_cast<int>(p.versions[i - 1]) + 1);
    EXPECT_EQ(p.versions.back() == TlsVersion::tls1_3, !p.tls13_ciphersuites.empty());
    EXPECT_EQ(p.versions.front() < TlsVersion::tls1_3, !p.ciphers.empty());
    EXPECT_FALSE(p.groups.empty());
    if (p.versions.front() < TlsVersion::tls1_2) {
      EXPECT_EQ(p.security_level, 0);
    }
    ASSERT_FALSE(p.modes.empty());
    ASSERT_NE(p.find_mode(p.default_mode), nullptr);
    for (const auto& m : p.modes) {
      for (auto c : k_all_failure_classes) {
        if (can_fail_with(m, c)) {
          EXPECT_NE(p.error_for(m, c), "error") << m.name << " " << to_string(c);
        }
      }
    }
    EXPECT_EQ(p.trust_store, "system");
  }
}

// The embedded copy is the file in the source tree (the build re-embeds on change).
TEST(BundledProfiles, EmbeddedCopiesMatchTheSourceFiles) {
  std::filesystem::path dir = std::filesystem::path(EDGESHAKE_SOURCE_DIR) / "profiles/providers";
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml")
      continue;
    ++files;
    auto from_disk = load_file(entry.path().string());
    ASSERT_TRUE(from_disk) << from_disk.error().to_string();
    Profile embedded = get(from_disk->id);
    embedded.path = from_disk->path;
    EXPECT_EQ(embedded, *from_disk) << entry.path();
  }
  EXPECT_EQ(files, bundled().size());
}

TEST(BundledProfiles, CloudflareMatchesTheDocumentedTable) {
  const auto& p = get("cloudflare");
  // Format 2: the suites of developers.cloudflare.com/ssl/origin-configuration/cipher-suites/
  // in the order Pingora on BoringSSL sends them (inferred), without ECDHE-RSA-AES256-SHA384,
  // which upstream BoringSSL does not know (shared/reference/cloudflare-origin-hello.md).
  EXPECT_EQ(p.ciphers, (std::vector<std::string>{
                           "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                           "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                           "ECDHE-RSA-AES128-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
                           "AES128-SHA", "AES256-SHA"}));
  EXPECT_EQ(p.tls13_ciphersuites,
            (std::vector<std::string>{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                      "TLS_CHACHA20_POLY1305_SHA256"}));
  ASSERT_EQ(p.ciphers_not_offered.size(), 1u);
  EXPECT_EQ(p.ciphers_not_offered[0].name, "DES-CBC3-SHA");
  EXPECT_EQ(p.versions, (std::vector<TlsVersion>{TlsVersion::tls1_0, TlsVersion::tls1_1,
                                                 TlsVersion::tls1_2, TlsVersion::tls1_3}));
  EXPECT_EQ(p.sni, SniPolicy::request_host);
  EXPECT_EQ(p.default_mode, "strict");
  ASSERT_EQ(p.modes.size(), 3u);
  const Mode* flexible = p.find_mode("flexible");
  const Mode* full = p.find_mode("full");
  const Mode* strict = p.find_mode("strict");
  ASSERT_TRUE(flexible && full && strict);
  EXPECT_EQ(flexible->transport, Transport::plaintext);
  EXPECT_EQ(flexible->port, 80);
  EXPECT_EQ(full->transport, Transport::tls);
  EXPECT_EQ(full->verify, Verify::none);
  EXPECT_EQ(strict->verify, Verify::chain_and_name);
  EXPECT_EQ(strict->extra_trust, std::vector<std::string>{"cloudflare_origin_ca"});
  EXPECT_EQ(p.error_for(*full, FailureClass::connection_refused), "521");
  EXPECT_EQ(p.error_for(*full, FailureClass::connect_timeout), "522");
  EXPECT_EQ(p.error_for(*full, FailureClass::handshake_failure), "525");
  EXPECT_EQ(p.error_for(*strict, FailureClass::handshake_failure), "525");
  EXPECT_EQ(p.error_for(*strict, FailureClass::certificate_invalid), "526");
  EXPECT_EQ(strict->errors.at(FailureClass::certificate_invalid), "526"); // strict only
  EXPECT_FALSE(can_fail_with(*full, FailureClass::certificate_invalid));
  EXPECT_FALSE(can_fail_with(*flexible, FailureClass::handshake_failure));
  EXPECT_EQ(p.error_for(*strict, FailureClass::response_timeout), "524");
  EXPECT_EQ(p.error_for(*strict, FailureClass::origin_unresolvable), "530");
  EXPECT_EQ(p.error_for(*flexible, FailureClass::connection_refused), "521");
}

TEST(BundledProfiles, CloudFrontMatchesTheDocumentedTables) {
  const auto& p = get("cloudfront");
  EXPECT_EQ(p.versions,
            (std::vector<TlsVersion>{TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2}));
  EXPECT_TRUE(p.tls13_ciphersuites.empty());
  EXPECT_EQ(p.groups, (std::vector<std::string>{"prime256v1", "secp384r1", "X25519"}));
  std::set<std::string> not_offered;
  for (const auto& n : p.ciphers_not_offered)
    not_offered.insert(n.name);
  EXPECT_EQ(not_offered, (std::set<std::string>{"DES-CBC3-SHA", "RC4-MD5"}));
  EXPECT_EQ(p.ciphers.size() + p.ciphers_not_offered.size(), 16u); // 6 ECDSA + 10 RSA rows
  EXPECT_EQ(p.sni, SniPolicy::request_host);
  ASSERT_EQ(p.modes.size(), 1u);
  EXPECT_EQ(p.modes[0].verify, Verify::chain_and_name);
  for (auto c : {FailureClass::connection_refused, FailureClass::handshake_failure,
                 FailureClass::certificate_invalid})
    EXPECT_EQ(p.error_for(p.modes[0], c), "502");
}

TEST(BundledProfiles, OtherProvidersVerificationSniAndErrors) {
  struct Row {
    const char* id;
    Verify verify;
    SniPolicy sni;
    const char* handshake_failure;
  };
  for (const Row& r :
       {Row{"fastly", Verify::chain_and_name, SniPolicy::request_host, "503"},
        Row{"akamai", Verify::chain_and_name, SniPolicy::request_host, "503"},
        Row{"azure-front-door", Verify::chain_and_name, SniPolicy::request_host, "503"},
        Row{"gcp-lb", Verify::none, SniPolicy::none, "502"},
        Row{"aws-alb", Verify::none, SniPolicy::none, "502"},
        Row{"nginx-proxy", Verify::none, SniPolicy::none, "502"},
        Row{"haproxy", Verify::chain_and_name, SniPolicy::request_host, "503"},
        Row{"browser", Verify::chain_and_name, SniPolicy::request_host,
            "ERR_SSL_PROTOCOL_ERROR"}}) {
    SCOPED_TRACE(r.id);
    const auto& p = get(r.id);
    const Mode* m = p.find_mode(p.default_mode);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->verify, r.verify);
    EXPECT_EQ(p.sni, r.sni);
    EXPECT_EQ(p.error_for(*m, FailureClass::handshake_failure), r.handshake_failure);
  }
  EXPECT_EQ(get("azure-front-door").versions,
            (std::vector<TlsVersion>{TlsVersion::tls1_2, TlsVersion::tls1_3}));
  EXPECT_EQ(get("browser").alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(get("browser").groups, (std::vector<std::string>{"X25519", "P-256", "P-384"}));
}

TEST(BundledProfiles, AwsAlbIsThe2016PolicyTable) {
  const auto& p = get("aws-alb");
  EXPECT_EQ(
      p.ciphers,
      (std::vector<std::string>{
          "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
          "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA",
          "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
          "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA",
          "ECDHE-ECDSA-AES256-SHA", "AES128-GCM-SHA256", "AES128-SHA256", "AES128-SHA",
          "AES256-GCM-SHA384", "AES256-SHA256", "AES256-SHA"}));
  EXPECT_EQ(p.versions.front(), TlsVersion::tls1_0);
  EXPECT_EQ(p.versions.back(), TlsVersion::tls1_2);
}

// nginx's proxy_ssl_ciphers DEFAULT, expanded by the linked OpenSSL: the profile
// must be exactly what this OpenSSL sends for "DEFAULT".
TEST(BundledProfiles, NginxProxyIsOpensslDefaultExpanded) {
  const auto& p = get("nginx-proxy");
  EXPECT_EQ(p.ciphers, openssl_default_tls12_ciphers());
  EXPECT_EQ(p.versions, (std::vector<TlsVersion>{TlsVersion::tls1_2, TlsVersion::tls1_3}));
  EXPECT_TRUE(p.alpn.empty());
  EXPECT_EQ(p.modes.front().verify, Verify::none);
}

TEST(BundledProfiles, FindByIdAndPath) {
  auto cf = find("cloudflare");
  ASSERT_TRUE(cf) << cf.error().to_string();
  EXPECT_EQ(cf->id, "cloudflare");

  auto unknown = find("cloudflair");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown profile 'cloudflair'"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("cloudflare"), std::string::npos);

  auto path = std::string(EDGESHAKE_SOURCE_DIR) + "/profiles/providers/fastly.toml";
  auto fastly = find(path);
  ASSERT_TRUE(fastly) << fastly.error().to_string();
  EXPECT_EQ(fastly->id, "fastly");
  EXPECT_EQ(fastly->path, path);

  // Ends in .toml: a path even without a slash (and this one does not exist).
  auto missing = find("cloudflare.toml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::io);
  EXPECT_EQ(missing.error().where, "cloudflare.toml");
}

} // namespace
} // namespace edgeshake::profiles
