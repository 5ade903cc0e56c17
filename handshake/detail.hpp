// Private to handshake/: helpers shared by the engine's source files. No asio
// here; OpenSSL types are allowed (this header is not installed or included
// outside handshake/ and its tests).
#pragma once

#include "handshake/handshake.hpp"
#include "handshake/names.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <map>
#include <memory>
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

// One SSL_CTX per distinct (ClientHello settings, overrides, client cert),
// one X509_STORE per trust store; built on first use and shared.
class ContextCache {
public:
  const CtxEntry& context(const ProbeSpec& spec);
  // nullptr + error text when the store cannot be loaded.
  std::shared_ptr<X509_STORE> store(const std::string& path, std::string& error);

private:
  std::map<std::string, CtxEntry> m_contexts;
  std::map<std::string, std::pair<std::shared_ptr<X509_STORE>, std::string>> m_stores;
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
// Verify `chain` (leaf first, as sent) against `store`; `host` checked
// separately (DNS name or IP literal; empty: hostname_ok stays false).
Verification verify_chain(STACK_OF(X509) * chain, X509_STORE* store, const std::string& host,
                          const std::string& trust_label);

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
std::optional<TlsVersion> negotiated_version(SSL* ssl);

} // namespace edgeshake::handshake::detail
