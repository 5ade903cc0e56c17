// Named groups, signature schemes, ALPN ids and lookups over the cipher table.
#include "common/tls_registry.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace edgeshake::tls {

namespace {
constexpr std::uint8_t t12 = k_tls1_2, t13 = k_tls1_3, both = k_tls1_2 | k_tls1_3;

// IANA "TLS Supported Groups" registry (RFC 8422, 7919, 8446, 9367, draft-ietf-tls-mlkem,
// draft-ietf-tls-ecdhe-mlkem) plus the Kyber drafts that deployed servers still answer.
// clang-format off
constexpr GroupInfo k_groups[] = {
    {1, "sect163k1", t12, 0},   {2, "sect163r1", t12, 0},   {3, "sect163r2", t12, 0},
    {4, "sect193r1", t12, 0},   {5, "sect193r2", t12, 0},   {6, "sect233k1", t12, 0},
    {7, "sect233r1", t12, 0},   {8, "sect239k1", t12, 0},   {9, "sect283k1", t12, 0},
    {10, "sect283r1", t12, 0},  {11, "sect409k1", t12, 0},  {12, "sect409r1", t12, 0},
    {13, "sect571k1", t12, 0},  {14, "sect571r1", t12, 0},  {15, "secp160k1", t12, 0},
    {16, "secp160r1", t12, 0},  {17, "secp160r2", t12, 0},  {18, "secp192k1", t12, 0},
    {19, "secp192r1", t12, 0},  {20, "secp224k1", t12, 0},  {21, "secp224r1", t12, 0},
    {22, "secp256k1", t12, 0},  {23, "secp256r1", both, 65}, {24, "secp384r1", both, 97},
    {25, "secp521r1", both, 133},
    {26, "brainpoolP256r1", t12, 65}, {27, "brainpoolP384r1", t12, 97},
    {28, "brainpoolP512r1", t12, 129},
    {29, "x25519", both, 32},   {30, "x448", both, 56},
    {31, "brainpoolP256r1tls13", t13, 65}, {32, "brainpoolP384r1tls13", t13, 97},
    {33, "brainpoolP512r1tls13", t13, 129},
    {34, "GC256A", t13, 64}, {35, "GC256B", t13, 64}, {36, "GC256C", t13, 64},
    {37, "GC256D", t13, 64}, {38, "GC512A", t13, 128}, {39, "GC512B", t13, 128},
    {40, "GC512C", t13, 128}, {41, "curveSM2", t13, 65},
    {256, "ffdhe2048", t13, 256}, {257, "ffdhe3072", t13, 384}, {258, "ffdhe4096", t13, 512},
    {259, "ffdhe6144", t13, 768}, {260, "ffdhe8192", t13, 1024},
    {0x0200, "MLKEM512", t13, 800}, {0x0201, "MLKEM768", t13, 1184},
    {0x0202, "MLKEM1024", t13, 1568},
    {0x11EB, "SecP256r1MLKEM768", t13, 1249}, {0x11EC, "X25519MLKEM768", t13, 1216},
    {0x11ED, "SecP384r1MLKEM1024", t13, 1665},
    {0x6399, "X25519Kyber768Draft00", t13, 1216}, {0x639A, "SecP256r1Kyber768Draft00", t13, 1249},
    {0xFF01, "arbitrary_explicit_prime_curves", t12, 0},
    {0xFF02, "arbitrary_explicit_char2_curves", t12, 0},
};

// RFC 8446 SignatureScheme values, legacy ones included so that no server refuses
// for want of a signature algorithm.
constexpr std::uint16_t k_sigalgs[] = {
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B,
    0x081A, 0x081B, 0x081C, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502,
    0x0602, 0x0203, 0x0201, 0x0202,
};
// clang-format on

constexpr std::array<std::string_view, 12> k_alpn = {
    "h2",     "http/1.1", "http/1.0", "http/0.9", "spdy/3.1",   "spdy/3",
    "spdy/2", "spdy/1",   "h2c",      "h3",       "acme-tls/1", "grpc-exp"};
} // namespace

