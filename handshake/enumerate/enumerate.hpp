// edgeshake::handshake::enumerate — what a TLS server accepts, found with hand-built
// ClientHellos that stop at the ServerHello (no crypto, so it can offer anything:
// SSLv3, export, RC4, GOST, post-quantum groups ...). Plain value types only.
#pragma once

#include "common/endpoint.hpp"
#include "common/tls.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace asio {
class io_context;
}

namespace edgeshake::handshake::enumerate {

struct EnumerateSpec {
  Endpoint target;                         // numeric address and port
  std::optional<std::string> sni;          // server_name to send (nullopt: none)
  int max_connections = 16;                // connections in flight to the target at once
  std::chrono::milliseconds timeout{5000}; // per connection: connect + response
  bool signature_algorithms = false;       // also list the TLS 1.2 signature schemes (opt-in)
  bool operator==(const EnumerateSpec&) const = default;
};

// How one connection ended, as the enumerator classifies it.
enum class ProbeOutcome {
  accepted,        // ServerHello/HRR for what was offered
  alert,           // the server refused with an alert
  closed,          // closed (or reset) without a TLS answer
  timeout,         // no complete answer before the deadline
  refused,         // TCP connection refused
  connect_timeout, // TCP connect timed out
  network_error,   // other socket error
  wrong_version,   // answered with a version other than the one offered
  unexpected,      // chose something not offered, not TLS, malformed, ...
};

// The evidence of one connection (kept for --json and for the tests).
struct ProbeRecord {
  std::string purpose; // "tls1_2 suites", "sni unknown", ...
  ProbeOutcome outcome = ProbeOutcome::closed;
  std::string response;      // ResponseKind as text
  std::uint16_t version = 0; // negotiated wire version, 0 if none
  std::uint16_t cipher_suite = 0;
  std::optional<std::uint16_t> group;
  std::optional<std::string> alert; // "handshake_failure"
  std::string detail;
  std::chrono::milliseconds elapsed{0};
  bool operator==(const ProbeRecord&) const = default;
};

enum class Preference { server, client, single, unknown };

enum class VersionStatus {
  supported,     // accepted at least one suite with this version alone
  not_supported, // refused (protocol_version, handshake_failure) or answered another version
  error,         // the probe itself failed (timeout, reset, garbage)
};

struct VersionResult {
  TlsVersion version = TlsVersion::tls1_2;
  VersionStatus status = VersionStatus::not_supported;
  std::vector<std::uint16_t> suites; // server preference order when preference == server
  Preference preference = Preference::unknown;
  std::string detail; // why not supported (alert name, "answered TLSv1.2", ...)
  bool operator==(const VersionResult&) const = default;
};

struct GroupsResult {
  TlsVersion version = TlsVersion::tls1_3;
  bool tested = false;               // false: version unsupported / nothing to test with
  std::vector<std::uint16_t> groups; // in the order the server chose them
  Preference preference = Preference::unknown;
  std::optional<std::size_t> dh_bits; // TLS 1.2 DHE prime size, when a DHE suite was seen
  std::string detail;
  bool operator==(const GroupsResult&) const = default;
};

struct AlpnResult {
  bool tested = false;                // ALPN is visible only in a TLS <= 1.2 ServerHello
  std::vector<std::string> protocols; // in the order the server chose them
  bool rejects_unknown = false;       // fatal no_application_protocol when nothing matches
  std::string detail;
  bool operator==(const AlpnResult&) const = default;
};

// TLS 1.2 signature schemes the server signs its ServerKeyExchange with (for its
// certificate); TLS 1.3 signs in the encrypted CertificateVerify, so 1.2 only.
struct SigalgsResult {
  bool tested = false;
  std::vector<std::uint16_t> schemes; // in preference order when the server's order decides
  Preference preference = Preference::unknown;
  std::string detail;
  bool operator==(const SigalgsResult&) const = default;
};

enum class SniCase { none, right_name, unknown_name };

struct SniResult {
  SniCase sni = SniCase::none;
  std::optional<std::string> name_sent;
  ProbeOutcome outcome = ProbeOutcome::closed;
  std::optional<std::string> alert;
  std::uint16_t version = 0;
  std::optional<std::string> leaf_sha256; // TLS <= 1.2 only (the certificate is in clear)
  bool operator==(const SniResult&) const = default;
};

struct SplitHelloResult {
  bool tested = false;
  std::size_t hello_bytes = 0; // size of the ClientHello sent in two TCP segments
  ProbeOutcome outcome = ProbeOutcome::closed;
  std::optional<std::uint16_t> group; // key share the server picked (0x11EC: X25519MLKEM768)
  std::optional<std::string> alert;
  bool operator==(const SplitHelloResult&) const = default;
};

enum class EnumerateStatus {
  complete,    // every probe ran
  unreachable, // TCP connect failed / nothing answered TLS at all
  not_tls,     // something answered, but not TLS
  no_answer,   // TCP connected, but no ClientHello got any answer within the timeout
  error,       // the enumerator itself failed (resources, internal error)
};

struct EnumerateResult {
  EnumerateStatus status = EnumerateStatus::complete;
  EnumerateSpec spec;
  std::string detail;
  std::vector<VersionResult> versions; // SSLv3 .. TLS 1.3, each probed alone
  GroupsResult groups_tls13;
  GroupsResult groups_tls12;
  AlpnResult alpn;
  SigalgsResult sigalgs_tls12; // only with spec.signature_algorithms
  std::vector<SniResult> sni;
  SplitHelloResult split_hello;
  std::vector<ProbeRecord> probes; // every connection, in completion order
  std::size_t connections = 0;
  std::size_t peak_in_flight = 0;
  std::chrono::milliseconds elapsed{0};
  bool operator==(const EnumerateResult&) const = default;
};

// Starts the enumeration on `io`; `done` runs on the loop when it finishes.
void start_enumerate(asio::io_context& io, EnumerateSpec spec,
                     std::function<void(EnumerateResult)> done);
// Convenience: runs its own loop until finished.
EnumerateResult run_enumerate(const EnumerateSpec& spec);

std::string to_string(ProbeOutcome o);
std::string to_string(Preference p);
std::string to_string(VersionStatus s);
std::string to_string(SniCase s);
std::string to_string(EnumerateStatus s);

} // namespace edgeshake::handshake::enumerate
