// HostileServer: a purpose-built misbehaving TLS peer on a free loopback port, run
// in a background thread (one poll loop, non-blocking sockets), for the hostile
// test suite (tests/hostile/). Every connection gets the same misbehaviour:
//
//   garbage            16 KiB of pseudo-random non-TLS bytes right after accept, then holds
//   huge_length        after the ClientHello: a handshake record whose ServerHello
//                      announces a 16 MiB (0xFFFFFF) body, then nothing (holds)
//   huge_length_slow   the same header, then one more byte every 100 ms, forever
//   truncated_hello    the first 30 bytes of a valid ServerHello, then FIN
//   unoffered_cipher   a well-formed ServerHello selecting a suite the client did not
//                      offer (from a fixed list, skipping any the client offered), holds
//   drip               one byte per second, forever, starting after accept (a record
//                      header announcing 16 KiB, then zeros)
//   alert_flood        after the ClientHello: warning alerts (user_canceled), as fast as
//                      the client reads them, until it closes
//   reset_in_certificate  ServerHello + the first 1 000 bytes of a 5 000-byte
//                      Certificate message, then RST (SO_LINGER 0)
//   huge_chain         ServerHello + a Certificate message of 200 certificates
//                      (~2 MiB; real X.509, generated at start), then holds
//   huge_san           ServerHello + a Certificate message whose one certificate has
//                      10 000 subjectAltName entries, then holds
//   ssh_banner         "SSH-2.0-OpenSSH_9.2\r\n" after accept, holds
//   smtp_banner        "220 mail ESMTP\r\n" after accept, holds
//   http_banner        after the first bytes: an HTTP/1.1 400 response, then FIN
//   immediate_close    accept, close at once
//
// ServerHellos answer with the client's legacy_version (at most TLS 1.2) and, where
// a cipher the client offered is needed, a TLS <= 1.2 suite it offered.
// The constructor returns once listening; stop() / the destructor closes every
// socket and joins the thread.
#pragma once

#include "tests/support/listener.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace edgeshake::testing {

enum class HostileMode {
  garbage,
  huge_length,
  huge_length_slow,
  truncated_hello,
  unoffered_cipher,
  drip,
  alert_flood,
  reset_in_certificate,
  huge_chain,
  huge_san,
  ssh_banner,
  smtp_banner,
  http_banner,
  immediate_close,
};

std::string_view to_string(HostileMode mode);
const std::vector<HostileMode>& all_hostile_modes();

class HostileServer {
public:
  explicit HostileServer(HostileMode mode);
  ~HostileServer();
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  std::uint16_t port() const { return m_listener.port(); }
  HostileMode mode() const { return m_mode; }
  int accepted() const { return m_listener.accepted(); }
  // Bytes of the Certificate message body (huge_chain / huge_san), 0 otherwise.
  std::size_t certificate_bytes() const;
  std::size_t certificate_count() const { return m_cert_count; }
  void stop();

private:
  void loop();
  HostileMode m_mode;
  LoopbackListener m_listener{"HostileServer"};
  std::shared_ptr<const std::string> m_certificate_msg; // handshake message, header included
  std::size_t m_cert_count = 0;
};

} // namespace edgeshake::testing
