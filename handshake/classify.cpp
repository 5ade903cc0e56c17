// The one place that turns what a probe observed into a ProbeStatus.
// Order matters: what the peer said (an alert, a non-TLS reply) beats what
// OpenSSL concluded from it, which beats the socket-level symptom.
#include "handshake/detail.hpp"

#include <openssl/err.h>
#include <openssl/sslerr.h>

#include <cerrno>
#include <cstring>

namespace edgeshake::handshake::detail {

bool looks_like_tls(std::string_view b) {
  if (b.empty())
    return true; // nothing seen: no evidence against
  const auto type = static_cast<unsigned char>(b[0]);
  if (type < 20 || type > 24)
    return false;
  if (b.size() >= 2 && static_cast<unsigned char>(b[1]) != 3)
    return false;
  return true;
}

namespace {

bool has_reason(const Observation& obs, int reason) {
  for (unsigned long e : obs.error_codes)
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == reason)
      return true;
  return false;
}

std::string first_error(const Observation& obs) {
  for (unsigned long e : obs.error_codes) {
    const char* r = ERR_reason_error_string(e);
    if (r)
      return r;
  }
  return {};
}

std::string alert_text(const Alert& a) {
  return std::string(a.received ? "received" : "sent") + (a.level == 2 ? " fatal" : " warning") +
         " alert " + std::to_string(a.code) + " " + std::string(a.name);
}

} // namespace

Classification classify(const Observation& obs) {
  Classification c;
  if (obs.client_setup_failed) {
    c.status = ProbeStatus::client_error;
    c.phase = ProbePhase::connect;
    c.reason = obs.client_setup_error;
    return c;
  }
  if (!obs.connected) {
    c.phase = ProbePhase::connect;
    if (obs.connect_timed_out) {
      c.status = ProbeStatus::tcp_timeout;
      c.reason = "TCP connect timed out";
    } else if (obs.connect_errno == ECONNREFUSED) {
      c.status = ProbeStatus::tcp_refused;
      c.reason = "connection refused";
    } else if (obs.connect_errno == ECONNRESET) {
      c.status = ProbeStatus::reset; // accepted, then reset before we saw the connect complete
      c.reason = "connection reset by peer";
    } else {
      c.status = ProbeStatus::tcp_unreachable;
      c.reason = obs.connect_error.empty() ? std::strerror(obs.connect_errno) : obs.connect_error;
    }
    return c;
  }
  c.phase = ProbePhase::handshake;
  if (obs.handshake_done) {
    c.status = ProbeStatus::ok;
    c.phase = ProbePhase::done;
    return c;
  }
  const std::string openssl_reason = first_error(obs);
  // The peer answered something that is not TLS (an HTTP server, SSH, junk).
  if (!looks_like_tls(obs.first_record) || has_reason(obs, SSL_R_WRONG_VERSION_NUMBER) ||
      has_reason(obs, SSL_R_PACKET_LENGTH_TOO_LONG) || has_reason(obs, SSL_R_HTTP_REQUEST) ||
      has_reason(obs, SSL_R_HTTPS_PROXY_REQUEST)) {
    if (!looks_like_tls(obs.first_record)) {
      c.status = ProbeStatus::not_tls;
      c.reason =
          "the reply is not TLS" + (openssl_reason.empty() ? "" : " (" + openssl_reason + ")");
      return c;
    }
  }
  if (obs.alert && obs.alert->received && obs.alert->code != 0) {
    c.status = ProbeStatus::tls_alert;
    c.reason = alert_text(*obs.alert);
    return c;
  }
  if (obs.handshake_timed_out) {
    c.status = ProbeStatus::handshake_timeout;
    c.reason = "TLS handshake did not complete in time";
    return c;
  }
  if (obs.ssl_error == SSL_ERROR_SYSCALL && obs.sys_errno == ECONNRESET) {
    c.status = ProbeStatus::reset;
    c.reason = "connection reset by peer";
    return c;
  }
  if (has_reason(obs, SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
      (obs.ssl_error == SSL_ERROR_SYSCALL && obs.sys_errno == 0) ||
      obs.ssl_error == SSL_ERROR_ZERO_RETURN) {
    c.status = ProbeStatus::eof;
    c.reason = "peer closed the connection during the handshake";
    return c;
  }
  if (obs.alert && !obs.alert->received && obs.alert->code != 0) {
    c.status = ProbeStatus::tls_alert;
    c.reason = alert_text(*obs.alert) + (openssl_reason.empty() ? "" : ": " + openssl_reason);
    return c;
  }
  if (obs.ssl_error == SSL_ERROR_SYSCALL && obs.sys_errno != 0) {
    c.status = obs.sys_errno == EPIPE ? ProbeStatus::reset : ProbeStatus::protocol_error;
    c.reason = std::strerror(obs.sys_errno);
    return c;
  }
  c.status = ProbeStatus::protocol_error;
  c.reason = openssl_reason.empty() ? "TLS handshake failed" : openssl_reason;
  return c;
}

} // namespace edgeshake::handshake::detail
