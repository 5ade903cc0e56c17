// Private to handshake/: helpers shared by the engine's source files. No asio
// here; OpenSSL types are allowed (this header is not installed or included
// outside handshake/ and its tests).
#pragma once

#include "handshake/handshake.hpp"
#include "handshake/names.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeshake::handshake::detail {

// The Debian system trust store, used for a profile's trust_store = "system".
inline constexpr std::string_view k_system_trust_store = "/etc/ssl/certs/ca-certificates.crt";

// --- ssl_ctx.cpp: Profile (+ overrides, client certificate) -> SSL_CTX ------

struct CtxEntry {
  std::shared_ptr<SSL_CTX> ctx;   // null when building failed
  std::string error;              // why it failed (client_error reason)
  std::vector<std::string> notes; // e.g. "SSLv3 is not offerable by this OpenSSL"
};

// What X509_verify_cert said of one chain against one trust store.
struct ChainVerdict {
  bool chain_ok = false;
  int code = 0;
  int depth = -1;
};

// Chain verdicts by trust store + the SHA-256 of every certificate sent, so the
// probes of a run (13 per site; a scan shares one cache) that receive the same
// chain verify it once. A verdict depends on the clock, so an entry lives
// k_ttl at most; the map is bounded (cleared when full).
class VerdictCache {
public:
  static constexpr std::chrono::seconds k_ttl{60};
  static constexpr std::size_t k_max_entries = 4096;
  std::optional<ChainVerdict> find(const std::string& key) const;
  void put(const std::string& key, const ChainVerdict& verdict);
  std::size_t hits() const { return m_hits; }

private:
  using Clock = std::chrono::steady_clock;
  std::map<std::string, std::pair<Clock::time_point, ChainVerdict>> m_entries;
  mutable std::size_t m_hits = 0;
};

// Certificate facts by the SHA-256 of the certificate's DER, so the probes of a
// run (13 per site; a scan shares one cache) that receive the same certificate
// describe it once. Facts depend on the DER alone, not on the clock, so entries
// do not expire; the map is bounded (cleared when full).
class CertFactsCache {
public:
  static constexpr std::size_t k_max_entries = 4096;
  // `digest`: certificate_digest(cert); empty: described, not cached.
  CertificateInfo describe(X509* cert, const std::string& digest);
  std::size_t hits() const { return m_hits; }

private:
  std::map<std::string, CertificateInfo> m_entries;
  std::size_t m_hits = 0;
};

// One SSL_CTX per distinct (ClientHello settings, overrides, client cert),
// built on first use and shared; one X509_STORE per trust store path for the
// whole process (loaded once, by preload_trust_store before the probes' clocks
// start, or on first use).
class ContextCache {
public:
  const CtxEntry& context(const ProbeSpec& spec);
  // nullptr + error text when the store cannot be loaded.
  std::shared_ptr<X509_STORE> store(const std::string& path, std::string& error);
  VerdictCache& verdicts() { return m_verdicts; }
  CertFactsCache& facts() { return m_facts; }

private:
  std::map<std::string, CtxEntry> m_contexts;
  VerdictCache m_verdicts;
  CertFactsCache m_facts;
};

// The key ContextCache uses (exposed for tests).
std::string context_key(const ProbeSpec& spec);
// The trust store a probe verifies against: spec.trust_store, else the
// profile's ("system" -> k_system_trust_store).
std::string trust_store_path(const ProbeSpec& spec);
// ALPN protocol list -> wire format (length-prefixed); empty on a bad entry.
std::string alpn_wire(const std::vector<std::string>& protocols);

// --- cert_facts.cpp ----------------------------------------------------------

std::string name_line(const X509_NAME* name); // RFC 2253 one-liner
CertificateInfo describe_certificate(X509* cert);
// SHA-256 of the certificate's DER, 32 raw bytes ("" if it cannot be computed).
std::string certificate_digest(X509* cert);
// Verify `chain` (leaf first, as sent) against `store`; `host` checked
// separately (DNS name or IP literal; empty: hostname_ok stays false).
// With `verdicts`, a chain already verified against the same store is not
// verified again (the hostname is always checked). `digests`, when the caller
// has them: certificate_digest() of every certificate of `chain`, in order.
Verification verify_chain(STACK_OF(X509) * chain, X509_STORE* store, const std::string& host,
                          const std::string& trust_label, VerdictCache* verdicts = nullptr,
                          const std::vector<std::string>* digests = nullptr);

// --- classify.cpp ------------------------------------------------------------

// Everything the probe saw, in standard types, for the one classifying function.
struct Observation {
  // connect phase
  bool connected = false;
  bool connect_timed_out = false;
  int connect_errno = 0;
  std::string connect_error; // text of the connect error
  // handshake phase
  bool handshake_done = false;
  bool handshake_timed_out = false;
  int ssl_error = 0;                      // SSL_get_error() of the failing call
  int sys_errno = 0;                      // errno after SSL_ERROR_SYSCALL
  std::vector<unsigned long> error_codes; // ERR_get_error() values
  std::vector<std::string> error_strings;
  std::optional<Alert> alert; // first fatal alert (received or sent), else last warning
  std::string first_record;   // the first 5 bytes received (record header), if any
  bool client_setup_failed = false;
  std::string client_setup_error;
};

struct Classification {
  ProbeStatus status = ProbeStatus::client_error;
  ProbePhase phase = ProbePhase::connect;
  std::string reason;
};

Classification classify(const Observation& obs);
// True when the first bytes of a reply cannot be a TLS record header.
bool looks_like_tls(std::string_view first_bytes);

// --- names.cpp: see handshake/names.hpp ---------------------------------------

// --- http.cpp ----------------------------------------------------------------

// Parse what was read of an HTTP/1.x response (headers may be incomplete).
HttpResponse parse_http_response(std::string_view raw);
std::optional<SysSeconds> parse_http_date(std::string_view text);
std::string http_request(const std::string& host);

} // namespace edgeshake::handshake::detail

namespace edgeshake::handshake::detail {

// --- compat.cpp: the OpenSSL-version ladders (3.0 here) -----------------------
std::string negotiated_group(SSL* ssl);
// A group's name as negotiated_group() spells it ("X25519", "P-256", "X25519MLKEM768").
std::string group_name(std::uint16_t code);
std::optional<TlsVersion> negotiated_version(SSL* ssl);

} // namespace edgeshake::handshake::detail
