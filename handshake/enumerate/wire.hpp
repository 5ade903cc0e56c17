// The enumerator's wire format: ClientHello bytes written by hand, and a defensive
// parser of what a server sends back up to ServerHello / HelloRetryRequest / alert
// (and, for TLS 1.2, up to ServerKeyExchange). Both are pure functions over bytes:
// no sockets, no crypto library state, so tests and a fuzzer can call them directly.
#pragma once

#include "profiles/profiles.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace edgeshake::handshake::enumerate {

struct KeyShareSpec {
  std::uint16_t group = 0;
  std::uint16_t size = 0; // random bytes of this length stand in for a public key
};

struct ClientHelloSpec {
  std::uint16_t record_version = 0x0301;
  std::uint16_t client_version = 0x0303; // legacy_version
  std::vector<std::uint16_t> cipher_suites;
  bool renegotiation_scsv = true; // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
  bool extensions = true;         // false: a bare SSLv3-style hello
  std::optional<std::string> sni;
  std::vector<std::uint16_t> groups;                   // supported_groups (and ec_point_formats)
  std::vector<std::uint16_t> supported_versions;       // empty: extension absent
  std::optional<std::vector<KeyShareSpec>> key_shares; // nullopt: extension absent
  std::vector<std::string> alpn;                       // empty: extension absent
  bool signature_algorithms = true;
  // The schemes offered; nullopt: every one of signature_schemes().
  std::optional<std::vector<std::uint16_t>> signature_schemes;
  std::uint32_t seed = 0; // random/session id/key shares; 0: fresh randomness
};

std::vector<std::uint8_t> build_client_hello(const ClientHelloSpec& spec);

// ---------------------------------------------------------------- a profile's hello

// What varies from one connection to the next in a profile's hello, and what a
// second ClientHello (after a HelloRetryRequest) must repeat.
struct HelloParams {
  std::optional<std::string> sni; // the server_name; nullopt: the extension is left out
  // Random, session id and GREASE values are drawn from this seed (0: a fresh one);
  // the second ClientHello passes the first one's seed to repeat them.
  std::uint32_t seed = 0;
  // Second ClientHello: one key share, for the group the HelloRetryRequest named,
  // and its cookie echoed (RFC 8446 4.1.2); the record version is then TLS 1.2.
  std::optional<std::uint16_t> retry_group;
  std::vector<std::uint8_t> cookie;
};

struct BuiltHello {
  std::vector<std::uint8_t> bytes; // the record(s), ready to write
  std::uint32_t seed = 0;          // the seed used (for the second ClientHello)
  // [offset, length) of the bytes that change per connection: random, session id,
  // key-share values, GREASE values (the template tests mask them).
  std::vector<std::pair<std::size_t, std::size_t>> variable;
  std::size_t message_bytes = 0; // the ClientHello message (handshake header included)
};

// The profile's ClientHello byte for byte: `hello`'s fields in its extension
// order, a fresh random and session id, well-formed key shares (real X25519,
// X448 and NIST/brainpool curve points; ML-KEM encapsulation keys with in-range
// coefficients), GREASE values, RFC 7685 padding where the list has it.
BuiltHello build_profile_hello(const profiles::WireHello& hello, const HelloParams& params);

// The public key bytes a client sends in key_share for `group` (real for the
// groups above, the right length of random bytes otherwise; {0} for GREASE).
std::vector<std::uint8_t> key_share_bytes(std::uint16_t group);

// The ChangeCipherSpec record a middlebox-compatible TLS 1.3 client sends before
// its second ClientHello (RFC 8446 D.4).
std::vector<std::uint8_t> change_cipher_spec_record();

// Upper bound on what the reader accepts from one server before giving up.
inline constexpr std::size_t k_max_response_bytes = 256 * 1024;

enum class ResponseKind {
  server_hello,        // a ServerHello (any version)
  hello_retry_request, // TLS 1.3 HRR
  alert,               // an alert before any ServerHello
  incomplete,          // well-formed so far, more bytes needed
  not_tls,             // plain text, e.g. an HTTP response
  sslv2,               // an SSLv2 record
  malformed,           // violates TLS framing or message syntax
  too_large,           // exceeded k_max_response_bytes or a message limit
  empty,               // no bytes at all
};

