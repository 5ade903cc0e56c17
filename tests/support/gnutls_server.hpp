// GnutlsServer: GnuTLS's `gnutls-serv` (Debian gnutls-bin 3.7.9) on a free
// loopback port, for origins Debian's OpenSSL 3.0 cannot serve: RC4-only,
// 3DES-only, DHE with a 512-bit group. The TLS settings are one GnuTLS priority
// string (k_gnutls_* below are the ones issue 13 needs) and optional DH
// parameters (generate_dh_params). Ready when gnutls-serv printed that it
// listens ("... port N...done", after its listen()); its output is the log in
// the fixture's temp dir; stopped by PID. Throws std::runtime_error with the log
// when it does not start, and with GnuTLS's words for a priority string it
// rejects (checked first with `gnutls-cli --list --priority`: gnutls-serv itself
// starts with any string and fails each handshake). Call
// ES_REQUIRE_PROGRAM("gnutls-serv") first (and "certtool" for generate_dh_params).
//
// Loopback only: gnutls-serv has no listen-address option and binds 0.0.0.0 and
// ::, so it runs under an LD_PRELOAD shim (loopback_bind.cpp) that turns the
// IPv4 wildcard into 127.0.0.1 and refuses the IPv6 one. gnutls-serv still
// prints "IPv4 0.0.0.0" (it prints the address it asked for); the test
// GnutlsFixture.ListensOnLoopbackOnly checks /proc/net/tcp{,6}. IPv4 only.
//
// What each k_gnutls_* string was checked to negotiate, with the hand-built
// ClientHello engine, plus a full handshake by gnutls-cli with the same string
// (tests/handshake/test_fixtures_wire.cpp):
//   k_gnutls_rc4_only_tls12 / _tls10  TLS_RSA_WITH_RC4_128_SHA (0x0005) only, and
//                                     only TLS 1.2 / only TLS 1.0
//   k_gnutls_3des_only                TLS_RSA_WITH_3DES_EDE_CBC_SHA (0x000A) only
//   k_gnutls_dhe_only + dh_params     TLS_DHE_RSA_WITH_AES_128_CBC_SHA (0x0033) and
//                                     _AES_128_GCM_SHA256 (0x009E), with the
//                                     ServerKeyExchange prime of dh_params (512 bits)
// They use RSA key exchange or RSA signatures: give an RSA certificate. The
// server sends no CertificateRequest (-a) unless request_client_cert is set.
// The DHE string lists no FFDHE group, so gnutls-serv cannot pick an RFC 7919
// group and uses the given parameters, for a client whose supported_groups has
// no FFDHE group (the engine's TLS 1.2 hellos, and the CDNs'); a client that
// lists one (ffdhe2048) gets alert handshake_failure instead, as RFC 7919
// section 4 says (no DHE suite when no offered FFDHE group is acceptable). No
// %PROFILE_/%ALLOW_ keyword is needed on the server side for a 512-bit prime,
// and certtool and `openssl dhparam` both generate 512-bit parameters. The
// limit is on the client side: gnutls-cli refuses this server with "The
// Diffie-Hellman prime sent by the server is not acceptable (not long enough)",
// also with %PROFILE_VERY_WEAK in its priority, and accepts it with --dh-bits=512.
//
// Usage:
//   const auto& c = shared_catalogue();
//   GnutlsServer rc4({.cert = c.leaf_rsa.chain, .key = c.leaf_rsa.key,
//                     .priority = k_gnutls_rc4_only_tls12});
//   TempDir dir;
//   GnutlsServer dhe({.cert = c.leaf_rsa.chain, .key = c.leaf_rsa.key,
//                     .priority = k_gnutls_dhe_only,
//                     .dh_params = generate_dh_params(dir.path(), 512)});
//   ... probe 127.0.0.1:rc4.port() ...
//   rc4.wait_for_negotiated(1, 5s); // gnutls-serv's "- Description: (TLS1.2-X.509)-(RSA)-..."
// A full handshake with the 512-bit group needs a client that accepts it:
// `gnutls-cli --dh-bits=512` does ("(DHE-CUSTOM512)" in the description).
#pragma once

#include "tests/support/child_server.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace edgeshake::testing {

inline constexpr const char* k_gnutls_rc4_only_tls12 =
    "NONE:+VERS-TLS1.2:+ARCFOUR-128:+RSA:+SHA1:+COMP-NULL:+SIGN-ALL";
inline constexpr const char* k_gnutls_rc4_only_tls10 =
    "NONE:+VERS-TLS1.0:+ARCFOUR-128:+RSA:+SHA1:+COMP-NULL:+SIGN-ALL";
inline constexpr const char* k_gnutls_3des_only =
    "NONE:+VERS-TLS1.2:+3DES-CBC:+RSA:+SHA1:+COMP-NULL:+SIGN-ALL";
inline constexpr const char* k_gnutls_dhe_only =
    "NONE:+VERS-TLS1.2:+AES-128-CBC:+AES-128-GCM:+DHE-RSA:+SHA1:+AEAD:+COMP-NULL:+SIGN-ALL";

struct GnutlsServerConfig {
  fs::path cert{};                  // --x509certfile (PEM; leaf first, then intermediates)
  fs::path key{};                   // --x509keyfile
  std::string priority{};           // --priority (empty: GnuTLS's NORMAL)
  fs::path dh_params{};             // --dhparams (PEM PKCS#3), optional
  bool http = true;                 // --http: answers a GET with an HTML page; false: --echo
  bool request_client_cert = false; // false: -a (no CertificateRequest)
  std::vector<std::string> extra_args{};
};

class GnutlsServer : public ChildServer {
public:
  explicit GnutlsServer(GnutlsServerConfig config);

  // gnutls-serv's "- Description: ..." line of every completed handshake, in
  // order, without the prefix: "(TLS1.2-X.509)-(RSA)-(ARCFOUR-128)-(SHA1)".
  std::vector<std::string> negotiated() const;
  // Waits (polling the log) until `count` handshakes completed or `timeout` passed.
  std::vector<std::string> wait_for_negotiated(std::size_t count,
                                               std::chrono::milliseconds timeout) const;

private:
  GnutlsServerConfig m_config;
};

// DH parameters of `bits` bits written to dir/dh<bits>.pem with GnuTLS's
// certtool (--generate-dh-params --bits; certtool accepts 512 and notes that
// "--sec-param Export" means the same). Throws with certtool's output on failure.
fs::path generate_dh_params(const fs::path& dir, int bits);

} // namespace edgeshake::testing
