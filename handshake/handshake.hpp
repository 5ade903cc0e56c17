// The probe engine: one probe = one TCP connect + one TLS handshake (+ optionally
// one HTTP/1.1 request), driven non-blocking on the caller's event loop.
// Results are plain values that keep whatever was observed, even on failure.
#pragma once

#include "common/endpoint.hpp"
#include "common/result.hpp"
#include "common/tls.hpp"
#include "profiles/profiles.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace asio {
class io_context;
}

namespace edgeshake::handshake {

using std::chrono::milliseconds;
using SysSeconds = std::chrono::sys_seconds;

struct ClientCertificate {
  std::string cert_file; // PEM
  std::string key_file;  // PEM
  bool operator==(const ClientCertificate&) const = default;
};

// Deviations from the profile, used by diagnose's discriminating probes.
struct ProbeOverrides {
  std::optional<TlsVersion> only_version;          // offer exactly this version
  std::optional<std::vector<std::string>> ciphers; // replace the TLS <= 1.2 list
  std::optional<std::vector<std::string>> tls13_ciphersuites;
  std::optional<std::vector<std::string>> groups;
  bool operator==(const ProbeOverrides&) const = default;
};

// The profile a probe offers, shared by every probe made from it (a plan makes 13
// per site from two profiles): copying a ProbeSpec copies a pointer, not a whole
// Profile with its lists, sources and modes (3 % of a scan's CPU when it did).
// Read through -> or *. edit() gives this spec a profile of its own (a copy of
// the shared one) and returns it, for a change made at once
// (`s.profile.edit().security_level = 0;`); specs copied from this one afterwards
// share the edited profile.
class SharedProfile {
public:
  SharedProfile() : m_p(empty()) {}
  SharedProfile(profiles::Profile p) // implicit: `spec.profile = some_profile;`
      : m_p(std::make_shared<const profiles::Profile>(std::move(p))) {}
  const profiles::Profile& operator*() const { return *m_p; }
  const profiles::Profile* operator->() const { return m_p.get(); }
  profiles::Profile& edit() {
    auto own = std::make_shared<profiles::Profile>(*m_p);
    profiles::Profile& ref = *own;
    m_p = std::move(own);
    return ref;
  }
  bool operator==(const SharedProfile& o) const { return m_p == o.m_p || *m_p == *o.m_p; }

private:
  static std::shared_ptr<const profiles::Profile> empty() {
    static const auto none = std::make_shared<const profiles::Profile>();
    return none;
  }
  std::shared_ptr<const profiles::Profile> m_p;
};

// Which engine makes the probe.
enum class Engine {
  openssl, // OpenSSL completes the handshake (certificate chain, HTTP), configured as
           // close to the profile's hello as OpenSSL 3.0 allows
  wire,    // the profile's exact ClientHello, written by hand, read to the ServerHello,
           // HelloRetryRequest (answered with a second ClientHello), alert, reset or timeout
};

// Deviations of a wire probe from the profile's hello (diagnose's swap probes).
struct WireOverrides {
  bool every_suite = false; // offer every cipher suite of the registry for the offered versions
  bool every_group = false; // advertise every named group of the registry (key shares unchanged)
  bool one_segment = false; // write the hello in one TCP segment whatever its size
  bool operator==(const WireOverrides&) const = default;
};

struct ProbeSpec {
  std::string label;              // stable name used as evidence: "origin/no_sni"
  Endpoint target;                // numeric address + port
  std::string host;               // name the certificate is verified against ("" = none)
  std::optional<std::string> sni; // server_name to send; nullopt = no SNI extension
  SharedProfile profile;
  ProbeOverrides overrides;
  std::optional<ClientCertificate> client_cert;
  std::string trust_store;     // PEM file or directory; "" = profile's ("system")
  bool http = false;           // send "GET / HTTP/1.1" after the handshake
  std::string http_host;       // Host header ("" = host, else the address)
  milliseconds timeout{10000}; // whole probe: connect + handshake (+ HTTP)
  Engine engine = Engine::openssl;
  std::size_t hello = 0; // wire: which of profile->hellos (the alternatives the edge may send)
  WireOverrides wire;
  bool operator==(const ProbeSpec&) const = default;
};

enum class ProbeStatus {
  ok,                // handshake completed
  tcp_refused,       // RST to our SYN
  tcp_timeout,       // no SYN-ACK in time
  tcp_unreachable,   // no route / network unreachable
  tls_alert,         // an alert ended the handshake (received or sent by us)
  reset,             // RST during the handshake
  eof,               // peer closed mid-handshake without an alert
  not_tls,           // the reply is not TLS (e.g. "HTTP/1.1 400")
  handshake_timeout, // connected, handshake did not finish in time
  protocol_error,    // OpenSSL rejected what the peer sent (no alert from peer)
  client_error,      // our own setup failed (bad client cert file, ...)
};

enum class ProbePhase { connect, handshake, http, done };

struct Alert {
  bool received = true; // false: we sent it
  int level = 2;        // 1 warning, 2 fatal
  int code = 0;         // RFC 8446 AlertDescription
  std::string name;     // "handshake_failure"
  bool operator==(const Alert&) const = default;
};

struct CertificateInfo {
  std::string subject; // RFC 2253-ish one-line DN
  std::string issuer;
  std::vector<std::string> dns_names;    // subjectAltName DNS entries
  std::vector<std::string> ip_addresses; // subjectAltName IP entries
  SysSeconds not_before{};
  SysSeconds not_after{};
  std::string key_type; // "RSA", "EC", "ED25519", ...
  int key_bits = 0;
  std::string curve;               // for EC keys: "prime256v1"
  std::string signature_algorithm; // "sha256WithRSAEncryption"
  std::string sha256;              // hex, colon-separated upper case
  std::string serial;
  bool is_ca = false;
  bool self_issued = false; // subject == issuer
  bool operator==(const CertificateInfo&) const = default;
};

struct Verification {
  bool performed = false;   // false when the handshake did not deliver a chain
  bool chain_ok = false;    // chain verified to the trust store (name not considered)
  bool hostname_ok = false; // the leaf matches `host` (checked separately)
  int code = 0;             // X509_V_* of the chain check (0 = ok)
  std::string text;         // X509_verify_cert_error_string
  int depth = -1;           // depth of the failing certificate
  std::string host;         // the name checked
  std::string trust_store;  // what it was checked against
  bool operator==(const Verification&) const = default;
};

enum class HttpStatus { not_attempted, ok, timeout, closed, error };

struct HttpResponse {
  HttpStatus status = HttpStatus::not_attempted;
  int code = 0; // 200, 400, 525...
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> headers; // a few: server, date, cf-ray, ...
  std::optional<SysSeconds> date;                           // parsed Date header
  std::string body_excerpt;                                 // first bytes of the body (<= 512)
  bool operator==(const HttpResponse&) const = default;
};

struct Timings {
  std::optional<milliseconds> connect;
  std::optional<milliseconds> handshake;
  std::optional<milliseconds> first_byte;
  milliseconds total{0};
  bool operator==(const Timings&) const = default;
};

// What a wire probe sent and what came back, beyond the fields of ProbeResult.
struct WireResult {
  bool performed = false;
  std::string hello_label;     // which of the profile's hellos ("post_quantum"; "" when alone)
  std::size_t hello_bytes = 0; // the first ClientHello, record headers included
  std::size_t segments = 0;    // TCP segments it took (what the kernel reports, else computed)
  std::string response;        // server_hello, hello_retry_request, alert, not_tls, malformed ...
  std::uint16_t cipher_suite = 0;
  std::optional<std::uint16_t> group;     // the key share (TLS 1.3) or ECDHE group (TLS 1.2)
  std::optional<std::uint16_t> hrr_group; // the group a HelloRetryRequest asked for
  bool second_hello = false;              // a second ClientHello answered the HRR
  std::size_t second_hello_bytes = 0;
  std::optional<std::size_t> dh_bits;            // TLS 1.2 DHE prime size
  std::optional<std::uint16_t> signature_scheme; // TLS 1.2 ServerKeyExchange
  std::vector<std::uint16_t> server_extensions;  // in the ServerHello, in order
  bool accepted = false; // the client would go on: everything chosen was offered and allowed
  std::string refusal;   // else why the client gives up (or why the server refused)
  bool operator==(const WireResult&) const = default;
};

struct ProbeResult {
  ProbeSpec spec;
  ProbeStatus status = ProbeStatus::client_error;
  ProbePhase phase = ProbePhase::connect; // where it stopped
  std::string reason;                     // one line: OpenSSL reason or errno text
  std::vector<std::string> error_queue;   // OpenSSL error queue, verbatim
  std::optional<Alert> alert;

