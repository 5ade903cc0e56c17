#include "tests/support/raw_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace edgeshake::testing {

namespace {

struct Conn {
  int fd = -1;
  std::string buffer;
  bool answered = false; // reply sent / capture stored: now draining until EOF
};

// Bytes that make a complete handshake message (the ClientHello), or 0 if more are needed.
std::size_t complete_hello_size(const std::string& b) {
  std::string hs;
  std::size_t pos = 0;
  while (pos + 5 <= b.size()) {
    std::size_t len =
        (static_cast<unsigned char>(b[pos + 3]) << 8) | static_cast<unsigned char>(b[pos + 4]);
    if (pos + 5 + len > b.size())
      return 0;
    if (b[pos] != 22) // not a handshake record: take what we have
      return pos + 5 + len;
    hs.append(b, pos + 5, len);
    pos += 5 + len;
    if (hs.size() >= 4) {
      std::size_t msg = (static_cast<unsigned char>(hs[1]) << 16) |
                        (static_cast<unsigned char>(hs[2]) << 8) |
                        static_cast<unsigned char>(hs[3]);
      if (hs.size() >= 4 + msg)
        return pos;
    }
  }
  // Not TLS at all (e.g. an HTTP request): take it once something arrived.
  if (!b.empty() && b[0] != 22)
    return b.size();
  return 0;
}

} // namespace

RawServer::RawServer(RawMode mode, std::string address)
    : m_mode(mode), m_listener("RawServer", std::move(address)) {
  m_reply = "HTTP/1.1 400 Bad Request\r\nServer: edgeshake-raw\r\nContent-Type: text/html\r\n"
            "Content-Length: 48\r\nConnection: close\r\n\r\n"
            "<html><body>400 plain HTTP here</body></html>\r\n";
  m_listener.start([this] { loop(); });
}

RawServer::~RawServer() {
  stop();
}

void RawServer::stop() {
  m_listener.stop();
}

void RawServer::set_http_reply(std::string reply) {
  std::lock_guard lock(m_mutex);
  m_reply = std::move(reply);
}

std::vector<std::string> RawServer::captures() const {
  std::lock_guard lock(m_mutex);
  return m_captures;
}

std::vector<std::string> RawServer::wait_for_captures(std::size_t count,
                                                      std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_mutex);
  m_cv.wait_for(lock, timeout, [&] { return m_captures.size() >= count; });
  return m_captures;
}

void RawServer::loop() {
  std::vector<Conn> conns;
  auto finish = [](Conn& c) {
    ::shutdown(c.fd, SHUT_WR);
    c.answered = true;
  };
  for (;;) {
    std::vector<pollfd> fds = m_listener.poll_head();
    for (const auto& c : conns)
      fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR)
      break;
    if (fds[0].revents)
      break;
    if (fds[1].revents & POLLIN) {
      for (int fd : m_listener.accept_all()) {
        Conn c;
        c.fd = fd;
        if (m_mode == RawMode::close)
          finish(c);
        conns.push_back(std::move(c));
      }
    }
    // Indices into fds are offset by 2; conns appended above have no revents yet.
    std::size_t polled = fds.size() - 2;
    for (std::size_t i = 0; i < polled && i < conns.size(); ++i) {
      if (!fds[i + 2].revents)
        continue;
      Conn& c = conns[i];
      char buf[4096];
      ssize_t n = ::read(c.fd, buf, sizeof buf);
      if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
          continue;
        ::close(c.fd);
        c.fd = -1;
        continue;
      }
      if (c.answered || m_mode == RawMode::silent)
        continue; // drain
      if (c.buffer.size() < 65536)
        c.buffer.append(buf, static_cast<std::size_t>(n));
      switch (m_mode) {
      case RawMode::reset: {
        linger l{1, 0};
        ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(c.fd);
        c.fd = -1;
        break;
      }
      case RawMode::http_reply: {
        std::string reply;
        {
          std::lock_guard lock(m_mutex);
          reply = m_reply;
        }
        [[maybe_unused]] auto w = ::write(c.fd, reply.data(), reply.size());
        finish(c);
        break;
      }
      case RawMode::garbage: {
        static const char junk[] = "\x01\x02\x03\xff\xfe garbage, not TLS \x00\x7f";
        [[maybe_unused]] auto w = ::write(c.fd, junk, sizeof junk - 1);
        finish(c);
        break;
      }
      case RawMode::capture: {
        std::size_t size = complete_hello_size(c.buffer);
        if (size || c.buffer.size() >= 65536) {
          {
            std::lock_guard lock(m_mutex);
            m_captures.push_back(c.buffer.substr(0, size ? size : c.buffer.size()));
          }
          m_cv.notify_all();
          finish(c);
        }
        break;
      }
      default:
        break;
      }
    }
    std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
  }
  for (auto& c : conns)
    if (c.fd >= 0)
      ::close(c.fd);
}

