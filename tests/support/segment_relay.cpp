#include "tests/support/segment_relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h> // struct tcp_info with tcpi_data_segs_in (glibc's stops earlier)
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace edgeshake::testing {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_buffer_limit = 64 * 1024;  // per direction
constexpr std::size_t k_max_record = 16384 + 2048; // TLSCiphertext limit
constexpr std::size_t k_read_chunk = 16 * 1024;

bool is_loopback(const std::string& address) {
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, address.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// address:port as a sockaddr for connect(); false when `address` is no IP literal.
bool make_sockaddr(const std::string& address, std::uint16_t port, sockaddr_storage& ss,
                   socklen_t& len) {
  ss = {};
  if (address.find(':') != std::string::npos) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return ::inet_pton(AF_INET6, address.c_str(), &sa->sin6_addr) == 1;
  }
  auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(port);
  len = sizeof(sockaddr_in);
  return ::inet_pton(AF_INET, address.c_str(), &sa->sin_addr) == 1;
}

void set_reset_on_close(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

} // namespace

int connect_and_send(const std::string& address, std::uint16_t port,
                     std::span<const std::uint8_t> bytes, const SegmentedSend& how) {
  if (!is_loopback(address))
    return -1;
  sockaddr_storage ss{};
  socklen_t ss_len = 0;
  make_sockaddr(address, port, ss, ss_len);
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (how.maxseg > 0)
    ::setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &how.maxseg, sizeof how.maxseg);
  if (how.nodelay) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  const std::size_t first = how.split_at > 0 ? std::min(how.split_at, bytes.size()) : bytes.size();
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), ss_len) == 0;
  for (auto part : {bytes.first(first), bytes.subspan(first)})
    ok = ok && (part.empty() || ::send(fd, part.data(), part.size(), MSG_NOSIGNAL) ==
                                    static_cast<ssize_t>(part.size()));
  if (!ok) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string_view to_string(RelayAction action) {
  switch (action) {
  case RelayAction::pending:
    return "pending";
  case RelayAction::forwarded:
    return "forwarded";
  case RelayAction::reset:
    return "reset";
  case RelayAction::upstream_failed:
    return "upstream_failed";
  case RelayAction::hello_timeout:
    return "hello_timeout";
  case RelayAction::closed_early:
    return "closed_early";
  case RelayAction::not_tls:
    return "not_tls";
  }
  return "unknown";
}

struct SegmentRelay::Conn {
  enum class Phase { hello, connecting, relaying };
  std::size_t index = 0; // into m_records
  int client = -1;
  int upstream = -1;
  Phase phase = Phase::hello;
  std::string to_upstream; // client bytes not yet written upstream (the hello first)
  std::string to_client;
  bool client_eof = false;    // the client sent FIN
  bool upstream_eof = false;  // the upstream sent FIN
  bool upstream_shut = false; // FIN passed on to the upstream
  bool client_shut = false;   // FIN passed on to the client
  Clock::time_point deadline;
  bool done() const { return client < 0 && upstream < 0; }
};

SegmentRelay::SegmentRelay(SegmentRelayConfig config)
    : m_config(std::move(config)), m_listener("SegmentRelay", m_config.address) {
  if (!is_loopback(m_config.upstream_address))
    throw std::runtime_error("SegmentRelay: upstream must be a loopback address, not " +
                             m_config.upstream_address);
  if (!is_loopback(m_config.address))
    throw std::runtime_error("SegmentRelay: must listen on a loopback address, not " +
                             m_config.address);
  m_listener.start([this] { loop(); });
}

SegmentRelay::~SegmentRelay() {
  stop();
}

void SegmentRelay::stop() {
  m_listener.stop();
}

std::vector<RelayConnection> SegmentRelay::connections() const {
  std::lock_guard lock(m_mutex);
  return m_records;
}

std::vector<RelayConnection>
SegmentRelay::wait_for_connections(std::size_t count, std::chrono::milliseconds timeout) const {
  return wait_for(
      [count](const std::vector<RelayConnection>& all) {
        return static_cast<std::size_t>(
                   std::count_if(all.begin(), all.end(), [](const RelayConnection& r) {
                     return r.action != RelayAction::pending;
                   })) >= count;
      },
      timeout);
}

