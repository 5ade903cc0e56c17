// Words for the engine's enums (the same snake_case strings the JSON uses) and
// the RFC names of TLS alerts.
// No OpenSSL here: this file is the es_handshake_types library, which compare/
// links to print results without linking OpenSSL.
#include "handshake/names.hpp"

#include <cstdio>

namespace edgeshake::handshake {

std::string_view to_string(ProbeStatus s) {
  switch (s) {
  case ProbeStatus::ok:
    return "ok";
  case ProbeStatus::tcp_refused:
    return "tcp_refused";
  case ProbeStatus::tcp_timeout:
    return "tcp_timeout";
  case ProbeStatus::tcp_unreachable:
    return "tcp_unreachable";
  case ProbeStatus::tls_alert:
    return "tls_alert";
  case ProbeStatus::reset:
    return "reset";
  case ProbeStatus::eof:
    return "eof";
  case ProbeStatus::not_tls:
    return "not_tls";
  case ProbeStatus::handshake_timeout:
    return "handshake_timeout";
  case ProbeStatus::protocol_error:
    return "protocol_error";
  case ProbeStatus::client_error:
    return "client_error";
  }
  return "unknown";
}

std::string_view to_string(ProbePhase p) {
  switch (p) {
  case ProbePhase::connect:
    return "connect";
  case ProbePhase::handshake:
    return "handshake";
  case ProbePhase::http:
    return "http";
  case ProbePhase::done:
    return "done";
  }
  return "unknown";
}

std::string_view to_string(Engine e) {
  switch (e) {
  case Engine::openssl:
    return "openssl";
  case Engine::wire:
    return "wire";
  }
  return "?";
}

std::string_view to_string(HttpStatus s) {
  switch (s) {
  case HttpStatus::not_attempted:
    return "not_attempted";
  case HttpStatus::ok:
    return "ok";
  case HttpStatus::timeout:
    return "timeout";
  case HttpStatus::closed:
    return "closed";
  case HttpStatus::error:
    return "error";
  }
  return "unknown";
}

namespace detail {

std::string_view alert_name(int code) {
  switch (code) {
  case 0:
    return "close_notify";
  case 10:
    return "unexpected_message";
  case 20:
    return "bad_record_mac";
  case 21:
    return "decryption_failed";
  case 22:
    return "record_overflow";
  case 30:
    return "decompression_failure";
  case 40:
    return "handshake_failure";
  case 41:
    return "no_certificate";
  case 42:
    return "bad_certificate";
  case 43:
    return "unsupported_certificate";
  case 44:
    return "certificate_revoked";
  case 45:
    return "certificate_expired";
  case 46:
    return "certificate_unknown";
  case 47:
    return "illegal_parameter";
  case 48:
    return "unknown_ca";
  case 49:
    return "access_denied";
  case 50:
    return "decode_error";
  case 51:
    return "decrypt_error";
  case 60:
    return "export_restriction";
  case 70:
    return "protocol_version";
  case 71:
    return "insufficient_security";
  case 80:
    return "internal_error";
  case 86:
    return "inappropriate_fallback";
  case 90:
    return "user_canceled";
  case 100:
    return "no_renegotiation";
  case 109:
    return "missing_extension";
  case 110:
    return "unsupported_extension";
  case 111:
    return "certificate_unobtainable";
  case 112:
    return "unrecognized_name";
  case 113:
    return "bad_certificate_status_response";
  case 114:
    return "bad_certificate_hash_value";
  case 115:
    return "unknown_psk_identity";
  case 116:
    return "certificate_required";
  case 120:
    return "no_application_protocol";
  }
  return "unknown_alert";
}

std::string printable_excerpt(std::string_view bytes, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

} // namespace detail
} // namespace edgeshake::handshake
