// TLS vocabulary shared by profiles/, handshake/ and compare/.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace edgeshake {

enum class TlsVersion { ssl3, tls1_0, tls1_1, tls1_2, tls1_3 };

inline constexpr std::array<TlsVersion, 5> k_all_tls_versions = {
    TlsVersion::ssl3, TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2,
    TlsVersion::tls1_3};

// Protocol names as OpenSSL and nginx spell them ("TLSv1.2").
constexpr std::string_view to_string(TlsVersion v) {
  switch (v) {
  case TlsVersion::ssl3:
    return "SSLv3";
  case TlsVersion::tls1_0:
    return "TLSv1";
  case TlsVersion::tls1_1:
    return "TLSv1.1";
  case TlsVersion::tls1_2:
    return "TLSv1.2";
  case TlsVersion::tls1_3:
    return "TLSv1.3";
  }
  return "?";
}

// Accepts the OpenSSL spellings and the friendlier "TLSv1.0" / "tls1.2".
inline std::optional<TlsVersion> parse_tls_version(std::string_view s) {
  if (s == "SSLv3" || s == "ssl3")
    return TlsVersion::ssl3;
  if (s == "TLSv1" || s == "TLSv1.0" || s == "tls1.0" || s == "tls1")
    return TlsVersion::tls1_0;
  if (s == "TLSv1.1" || s == "tls1.1")
    return TlsVersion::tls1_1;
  if (s == "TLSv1.2" || s == "tls1.2")
    return TlsVersion::tls1_2;
  if (s == "TLSv1.3" || s == "tls1.3")
    return TlsVersion::tls1_3;
  return std::nullopt;
}

// The IANA wire value, e.g. 0x0303 for TLS 1.2.
constexpr int wire_version(TlsVersion v) {
  switch (v) {
  case TlsVersion::ssl3:
    return 0x0300;
  case TlsVersion::tls1_0:
    return 0x0301;
  case TlsVersion::tls1_1:
    return 0x0302;
  case TlsVersion::tls1_2:
    return 0x0303;
  case TlsVersion::tls1_3:
    return 0x0304;
  }
  return 0;
}

} // namespace edgeshake
