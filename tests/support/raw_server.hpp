// RawServer: a small purpose-built TCP server on a free loopback port, run in a
// background thread (poll loop), for peers that real servers cannot imitate:
//   RawMode::http_reply  reads what the client sends, answers a plain HTTP/1.1
//                        400 response and closes (plain HTTP on the TLS port);
//   RawMode::silent      accepts and never answers (handshake timeouts);
//   RawMode::close       accepts and closes at once (FIN: eof);
//   RawMode::reset       accepts, reads the client's first bytes, then resets
//                        (SO_LINGER 0: RST in the middle of the handshake);
//   RawMode::garbage     reads, answers non-TLS binary bytes, closes;
//   RawMode::capture     records the first complete TLS record(s) a client
//                        sends (its ClientHello), then closes.
// The constructor returns once listening; stop() / the destructor closes every
// socket and joins the thread.
//
// Usage:
//   RawServer server(RawMode::capture);
//   ... probe 127.0.0.1:server.port() ...
//   auto hellos = server.wait_for_captures(1, 5s);
//   ASSERT_EQ(hellos.size(), 1u);  // hellos[0]: raw bytes, record header first
#pragma once

#include "tests/support/listener.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace edgeshake::testing {

enum class RawMode { http_reply, silent, close, reset, garbage, capture };

class RawServer {
public:
  explicit RawServer(RawMode mode, std::string address = "127.0.0.1");
  ~RawServer();
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  std::uint16_t port() const { return m_listener.port(); }
  const std::string& address() const { return m_listener.address(); }
  int accepted() const { return m_listener.accepted(); }
  void stop();

  // RawMode::http_reply: the response sent (default "HTTP/1.1 400 Bad Request" + body).
  void set_http_reply(std::string reply);

  // RawMode::capture: what clients sent, one entry per connection (the TLS
  // records up to and including the first complete handshake message).
  std::vector<std::string> captures() const;
  std::vector<std::string> wait_for_captures(std::size_t count,
                                             std::chrono::milliseconds timeout) const;

private:
  void loop();
  RawMode m_mode;
  LoopbackListener m_listener;
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_cv;
  std::vector<std::string> m_captures;
  std::string m_reply;
};

// Parsed TLS ClientHello (for capture tests). Values are wire code points.
struct ParsedClientHello {
  bool ok = false;
  std::string error;
  int record_version = 0;
  int legacy_version = 0;
  std::vector<int> cipher_suites;        // in order, GREASE included as sent
  std::vector<int> supported_versions;   // extension 43, in order
  std::vector<int> supported_groups;     // extension 10
  std::vector<int> key_share_groups;     // extension 51
  std::vector<int> signature_algorithms; // extension 13
  std::vector<std::string> alpn;         // extension 16
  std::optional<std::string> sni;        // extension 0, host_name
  std::vector<int> extensions;           // extension types in order
};
ParsedClientHello parse_client_hello(const std::string& bytes);

} // namespace edgeshake::testing
