// OpenSSL-version ladders in one place. Debian 12 ships 3.0: no
// SSL_get0_group_name (3.2+), so the negotiated group is
// SSL_group_to_name(ssl, SSL_get_negotiated_group(ssl)) (nghttp2's h2load ladder).
#include "handshake/detail.hpp"

#include "common/tls_registry.hpp"

#include <openssl/opensslv.h>

#include <cstdio>

namespace edgeshake::handshake::detail {

namespace {

// OpenSSL reports "x25519", "secp256r1"...; profiles and nginx say "X25519", "P-256".
std::string canonical_group(std::string name) {
  if (name == "x25519")
    return "X25519";
  if (name == "x448")
    return "X448";
  if (name == "secp256r1" || name == "prime256v1")
    return "P-256";
  if (name == "secp384r1")
    return "P-384";
  if (name == "secp521r1")
    return "P-521";
  return name;
}

} // namespace

std::string group_name(std::uint16_t code) {
  if (const auto* g = tls::find_group(code))
    return canonical_group(std::string(g->name));
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%04X", code);
  return hex;
}

std::string negotiated_group(SSL* ssl) {
#if OPENSSL_VERSION_NUMBER >= 0x30200000L
  const char* name = SSL_get0_group_name(ssl);
#else
  const int nid = SSL_get_negotiated_group(ssl);
  if (nid <= 0)
    return {};
  const char* name = SSL_group_to_name(ssl, nid);
#endif
  return name ? canonical_group(name) : std::string();
}

std::optional<TlsVersion> negotiated_version(SSL* ssl) {
  switch (SSL_version(ssl)) {
  case SSL3_VERSION:
    return TlsVersion::ssl3;
  case TLS1_VERSION:
    return TlsVersion::tls1_0;
  case TLS1_1_VERSION:
    return TlsVersion::tls1_1;
  case TLS1_2_VERSION:
    return TlsVersion::tls1_2;
  case TLS1_3_VERSION:
    return TlsVersion::tls1_3;
  default:
    return std::nullopt;
  }
}

} // namespace edgeshake::handshake::detail
