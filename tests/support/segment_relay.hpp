// SegmentRelay: the "middlebox" of the tests. A TCP relay on a free loopback
// port (LoopbackListener + one poll loop in a background thread, like
// RawServer). Per connection it reads the client's first TLS record (the
// ClientHello) completely, learns in how many TCP segments it arrived, and then
//   RelayMode::reset_split_hello  resets the connection (close with SO_LINGER 0)
//                                 when it arrived in more than one segment, and
//                                 forwards it like `forward` otherwise;
//   RelayMode::forward            forwards everything both ways to the upstream
//                                 (which must be a loopback address).
// Every connection is recorded (connections(), wait_for_connections()) with the
// record's size and segment count, for tests to assert on.
//
// Counting segments: getsockopt(TCP_INFO) on the accepted socket, read as soon
// as the record is complete. hello_segments is tcpi_data_segs_in (segments that
// carried payload: the client sends nothing before its ClientHello, so these are
// the hello's); tcpi_segs_in counts every incoming segment and is kept too.
// Measured on this kernel (Linux 6.18, loopback, 2026-12-07), the accepted
// socket of an idle connection has segs_in = 2 (SYN and handshake ACK) and
// data_segs_in = 0; then, for a client that
//   sets TCP_MAXSEG 1448 before connect() and write()s 1494 bytes once:
//       data_segs_in 2, segs_in 4; tcpi_rcv_mss 1436 (1448 minus the 12 bytes of
//       the timestamp option: payload per segment is 1436, so 1436 bytes are 1
//       segment and 1437 are 2; 3000 bytes are 3). The relay reads the 1494 bytes
//       in ONE read(): on loopback the kernel passes them as one GSO packet, and
//       the count is the packet's GSO segment count, i.e. what a 1500-MTU link
//       would carry as two packets.
//   write()s 300 bytes once (with or without TCP_MAXSEG): data_segs_in 1, segs_in 3.
//   write()s 1494 bytes once without TCP_MAXSEG: 1 segment (loopback MSS 65483).
//   write()s 1400 bytes, then the other 94, with TCP_NODELAY: 2 segments
//       (tcpi_rcv_mss 1400), with or without TCP_MAXSEG; without TCP_NODELAY
//       also 2.
// Limits: a segment retransmitted before the record is complete counts again (not
// seen on loopback); a record over 16 KiB + 2 KiB, or a first byte that is not a
// TLS content type, is not a ClientHello: the connection is closed (not_tls).
//
// Usage:
//   OpensslServer origin({...});
//   SegmentRelay relay({.mode = RelayMode::reset_split_hello,
//                       .upstream_port = origin.port()});
//   int fd = connect_and_send("127.0.0.1", relay.port(), hello, {.maxseg = 1448});
//   ... read: ECONNRESET ...
//   auto conns = relay.wait_for_connections(1, 5s);
//   EXPECT_EQ(conns[0].hello_segments, 2u);
//   EXPECT_EQ(conns[0].action, RelayAction::reset);
// Bounded: 64 KiB buffered per direction (reading stops while it is full), a
// hello deadline (hello_timeout) and an idle deadline (idle_timeout) per
// connection. stop() / the destructor closes every socket and joins the thread.
#pragma once

#include "tests/support/listener.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgeshake::testing {

enum class RelayMode { forward, reset_split_hello };

enum class RelayAction {
  pending,         // the first record is not complete yet
  forwarded,       // connected upstream and relaying (or done relaying)
  reset,           // reset_split_hello: the record came in more than one segment
  upstream_failed, // the upstream connect failed: the client was reset
  hello_timeout,   // no complete record within hello_timeout: closed
  closed_early,    // the client closed (or reset) before the record was complete
  not_tls,         // the first bytes were not a TLS record of a sane size: closed
};
std::string_view to_string(RelayAction action);

struct SegmentRelayConfig {
  RelayMode mode = RelayMode::forward;
  std::string upstream_address = "127.0.0.1"; // loopback only (127.0.0.0/8 or ::1)
  std::uint16_t upstream_port = 0;
  std::chrono::milliseconds hello_timeout{5000};
  std::chrono::milliseconds idle_timeout{10000};
  std::string address = "127.0.0.1"; // where the relay listens
};

struct RelayConnection {
  RelayAction action = RelayAction::pending;
  std::size_t hello_bytes = 0;       // the first TLS record, 5-byte header included
  std::uint32_t hello_segments = 0;  // tcpi_data_segs_in when the record was complete
  std::uint32_t segs_in = 0;         // tcpi_segs_in at that moment (SYN and ACK included)
  std::uint32_t rcv_mss = 0;         // tcpi_rcv_mss at that moment
  std::size_t bytes_to_upstream = 0; // relayed so far (the hello included)
  std::size_t bytes_to_client = 0;
  bool finished = false; // both sockets closed
  bool operator==(const RelayConnection&) const = default;
};

// The sender side, for tests: a blocking TCP connection to a loopback
// address:port with the options that decide how the kernel cuts what is
// written into segments, set before connect(), then `bytes` written in one
// write() (split_at == 0) or in two.
struct SegmentedSend {
  int maxseg = 0;           // TCP_MAXSEG before connect() (0: the kernel's; 1448: as on a
                            // 1500-MTU link, 1436 bytes of payload per segment)
  bool nodelay = false;     // TCP_NODELAY
  std::size_t split_at = 0; // 0: one write(); else split_at bytes, then the rest
};
// The connected socket (the caller closes it), or -1 when connect() or a write failed.
int connect_and_send(const std::string& address, std::uint16_t port,
                     std::span<const std::uint8_t> bytes, const SegmentedSend& how = {});

class SegmentRelay {
public:
  // Listening when it returns; throws std::runtime_error for a non-loopback upstream.
  explicit SegmentRelay(SegmentRelayConfig config);
  ~SegmentRelay();
  SegmentRelay(const SegmentRelay&) = delete;
  SegmentRelay& operator=(const SegmentRelay&) = delete;

  std::uint16_t port() const { return m_listener.port(); }
  const std::string& address() const { return m_listener.address(); }
  int accepted() const { return m_listener.accepted(); }
  void stop();

  // One entry per accepted connection, in accept order (a snapshot).
  std::vector<RelayConnection> connections() const;
  // Waits until `count` connections have an action other than `pending`.
  std::vector<RelayConnection> wait_for_connections(std::size_t count,
                                                    std::chrono::milliseconds timeout) const;
  // Waits until `done(connections)` holds (checked at every change) or `timeout`;
  // e.g. for final byte counts, until a connection is `finished`.
  std::vector<RelayConnection>
  wait_for(const std::function<bool(const std::vector<RelayConnection>&)>& done,
           std::chrono::milliseconds timeout) const;

private:
  struct Conn;
  void loop();
  void on_hello_bytes(Conn& c);
  void start_upstream(Conn& c);
  bool pump(Conn& c, bool from_client);
  void close_conn(Conn& c, bool reset);
  template <typename F>
  void update(const Conn& c, F&& f);

  SegmentRelayConfig m_config;
  LoopbackListener m_listener;
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_cv;
  std::vector<RelayConnection> m_records;
};

} // namespace edgeshake::testing
