// One TCP connection for hand-built ClientHellos (connection.hpp).
#include "handshake/enumerate/connection.hpp"

// g++ 12 misreports asio's awaitable frame allocator (operator new/delete
// pairs of awaitable_frame_base) as mismatched: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>

namespace edgeshake::handshake::enumerate {

using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

std::string milliseconds_text(std::chrono::milliseconds ms) {
  return ms.count() % 1000 == 0 ? std::to_string(ms.count() / 1000) + " s"
                                : std::to_string(ms.count()) + " ms";
}

struct Connection::State {
  explicit State(asio::io_context& io) : socket(io), timer(io) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  bool timed_out = false;
};

Connection::Connection(asio::io_context& io, ConnectionSpec spec)
    : m_io(io), m_spec(std::move(spec)), m_state(std::make_shared<State>(io)),
      m_start(Clock::now()) {
  m_state->timer.expires_after(m_spec.timeout);
  m_state->timer.async_wait([st = m_state](std::error_code ec) {
    if (!ec) {
      st->timed_out = true;
      std::error_code ignore;
      st->socket.close(ignore);
    }
  });
}

Connection::~Connection() {
  close();
}

void Connection::close() {
  m_state->timer.cancel();
  std::error_code ignore;
  m_state->socket.close(ignore);
}

std::chrono::milliseconds Connection::elapsed() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - m_start);
}

asio::awaitable<ReadResult> Connection::connect() {
  ReadResult out;
  auto& st = *m_state;
  std::error_code ec;
  const auto address = asio::ip::make_address(m_spec.target.address, ec);
  if (ec) {
    out.transport = ProbeOutcome::network_error;
    out.response.detail = "bad address: " + ec.message();
    co_return out;
  }
  const asio::ip::tcp::endpoint endpoint(address, m_spec.target.port);
  st.socket.open(endpoint.protocol(), ec);
  if (!ec && m_spec.max_segment > 0) {
    const int mss = m_spec.max_segment;
    if (::setsockopt(st.socket.native_handle(), IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss) != 0)
      ec = std::error_code(errno, std::system_category());
  }
  if (!ec)
    co_await st.socket.async_connect(endpoint, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    out.transport = st.timed_out                            ? ProbeOutcome::connect_timeout
                    : ec == asio::error::connection_refused ? ProbeOutcome::refused
                                                            : ProbeOutcome::network_error;
    out.response.detail = st.timed_out
                              ? "TCP connect timed out after " + milliseconds_text(m_spec.timeout)
                              : ec.message();
    close();
    co_return out;
  }
  st.socket.set_option(asio::ip::tcp::no_delay(true), ec);
  co_return out;
}

asio::awaitable<bool> Connection::write(const std::vector<std::uint8_t>& bytes,
                                        std::size_t split_at) {
  auto& st = *m_state;
  std::error_code ec;
  if (split_at > 0 && split_at < bytes.size()) {
    co_await asio::async_write(st.socket, asio::buffer(bytes.data(), split_at),
                               asio::redirect_error(use_awaitable, ec));
    if (!ec)
      co_await asio::async_write(st.socket,
                                 asio::buffer(bytes.data() + split_at, bytes.size() - split_at),
                                 asio::redirect_error(use_awaitable, ec));
  } else {
    co_await asio::async_write(st.socket, asio::buffer(bytes),
                               asio::redirect_error(use_awaitable, ec));
  }
  m_last_error = ec;
  co_return !ec;
}

asio::awaitable<ReadResult> Connection::read(const ParseOptions& options, std::size_t from) {
  ReadResult out;
  auto& st = *m_state;
  auto parse = [&] {
    const std::span<const std::uint8_t> all(m_buffer);
    return parse_server_response(all.subspan(std::min(from, all.size())), options);
  };
  std::error_code ec = m_last_error; // a failed write: read what the server said anyway
  std::array<std::uint8_t, 16384> chunk{};
  while (!ec && st.socket.is_open()) {
    const auto n = co_await st.socket.async_read_some(asio::buffer(chunk),
                                                      asio::redirect_error(use_awaitable, ec));
    m_buffer.insert(m_buffer.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (n > 0) {
      out.response = parse();
      if (out.response.complete(options) || m_buffer.size() - from >= k_max_response_bytes) {
        out.transport = ProbeOutcome::accepted;
        co_return out;
      }
    }
  }
  // The write or a read failed: the server closed, reset, or the deadline hit.
  out.response = parse();
  if (out.response.complete(options) && out.response.kind != ResponseKind::empty)
    out.transport = ProbeOutcome::accepted; // e.g. an alert followed by a close
  else if (st.timed_out)
    out.transport = ProbeOutcome::timeout;
  else
    out.transport = ProbeOutcome::closed;
  out.reset = ec == asio::error::connection_reset;
  const std::size_t got = m_buffer.size() - std::min(from, m_buffer.size());
  if (out.response.detail.empty() && out.transport == ProbeOutcome::timeout)
    out.response.detail =
        "no answer within " + milliseconds_text(m_spec.timeout) +
        (got == 0 ? "" : " (" + std::to_string(got) + " bytes of an incomplete answer)");
  else if (out.response.detail.empty() && out.transport != ProbeOutcome::accepted)
    out.response.detail = ec ? ec.message() : "connection closed";
  m_last_error = ec;
  co_return out;
}

} // namespace edgeshake::handshake::enumerate
