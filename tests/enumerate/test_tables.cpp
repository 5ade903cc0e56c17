// The cipher-suite and group tables: well-formed, and consistent with the linked
// OpenSSL's own names (checked with the openssl CLI, not hard-coded).
#include "handshake/enumerate/tables.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace en = edgeshake::handshake::enumerate;
using edgeshake::TlsVersion;

TEST(EnumerateTables, SuitesAreSortedUniqueAndNamed) {
  auto all = en::cipher_suites();
  ASSERT_GT(all.size(), 350u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_FALSE(all[i].iana_name.empty()) << i;
    EXPECT_NE(all[i].versions, 0) << all[i].iana_name;
    if (i > 0) {
      EXPECT_LT(all[i - 1].code, all[i].code) << all[i].iana_name;
    }
    EXPECT_EQ(en::find_cipher_suite(all[i].code), &all[i]);
  }
  EXPECT_EQ(en::find_cipher_suite(0x00ff), nullptr); // SCSVs are not suites
  EXPECT_EQ(en::find_cipher_suite(0x5600), nullptr);
}

TEST(EnumerateTables, CoversTheExoticFamilies) {
  for (const char* name :
       {"TLS_RSA_EXPORT_WITH_RC4_40_MD5", "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_DES_CBC_SHA",
        "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "TLS_RSA_WITH_ARIA_128_GCM_SHA256",
        "TLS_GOSTR341001_WITH_28147_CNT_IMIT", "TLS_RSA_WITH_AES_128_CCM_8",
        "TLS_AES_128_CCM_8_SHA256", "TLS_SHA256_SHA256", "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"})
    EXPECT_TRUE(en::cipher_suite_by_name(name)) << name;
  ASSERT_TRUE(en::find_group(0x11EC));
  EXPECT_EQ(en::find_group(0x11EC)->name, "X25519MLKEM768");
  EXPECT_EQ(en::find_group(0x11EC)->key_share_size, 1216);
}

TEST(EnumerateTables, CandidatesRespectVersions) {
  auto t13 = en::candidate_suites(TlsVersion::tls1_3);
  EXPECT_EQ(std::count(t13.begin(), t13.end(), 0x1301), 1);
  EXPECT_EQ(std::count(t13.begin(), t13.end(), 0xC02F), 0);
  auto ssl3 = en::candidate_suites(TlsVersion::ssl3);
  EXPECT_EQ(std::count(ssl3.begin(), ssl3.end(), 0xC02F), 0); // GCM is TLS 1.2 only
  EXPECT_EQ(std::count(ssl3.begin(), ssl3.end(), 0x0000), 0); // never negotiable
  auto t12 = en::candidate_suites(TlsVersion::tls1_2);
  EXPECT_EQ(std::count(t12.begin(), t12.end(), 0x002F), 1);
  // A whole TLS 1.2 offer fits one ClientHello record comfortably.
  EXPECT_LT(t12.size() * 2, 16384u - 2048u);
}

// Every suite the linked OpenSSL knows, with its code point, is in the table
// under the same OpenSSL name.
TEST(EnumerateTables, AgreesWithTheLinkedOpenssl) {
  ES_REQUIRE_PROGRAM("openssl");
  auto out = edgeshake::testing::run_command(
      {"openssl", "ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"});
  ASSERT_EQ(out.status, 0) << out.output;
  std::istringstream in(out.output);
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string code, dash, name;
    ls >> code >> dash >> name;
    if (code.size() != 9 || code[0] != '0')
      continue;
    const auto value = static_cast<std::uint16_t>(std::stoi(code.substr(2, 2), nullptr, 16) << 8 |
                                                  std::stoi(code.substr(7, 2), nullptr, 16));
    const auto* s = en::find_cipher_suite(value);
    ASSERT_NE(s, nullptr) << line;
    EXPECT_EQ(s->openssl_name, name) << line;
    ++checked;
  }
  EXPECT_GT(checked, 100);
}