// --- ClientHello parsing -------------------------------------------------------

namespace {

struct Reader {
  const std::string& s;
  std::size_t pos = 0;
  std::size_t end = 0;
  bool ok = true;
  unsigned u8() {
    if (pos + 1 > end) {
      ok = false;
      return 0;
    }
    return static_cast<unsigned char>(s[pos++]);
  }
  unsigned u16() {
    unsigned hi = u8();
    return (hi << 8) | u8();
  }
  unsigned u24() {
    unsigned hi = u8();
    return (hi << 16) | u16();
  }
  std::string bytes(std::size_t n) {
    if (pos + n > end) {
      ok = false;
      return {};
    }
    std::string out = s.substr(pos, n);
    pos += n;
    return out;
  }
};

} // namespace

ParsedClientHello parse_client_hello(const std::string& bytes) {
  ParsedClientHello out;
  std::string hs;
  std::size_t pos = 0;
  while (pos + 5 <= bytes.size()) {
    if (bytes[pos] != 22) {
      out.error = "not a handshake record";
      return out;
    }
    if (pos == 0)
      out.record_version =
          (static_cast<unsigned char>(bytes[1]) << 8) | static_cast<unsigned char>(bytes[2]);
    std::size_t len = (static_cast<unsigned char>(bytes[pos + 3]) << 8) |
                      static_cast<unsigned char>(bytes[pos + 4]);
    if (pos + 5 + len > bytes.size())
      break;
    hs.append(bytes, pos + 5, len);
    pos += 5 + len;
  }
  Reader r{hs, 0, hs.size()};
  if (r.u8() != 1) {
    out.error = "not a ClientHello";
    return out;
  }
  std::size_t msg_len = r.u24();
  if (!r.ok || 4 + msg_len > hs.size()) {
    out.error = "truncated ClientHello";
    return out;
  }
  r.end = 4 + msg_len;
  out.legacy_version = static_cast<int>(r.u16());
  r.bytes(32);     // random
  r.bytes(r.u8()); // session id
  unsigned cs_len = r.u16();
  for (unsigned i = 0; i + 1 < cs_len && r.ok; i += 2)
    out.cipher_suites.push_back(static_cast<int>(r.u16()));
  r.bytes(r.u8()); // compression methods
  if (r.pos < r.end) {
    std::size_t ext_end = r.pos + r.u16();
    while (r.ok && r.pos + 4 <= ext_end) {
      unsigned type = r.u16();
      unsigned len = r.u16();
      out.extensions.push_back(static_cast<int>(type));
      std::string body = r.bytes(len);
      Reader e{body, 0, body.size()};
      switch (type) {
      case 0: { // server_name
        std::size_t list_end = e.u16() + 2;
        while (e.ok && e.pos < list_end) {
          unsigned name_type = e.u8();
          std::string name = e.bytes(e.u16());
          if (name_type == 0 && e.ok)
            out.sni = name;
        }
        break;
      }
      case 10: { // supported_groups
        unsigned n = e.u16();
        for (unsigned i = 0; i + 1 < n && e.ok; i += 2)
          out.supported_groups.push_back(static_cast<int>(e.u16()));
        break;
      }
      case 13: { // signature_algorithms
        unsigned n = e.u16();
        for (unsigned i = 0; i + 1 < n && e.ok; i += 2)
          out.signature_algorithms.push_back(static_cast<int>(e.u16()));
        break;
      }
      case 16: { // ALPN
        std::size_t list_end = e.u16() + 2;
        while (e.ok && e.pos < list_end) {
          std::string proto = e.bytes(e.u8());
          if (e.ok)
            out.alpn.push_back(proto);
        }
        break;
      }
      case 43: { // supported_versions
        unsigned n = e.u8();
        for (unsigned i = 0; i + 1 < n && e.ok; i += 2)
          out.supported_versions.push_back(static_cast<int>(e.u16()));
        break;
      }
      case 51: { // key_share
        std::size_t list_end = e.u16() + 2;
        while (e.ok && e.pos < list_end) {
          unsigned group = e.u16();
          e.bytes(e.u16());
          if (e.ok)
            out.key_share_groups.push_back(static_cast<int>(group));
        }
        break;
      }
      default:
        break;
      }
    }
  }
  out.ok = r.ok;
  if (!r.ok)
    out.error = "malformed ClientHello";
  return out;
}

} // namespace edgeshake::testing
