// Private to handshake/: one TCP connection that writes hand-built ClientHellos
// and reads what the server answers, under one deadline. The enumerator makes one
// exchange per connection; the wire probe (handshake/wire_probe.cpp) may answer
// a HelloRetryRequest on the same connection. Asio appears here, not in the
// public headers.
#pragma once

#include "common/endpoint.hpp"
#include "handshake/enumerate/enumerate.hpp"
#include "handshake/enumerate/wire.hpp"

#include <asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace asio {
class io_context;
}

namespace edgeshake::handshake::enumerate {

struct ConnectionSpec {
  Endpoint target;
  std::chrono::milliseconds timeout{5000}; // connect + every write and read
  // TCP_MAXSEG before connect(): the kernel writes segments of at most this many
  // bytes, as on a real link with that MSS (0: the loopback's own, one segment
  // up to 64 KiB).
  std::uint16_t max_segment = 0;
};

// What a read produced: `transport` is `accepted` when a complete response was
// parsed (or the server closed after an answer), else why nothing came.
struct ReadResult {
  ProbeOutcome transport = ProbeOutcome::accepted;
  ServerResponse response;
  bool reset = false; // `closed` by a TCP reset (ECONNRESET), not a FIN
};

class Connection {
public:
  Connection(asio::io_context& io, ConnectionSpec spec);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // TCP connect; on failure the outcome (refused, connect_timeout, network_error)
  // and a detail are returned, and the connection is closed.
  asio::awaitable<ReadResult> connect();
  // Writes `bytes` (in two writes when 0 < split_at < size); false when the write failed.
  asio::awaitable<bool> write(const std::vector<std::uint8_t>& bytes, std::size_t split_at = 0);
  // Reads until what arrived from `from` on parses as complete under `options`,
  // the server closes, or the deadline.
  asio::awaitable<ReadResult> read(const ParseOptions& options, std::size_t from = 0);
  const std::vector<std::uint8_t>& received() const { return m_buffer; }
  std::chrono::milliseconds elapsed() const;
  void close();

private:
  struct State;
  asio::io_context& m_io;
  ConnectionSpec m_spec;
  std::shared_ptr<State> m_state;
  std::vector<std::uint8_t> m_buffer;
  std::chrono::steady_clock::time_point m_start;
  std::error_code m_last_error;
};

std::string milliseconds_text(std::chrono::milliseconds ms); // "5 s", "250 ms"

} // namespace edgeshake::handshake::enumerate