  std::optional<TlsVersion> version;
  std::string cipher;      // OpenSSL name
  std::string cipher_iana; // RFC name
  std::string group;       // "X25519"
  std::string alpn;
  bool sni_sent = false;
  bool session_reused = false;

  bool client_cert_requested = false;
  std::vector<std::string> client_ca_names; // acceptable CA DNs from CertificateRequest
  bool client_cert_sent = false;
  bool ocsp_stapled = false;

  std::vector<CertificateInfo> chain; // as sent, leaf first
  Verification verification;
  HttpResponse http;
  Timings timings;
  std::string first_bytes; // for not_tls: printable excerpt of the reply
  WireResult wire;         // Engine::wire only

  bool operator==(const ProbeResult&) const = default;
};

std::string_view to_string(ProbeStatus);
std::string_view to_string(Engine);
std::string_view to_string(ProbePhase);
std::string_view to_string(HttpStatus);

// A connection budget shared by several start() calls on one loop (scan): at
// most `max_in_flight` probes in flight over all of them, `max_per_address` per
// target address. Use on the loop's thread only.
class SharedBudget;
std::shared_ptr<SharedBudget> make_shared_budget(int max_in_flight, int max_per_address);

struct RunLimits {
  int max_in_flight = 256;  // whole run
  int max_per_address = 16; // per target address (don't flood one origin)
  // Optional: also respect this budget shared with other runs (nullptr: none).
  std::shared_ptr<SharedBudget> shared = nullptr;
};

// Start probes on `io`; `on_done` is called once, on the loop, with results in
// the order of `specs`. The caller runs the loop. Profiles are turned into
// SSL_CTX once per distinct (profile, overrides, trust, client cert).
void start(asio::io_context& io, std::vector<ProbeSpec> specs, RunLimits limits,
           std::function<void(std::vector<ProbeResult>)> on_done);

// Convenience: own loop, run to completion.
std::vector<ProbeResult> run(std::vector<ProbeSpec> specs, RunLimits limits = {});

// Loads the trust store at `path` ("" or "system": the system store) once for
// the process and checks that it can verify anything, before any traffic: an
// io error (exit 2) naming the file when it is not a regular file or a
// directory (a FIFO would block), empty, holds no certificate (binary, a key,
// /dev/null), is unreadable, or is a directory without hashed names. Probes
// then reuse the loaded store: its loading is not part of their timings.
Result<void> preload_trust_store(const std::string& path);
// Checks that `key_file` is the private key of `cert_file` (both PEM), before
// any traffic: an io error (exit 2) naming the files otherwise.
Result<void> check_client_certificate(const std::string& cert_file, const std::string& key_file);

} // namespace edgeshake::handshake