std::vector<RelayConnection>
SegmentRelay::wait_for(const std::function<bool(const std::vector<RelayConnection>&)>& done,
                       std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_mutex);
  m_cv.wait_for(lock, timeout, [&] { return done(m_records); });
  return m_records;
}

template <typename F>
void SegmentRelay::update(const Conn& c, F&& f) {
  {
    std::lock_guard lock(m_mutex);
    f(m_records[c.index]);
  }
  m_cv.notify_all();
}

void SegmentRelay::close_conn(Conn& c, bool reset) {
  for (int* fd : {&c.client, &c.upstream}) {
    if (*fd < 0)
      continue;
    if (reset)
      set_reset_on_close(*fd);
    ::close(*fd);
    *fd = -1;
  }
  update(c, [](RelayConnection& r) { r.finished = true; });
}

// The first record is complete (or cannot be): count its segments and decide.
void SegmentRelay::on_hello_bytes(Conn& c) {
  const std::string& b = c.to_upstream;
  if (b.empty())
    return;
  const auto type = static_cast<unsigned char>(b[0]);
  if (type < 20 || type > 24) {
    update(c, [](RelayConnection& r) { r.action = RelayAction::not_tls; });
    close_conn(c, false);
    return;
  }
  if (b.size() < 5)
    return;
  const std::size_t record =
      5 + ((static_cast<std::size_t>(static_cast<unsigned char>(b[3])) << 8) |
           static_cast<unsigned char>(b[4]));
  if (record > k_max_record) {
    update(c, [](RelayConnection& r) { r.action = RelayAction::not_tls; });
    close_conn(c, false);
    return;
  }
  if (b.size() < record)
    return;
  tcp_info info{};
  socklen_t len = sizeof info;
  ::getsockopt(c.client, IPPROTO_TCP, TCP_INFO, &info, &len);
  const bool split = info.tcpi_data_segs_in > 1;
  const bool reset = split && m_config.mode == RelayMode::reset_split_hello;
  update(c, [&](RelayConnection& r) {
    r.hello_bytes = record;
    r.hello_segments = info.tcpi_data_segs_in;
    r.segs_in = info.tcpi_segs_in;
    r.rcv_mss = info.tcpi_rcv_mss;
    if (reset)
      r.action = RelayAction::reset;
  });
  if (reset) {
    close_conn(c, true);
    return;
  }
  start_upstream(c);
}

void SegmentRelay::start_upstream(Conn& c) {
  sockaddr_storage ss{};
  socklen_t ss_len = 0;
  if (make_sockaddr(m_config.upstream_address, m_config.upstream_port, ss, ss_len))
    c.upstream = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (c.upstream >= 0 && (::connect(c.upstream, reinterpret_cast<sockaddr*>(&ss), ss_len) == 0 ||
                          errno == EINPROGRESS)) {
    c.phase = Conn::Phase::connecting;
    c.deadline = Clock::now() + m_config.idle_timeout;
    return;
  }
  update(c, [](RelayConnection& r) { r.action = RelayAction::upstream_failed; });
  close_conn(c, true);
}

// Moves bytes one way (client -> upstream when from_client). False: the
// connection was closed (an error, or both directions finished).
bool SegmentRelay::pump(Conn& c, bool from_client) {
  const int src = from_client ? c.client : c.upstream;
  const int dst = from_client ? c.upstream : c.client;
  std::string& buf = from_client ? c.to_upstream : c.to_client;
  bool& src_eof = from_client ? c.client_eof : c.upstream_eof;
  bool& dst_shut = from_client ? c.upstream_shut : c.client_shut;
  if (!src_eof && buf.size() < k_buffer_limit) {
    char chunk[k_read_chunk];
    const ssize_t n = ::read(src, chunk, std::min(sizeof chunk, k_buffer_limit - buf.size()));
    if (n > 0) {
      buf.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      src_eof = true;
    } else if (errno != EAGAIN && errno != EINTR) {
      close_conn(c, true); // a reset on one side resets the other
      return false;
    }
  }
  if (!buf.empty()) {
    const ssize_t n = ::send(dst, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n > 0) {
      update(c, [&](RelayConnection& r) {
        (from_client ? r.bytes_to_upstream : r.bytes_to_client) += static_cast<std::size_t>(n);
      });
      buf.erase(0, static_cast<std::size_t>(n));
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      close_conn(c, true);
      return false;
    }
  }
  if (src_eof && buf.empty() && !dst_shut) {
    ::shutdown(dst, SHUT_WR);
    dst_shut = true;
  }
  if (c.upstream_shut && c.client_shut) {
    close_conn(c, false);
    return false;
  }
  return true;
}

