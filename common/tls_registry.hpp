// The registries the enumerator offers from: every TLS cipher suite a real server
// might pick (IANA registry plus historic/vendor code points) and every named group.
// Plain data, no third-party types.
#pragma once

#include "common/tls.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgeshake::tls {

// Bit per protocol version (a suite's or group's applicability).
inline constexpr std::uint8_t k_ssl3 = 1, k_tls1_0 = 2, k_tls1_1 = 4, k_tls1_2 = 8, k_tls1_3 = 16;
constexpr std::uint8_t version_bit(TlsVersion v) {
  switch (v) {
  case TlsVersion::ssl3:
    return k_ssl3;
  case TlsVersion::tls1_0:
    return k_tls1_0;
  case TlsVersion::tls1_1:
    return k_tls1_1;
  case TlsVersion::tls1_2:
    return k_tls1_2;
  case TlsVersion::tls1_3:
    return k_tls1_3;
  }
  return 0;
}

struct CipherSuiteInfo {
  std::uint16_t code = 0;
  std::string_view iana_name;    // "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
  std::string_view openssl_name; // "ECDHE-RSA-AES128-GCM-SHA256", empty when OpenSSL has none
  std::uint8_t versions = 0;     // k_ssl3 | k_tls1_0 ...
  bool iana = true;              // false: a draft or vendor code point
};

struct GroupInfo {
  std::uint16_t code = 0;
  std::string_view name;            // IANA name ("secp256r1", "X25519MLKEM768")
  std::uint8_t versions = 0;        // k_tls1_2 (ECDHE) and/or k_tls1_3 (key share)
  std::uint16_t key_share_size = 0; // client key_share length, 0 if unknown
};

std::span<const CipherSuiteInfo> cipher_suites();
std::span<const GroupInfo> named_groups();
std::span<const std::uint16_t> signature_schemes(); // offered in every hello
// IANA name of a signature scheme ("rsa_pss_rsae_sha256"), "0x...." when unknown.
std::string signature_scheme_name(std::uint16_t scheme);

const CipherSuiteInfo* find_cipher_suite(std::uint16_t code);
const GroupInfo* find_group(std::uint16_t code);
std::optional<std::uint16_t> cipher_suite_by_name(std::string_view iana_or_openssl);

// "ECDHE-RSA-AES128-GCM-SHA256" (or the IANA name when OpenSSL has none, or "0xC02F").
std::string_view display_name(std::uint16_t suite);

// Suites offered when enumerating `v` (every suite applicable to it, minus the
// never-negotiable TLS_NULL_WITH_NULL_NULL), in table order.
std::vector<std::uint16_t> candidate_suites(TlsVersion v);
std::vector<std::uint16_t> candidate_groups(TlsVersion v); // tls1_2: ECDHE curves; tls1_3

// The ALPN protocol ids the enumerator asks about.
std::span<const std::string_view> alpn_candidates();

// ---- names, for profiles (format 2) and reports ----

// A named group by IANA name ("secp256r1", "X25519MLKEM768"; case-insensitive)
// or OpenSSL alias ("X25519", "P-256", "prime256v1", "P-384", "P-521", "X448").
std::optional<std::uint16_t> group_by_name(std::string_view name);
// A signature scheme by IANA name ("rsa_pss_rsae_sha256") or OpenSSL's
// "ALG+HASH" form ("RSA+SHA256", "ECDSA+SHA384", "RSA-PSS+SHA256").
std::optional<std::uint16_t> signature_scheme_by_name(std::string_view name);
// The name OpenSSL 3's SSL_CTX_set1_sigalgs_list takes for a scheme ("" if none).
std::string_view openssl_sigalg_name(std::uint16_t scheme);

// TLS extensions (IANA ExtensionType registry). `writable`: the hand-built hello
// knows how to fill it (server_name from the SNI, supported_groups from the
// groups, padding per RFC 7685 ...).
struct ExtensionInfo {
  std::uint16_t code = 0;
  std::string_view name;  // IANA name ("application_layer_protocol_negotiation")
  std::string_view alias; // a short name accepted too ("alpn"), or empty
  bool writable = false;
};
std::span<const ExtensionInfo> extensions();
const ExtensionInfo* find_extension(std::uint16_t code);
const ExtensionInfo* extension_by_name(std::string_view name_or_alias);
// IANA name, or "0x...." when unknown.
std::string extension_name(std::uint16_t code);

// ec_point_formats and psk_key_exchange_modes values by name.
std::optional<std::uint8_t> point_format_by_name(std::string_view name); // "uncompressed" = 0
std::optional<std::uint8_t> psk_mode_by_name(std::string_view name);     // "psk_dhe_ke" = 1
// RFC 8879 certificate compression algorithms: "zlib" 1, "brotli" 2, "zstd" 3.
std::optional<std::uint16_t> cert_compression_by_name(std::string_view name);

// GREASE code points (RFC 8701): 0x0A0A, 0x1A1A ... 0xFAFA.
constexpr bool is_grease(std::uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

} // namespace edgeshake::tls
