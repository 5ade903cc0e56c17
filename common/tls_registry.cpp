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

namespace edgeshake::tls {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i]))
      return false;
  }
  return true;
}

// IANA TLS ExtensionType Values; `writable` ones have contents the hand-built
// hello can fill (handshake/enumerate/wire.cpp).
// clang-format off
constexpr ExtensionInfo k_extensions[] = {
    {0x0000, "server_name", "", true},
    {0x0001, "max_fragment_length", "", false},
    {0x0005, "status_request", "", true},
    {0x000a, "supported_groups", "", true},
    {0x000b, "ec_point_formats", "", true},
    {0x000d, "signature_algorithms", "", true},
    {0x000e, "use_srtp", "", false},
    {0x000f, "heartbeat", "", false},
    {0x0010, "application_layer_protocol_negotiation", "alpn", true},
    {0x0012, "signed_certificate_timestamp", "", true},
    {0x0015, "padding", "", true},
    {0x0016, "encrypt_then_mac", "", true},
    {0x0017, "extended_master_secret", "", true},
    {0x001b, "compress_certificate", "", true},
    {0x001c, "record_size_limit", "", false},
    {0x0023, "session_ticket", "", true},
    {0x0029, "pre_shared_key", "", false},
    {0x002a, "early_data", "", false},
    {0x002b, "supported_versions", "", true},
    {0x002c, "cookie", "", false},
    {0x002d, "psk_key_exchange_modes", "", true},
    {0x002f, "certificate_authorities", "", false},
    {0x0031, "post_handshake_auth", "", true},
    {0x0032, "signature_algorithms_cert", "", true},
    {0x0033, "key_share", "", true},
    {0x3374, "next_protocol_negotiation", "", false},
    {0x4469, "application_settings_old", "", false},
    {0x44cd, "application_settings", "", false},
    {0xfe0d, "encrypted_client_hello", "", false},
    {0xff01, "renegotiation_info", "", true},
};
// clang-format on

// The OpenSSL 3 sigalgs-list names that differ from the IANA ones.
constexpr std::pair<std::uint16_t, std::string_view> k_openssl_sigalg_names[] = {
    {0x0202, "DSA+SHA1"},     {0x0203, "ECDSA+SHA1"}, {0x0302, "DSA+SHA224"},
    {0x0303, "ECDSA+SHA224"}, {0x0402, "DSA+SHA256"}, {0x0502, "DSA+SHA384"},
    {0x0602, "DSA+SHA512"},
};

} // namespace

std::optional<std::uint16_t> group_by_name(std::string_view name) {
  static constexpr std::pair<std::string_view, std::uint16_t> k_aliases[] = {
      {"P-256", 23},      {"prime256v1", 23}, {"P-384", 24}, {"P-521", 25},
      {"prime384v1", 24}, {"X25519", 29},     {"X448", 30},
  };
  for (const auto& [alias, code] : k_aliases)
    if (iequals(alias, name))
      return code;
  for (const auto& g : named_groups())
    if (iequals(g.name, name))
      return g.code;
  return std::nullopt;
}

std::optional<std::uint16_t> signature_scheme_by_name(std::string_view name) {
  static constexpr std::pair<std::string_view, std::uint16_t> k_openssl_forms[] = {
      {"RSA+SHA1", 0x0201},       {"RSA+SHA224", 0x0301},     {"RSA+SHA256", 0x0401},
      {"RSA+SHA384", 0x0501},     {"RSA+SHA512", 0x0601},     {"ECDSA+SHA1", 0x0203},
      {"ECDSA+SHA224", 0x0303},   {"ECDSA+SHA256", 0x0403},   {"ECDSA+SHA384", 0x0503},
      {"ECDSA+SHA512", 0x0603},   {"DSA+SHA1", 0x0202},       {"DSA+SHA224", 0x0302},
      {"DSA+SHA256", 0x0402},     {"DSA+SHA384", 0x0502},     {"DSA+SHA512", 0x0602},
      {"RSA-PSS+SHA256", 0x0804}, {"RSA-PSS+SHA384", 0x0805}, {"RSA-PSS+SHA512", 0x0806},
  };
  for (const auto& [form, code] : k_openssl_forms)
    if (iequals(form, name))
      return code;
  for (auto scheme : signature_schemes())
    if (iequals(signature_scheme_name(scheme), name))
      return scheme;
  return std::nullopt;
}

std::string_view openssl_sigalg_name(std::uint16_t scheme) {
  for (const auto& [code, name] : k_openssl_sigalg_names)
    if (code == scheme)
      return name;
  // Every other scheme OpenSSL knows goes by its IANA name; the brainpool TLS 1.3
  // schemes arrived after 3.0.
  static constexpr std::uint16_t k_known[] = {0x0201, 0x0301, 0x0401, 0x0403, 0x0501, 0x0503,
                                              0x0601, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807,
                                              0x0808, 0x0809, 0x080a, 0x080b};
  static const std::string k_names[] = {"rsa_pkcs1_sha1",
                                        "rsa_pkcs1_sha224",
                                        "rsa_pkcs1_sha256",
                                        "ecdsa_secp256r1_sha256",
                                        "rsa_pkcs1_sha384",
                                        "ecdsa_secp384r1_sha384",
                                        "rsa_pkcs1_sha512",
                                        "ecdsa_secp521r1_sha512",
                                        "rsa_pss_rsae_sha256",
                                        "rsa_pss_rsae_sha384",
                                        "rsa_pss_rsae_sha512",
                                        "ed25519",
                                        "ed448",
                                        "rsa_pss_pss_sha256",
                                        "rsa_pss_pss_sha384",
                                        "rsa_pss_pss_sha512"};
  for (std::size_t i = 0; i < std::size(k_known); ++i)
    if (k_known[i] == scheme)
      return k_names[i];
  return {};
}

std::span<const ExtensionInfo> extensions() {
  return k_extensions;
}

const ExtensionInfo* find_extension(std::uint16_t code) {
  for (const auto& e : k_extensions)
    if (e.code == code)
      return &e;
  return nullptr;
}

const ExtensionInfo* extension_by_name(std::string_view name) {
  for (const auto& e : k_extensions)
    if (e.name == name || (!e.alias.empty() && e.alias == name))
      return &e;
  return nullptr;
}

std::string extension_name(std::uint16_t code) {
  if (const auto* e = find_extension(code))
    return std::string(e->name);
  if (is_grease(code))
    return "GREASE";
  static const char* digits = "0123456789ABCDEF";
  std::string out = "0x";
  for (int shift = 12; shift >= 0; shift -= 4)
    out += digits[(code >> shift) & 0xf];
  return out;
}

std::optional<std::uint8_t> point_format_by_name(std::string_view name) {
  if (name == "uncompressed")
    return 0;
  if (name == "ansiX962_compressed_prime")
    return 1;
  if (name == "ansiX962_compressed_char2")
    return 2;
  return std::nullopt;
}

std::optional<std::uint8_t> psk_mode_by_name(std::string_view name) {
  if (name == "psk_ke")
    return 0;
  if (name == "psk_dhe_ke")
    return 1;
  return std::nullopt;
}

std::optional<std::uint16_t> cert_compression_by_name(std::string_view name) {
  if (name == "zlib")
    return 1;
  if (name == "brotli")
    return 2;
  if (name == "zstd")
    return 3;
  return std::nullopt;
}

} // namespace edgeshake::tls