std::span<const GroupInfo> named_groups() {
  return k_groups;
}
std::span<const std::uint16_t> signature_schemes() {
  return k_sigalgs;
}
std::string signature_scheme_name(std::uint16_t scheme) {
  static constexpr std::pair<std::uint16_t, std::string_view> k_names[] = {
      {0x0201, "rsa_pkcs1_sha1"},
      {0x0202, "dsa_sha1"},
      {0x0203, "ecdsa_sha1"},
      {0x0301, "rsa_pkcs1_sha224"},
      {0x0302, "dsa_sha224"},
      {0x0303, "ecdsa_sha224"},
      {0x0401, "rsa_pkcs1_sha256"},
      {0x0402, "dsa_sha256"},
      {0x0403, "ecdsa_secp256r1_sha256"},
      {0x0501, "rsa_pkcs1_sha384"},
      {0x0502, "dsa_sha384"},
      {0x0503, "ecdsa_secp384r1_sha384"},
      {0x0601, "rsa_pkcs1_sha512"},
      {0x0602, "dsa_sha512"},
      {0x0603, "ecdsa_secp521r1_sha512"},
      {0x0804, "rsa_pss_rsae_sha256"},
      {0x0805, "rsa_pss_rsae_sha384"},
      {0x0806, "rsa_pss_rsae_sha512"},
      {0x0807, "ed25519"},
      {0x0808, "ed448"},
      {0x0809, "rsa_pss_pss_sha256"},
      {0x080A, "rsa_pss_pss_sha384"},
      {0x080B, "rsa_pss_pss_sha512"},
      {0x081A, "ecdsa_brainpoolP256r1tls13_sha256"},
      {0x081B, "ecdsa_brainpoolP384r1tls13_sha384"},
      {0x081C, "ecdsa_brainpoolP512r1tls13_sha512"},
  };
  for (const auto& [code, name] : k_names)
    if (code == scheme)
      return std::string(name);
  static const char* digits = "0123456789ABCDEF";
  std::string out = "0x";
  for (int shift = 12; shift >= 0; shift -= 4)
    out += digits[(scheme >> shift) & 0xf];
  return out;
}

std::span<const std::string_view> alpn_candidates() {
  return k_alpn;
}

const CipherSuiteInfo* find_cipher_suite(std::uint16_t code) {
  auto all = cipher_suites();
  auto it = std::lower_bound(all.begin(), all.end(), code,
                             [](const CipherSuiteInfo& s, std::uint16_t c) { return s.code < c; });
  return it != all.end() && it->code == code ? &*it : nullptr;
}

const GroupInfo* find_group(std::uint16_t code) {
  for (const auto& g : k_groups)
    if (g.code == code)
      return &g;
  return nullptr;
}

std::optional<std::uint16_t> cipher_suite_by_name(std::string_view name) {
  for (const auto& s : cipher_suites())
    if (s.iana_name == name || (!s.openssl_name.empty() && s.openssl_name == name))
      return s.code;
  return std::nullopt;
}

std::string_view display_name(std::uint16_t suite) {
  if (const auto* s = find_cipher_suite(suite))
    return s->openssl_name.empty() ? s->iana_name : s->openssl_name;
  return "unknown";
}

std::vector<std::uint16_t> candidate_suites(TlsVersion v) {
  std::vector<std::uint16_t> out;
  for (const auto& s : cipher_suites())
    if (s.code != 0x0000 && (s.versions & version_bit(v)) != 0)
      out.push_back(s.code);
  return out;
}

std::vector<std::uint16_t> candidate_groups(TlsVersion v) {
  std::vector<std::uint16_t> out;
  const auto bit = v == TlsVersion::tls1_3 ? k_tls1_3 : k_tls1_2;
  for (const auto& g : k_groups)
    if ((g.versions & bit) != 0)
      out.push_back(g.code);
  return out;
}

} // namespace edgeshake::tls