struct Alert {
  std::uint8_t level = 0;
  std::uint8_t description = 0;
  bool operator==(const Alert&) const = default;
};

struct ParseOptions {
  // Keep reading past a TLS <= 1.2 ServerHello until ServerKeyExchange or
  // ServerHelloDone (to learn the ECDHE group and DH size, and the certificate).
  bool through_key_exchange = false;
  // The bytes follow a HelloRetryRequest: the server's middlebox-compatibility
  // ChangeCipherSpec may come before the ServerHello.
  bool after_retry = false;
  // TLS <= 1.2: read on to ServerHelloDone (the whole first flight: Certificate,
  // CertificateStatus, ServerKeyExchange, CertificateRequest).
  bool until_hello_done = false;
};

struct ServerResponse {
  ResponseKind kind = ResponseKind::empty;
  std::string detail; // why malformed / not_tls, human words
  std::uint16_t record_version = 0;
  std::uint16_t legacy_version = 0; // ServerHello.legacy_version
  std::uint16_t version = 0;        // negotiated: supported_versions if present, else legacy
  std::uint16_t cipher_suite = 0;
  std::uint8_t compression = 0;
  std::size_t session_id_length = 0;
  std::optional<std::uint16_t> key_share_group; // SH key_share or HRR selected_group
  std::optional<std::string> alpn;
  bool sni_acknowledged = false;
  bool renegotiation_info = false;
  bool extended_master_secret = false;
  std::vector<std::uint16_t> extensions; // extension types in the ServerHello, in order
  // TLS <= 1.2 flight after the ServerHello (through_key_exchange):
  bool certificate_seen = false;
  std::size_t certificate_count = 0;
  std::vector<std::uint8_t> leaf_certificate;    // DER of the first certificate, if seen
  std::optional<std::uint16_t> ecdhe_group;      // ServerKeyExchange named curve
  std::optional<std::size_t> dh_bits;            // ServerKeyExchange DH prime size
  std::optional<std::uint16_t> signature_scheme; // TLS 1.2 ServerKeyExchange signature
  bool server_hello_done = false;
  // TLS <= 1.2, after the ServerHello: every certificate of the Certificate
  // message (DER, leaf first; at most k_max_certificates), CertificateStatus
  // (a stapled OCSP response) and CertificateRequest seen.
  std::vector<std::vector<std::uint8_t>> certificates;
  bool certificate_status = false;
  bool certificate_request = false;
  // HelloRetryRequest: its cookie extension, and where the record holding it
  // ends (what follows belongs to the answer to the second ClientHello).
  std::vector<std::uint8_t> cookie;
  std::size_t hello_end = 0;
  std::optional<Alert> alert; // an alert (also after a ServerHello)
  std::size_t bytes = 0;      // bytes examined
  bool operator==(const ServerResponse&) const = default;

  // True when the reader should stop: anything but `incomplete`, and for
  // through_key_exchange a TLS <= 1.2 ServerHello only once the key exchange is seen.
  bool complete(const ParseOptions& options = {}) const;
};

ServerResponse parse_server_response(std::span<const std::uint8_t> bytes,
                                     const ParseOptions& options = {});

inline constexpr std::size_t k_max_certificates = 32;

// Whether the client that sent `offered` goes on with this answer, as a
// conforming client (BoringSSL, OpenSSL) checks it: the version, suite, group,
// ALPN and extensions must be ones it offered (and the suite allowed at that
// version by the profile), a HelloRetryRequest must name a group it advertised
// but sent no share for. `after_retry`: the answer to the second ClientHello of
// a retry for that group.
struct Judgement {
  bool accepted = false;
  std::string reason;     // why the client gives up ("chose X25519MLKEM768, which was not offered")
  std::uint8_t alert = 0; // the alert the client would send (47 illegal_parameter, ...)
};
Judgement judge_server_hello(const profiles::WireHello& offered, const ServerResponse& response,
                             std::optional<std::uint16_t> after_retry = std::nullopt);

// TLS alert descriptions ("handshake_failure"), "alert_<n>" when unknown.
std::string alert_name(std::uint8_t description);
std::string to_string(ResponseKind kind);

} // namespace edgeshake::handshake::enumerate