void SegmentRelay::loop() {
  std::vector<Conn> conns;
  for (;;) {
    std::vector<pollfd> fds = m_listener.poll_head();
    const auto now = Clock::now();
    auto wake = now + std::chrono::seconds(1);
    for (const auto& c : conns) {
      wake = std::min(wake, c.deadline);
      short client_events = 0;
      short upstream_events = 0;
      switch (c.phase) {
      case Conn::Phase::hello:
        client_events = POLLIN;
        break;
      case Conn::Phase::connecting:
        upstream_events = POLLOUT;
        break;
      case Conn::Phase::relaying:
        if (!c.client_eof && c.to_upstream.size() < k_buffer_limit)
          client_events |= POLLIN;
        if (!c.to_client.empty())
          client_events |= POLLOUT;
        if (!c.upstream_eof && c.to_client.size() < k_buffer_limit)
          upstream_events |= POLLIN;
        if (!c.to_upstream.empty())
          upstream_events |= POLLOUT;
        break;
      }
      // A negative fd is ignored by poll(); both entries are always pushed so
      // that connection i owns fds[2 + 2i] and fds[3 + 2i].
      fds.push_back({client_events ? c.client : -1, client_events, 0});
      fds.push_back({upstream_events ? c.upstream : -1, upstream_events, 0});
    }
    const auto wait_ms = std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1);
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait_ms)) < 0 && errno != EINTR)
      break;
    if (fds[0].revents)
      break;
    const std::size_t polled = conns.size();
    for (std::size_t i = 0; i < polled; ++i) {
      Conn& c = conns[i];
      const short client_rev = fds[2 + 2 * i].revents;
      const short upstream_rev = fds[3 + 2 * i].revents;
      if (c.done())
        continue;
      if (c.phase == Conn::Phase::hello && client_rev) {
        char chunk[k_read_chunk];
        const ssize_t n = ::read(c.client, chunk, sizeof chunk);
        if (n > 0) {
          c.to_upstream.append(chunk, static_cast<std::size_t>(n));
          on_hello_bytes(c);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          update(c, [](RelayConnection& r) { r.action = RelayAction::closed_early; });
          close_conn(c, false);
        }
      } else if (c.phase == Conn::Phase::connecting && upstream_rev) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.upstream, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          update(c, [](RelayConnection& r) { r.action = RelayAction::upstream_failed; });
          close_conn(c, true);
          continue;
        }
        c.phase = Conn::Phase::relaying;
        update(c, [](RelayConnection& r) { r.action = RelayAction::forwarded; });
        pump(c, true); // the hello (and whatever followed it) goes out now
      } else if (c.phase == Conn::Phase::relaying && (client_rev || upstream_rev)) {
        c.deadline = Clock::now() + m_config.idle_timeout;
        if ((client_rev || (upstream_rev & POLLOUT)) && !pump(c, true))
          continue;
        if (upstream_rev || (client_rev & POLLOUT))
          pump(c, false);
      }
    }
    const auto after = Clock::now();
    for (auto& c : conns) {
      if (c.done() || after < c.deadline)
        continue;
      if (c.phase == Conn::Phase::hello)
        update(c, [](RelayConnection& r) { r.action = RelayAction::hello_timeout; });
      else if (c.phase == Conn::Phase::connecting)
        update(c, [](RelayConnection& r) { r.action = RelayAction::upstream_failed; });
      close_conn(c, c.phase != Conn::Phase::hello);
    }
    std::erase_if(conns, [](const Conn& c) { return c.done(); });
    if (fds[1].revents & POLLIN) {
      for (int fd : m_listener.accept_all()) {
        Conn c;
        c.client = fd;
        c.deadline = Clock::now() + m_config.hello_timeout;
        {
          std::lock_guard lock(m_mutex);
          c.index = m_records.size();
          m_records.emplace_back();
        }
        conns.push_back(std::move(c));
      }
    }
  }
  for (auto& c : conns)
    for (int fd : {c.client, c.upstream})
      if (fd >= 0)
        ::close(fd);
}

} // namespace edgeshake::testing
