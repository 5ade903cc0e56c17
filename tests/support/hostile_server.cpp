#include "tests/support/hostile_server.hpp"

#include "tests/support/certs.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_server.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>

namespace edgeshake::testing {

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::string;

void put16(Bytes& b, std::size_t v) {
  b.push_back(static_cast<char>((v >> 8) & 0xFF));
  b.push_back(static_cast<char>(v & 0xFF));
}
void put24(Bytes& b, std::size_t v) {
  b.push_back(static_cast<char>((v >> 16) & 0xFF));
  put16(b, v & 0xFFFF);
}

// Handshake bytes framed as records of at most 16 KiB.
Bytes records(std::uint8_t type, std::uint16_t version, const Bytes& payload) {
  Bytes out;
  std::size_t pos = 0;
  do {
    std::size_t n = std::min<std::size_t>(16384, payload.size() - pos);
    out.push_back(static_cast<char>(type));
    put16(out, version);
    put16(out, n);
    out.append(payload, pos, n);
    pos += n;
  } while (pos < payload.size());
  return out;
}

Bytes server_hello_message(std::uint16_t version, std::uint16_t suite) {
  Bytes body;
  put16(body, version);
  for (int i = 0; i < 32; ++i) // server random; never the TLS 1.3 downgrade sentinel
    body.push_back(static_cast<char>(0x40 + i));
  body.push_back(0); // session id: empty (no resumption)
  put16(body, suite);
  body.push_back(0); // compression: null
  Bytes ext;
  put16(ext, 0xFF01); // renegotiation_info, empty
  put16(ext, 1);
  ext.push_back(0);
  put16(body, ext.size());
  body += ext;
  Bytes msg;
  msg.push_back(2);
  put24(msg, body.size());
  return msg + body;
}

struct Hello {
  std::uint16_t version = 0x0303;
  std::vector<int> suites;
};

// Size of a complete first handshake message (ClientHello) in `b`, 0 if more is
// needed; any non-handshake first byte counts as complete once it arrived.
std::size_t complete_hello(const Bytes& b) {
  if (!b.empty() && b[0] != 22)
    return b.size();
  Bytes hs;
  std::size_t pos = 0;
  while (pos + 5 <= b.size()) {
    std::size_t len =
        (static_cast<unsigned char>(b[pos + 3]) << 8) | static_cast<unsigned char>(b[pos + 4]);
    if (pos + 5 + len > b.size())
      return 0;
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
  return 0;
}

Hello read_hello(const Bytes& b) {
  Hello h;
  auto p = parse_client_hello(b);
  if (p.ok) {
    h.version = static_cast<std::uint16_t>(std::min(p.legacy_version, 0x0303));
    if (h.version < 0x0300)
      h.version = 0x0303;
    h.suites = p.cipher_suites;
  }
  return h;
}

bool offered(const Hello& h, int suite) {
  return std::find(h.suites.begin(), h.suites.end(), suite) != h.suites.end();
}

// A TLS <= 1.2 suite the client offered (well-known ones first), else 0xC02F.
std::uint16_t offered_suite(const Hello& h) {
  for (int s : {0xC02F, 0xC030, 0xC02B, 0xC02C, 0xCCA8, 0xCCA9, 0x009C, 0x009D, 0x002F, 0x0035,
                0xC013, 0xC014, 0x000A, 0x0005, 0x0004})
    if (offered(h, s))
      return static_cast<std::uint16_t>(s);
  for (int s : h.suites)
    if ((s >> 8) != 0x13 && s != 0x00FF && s != 0x5600 && (s & 0x0F0F) != 0x0A0A)
      return static_cast<std::uint16_t>(s);
  return 0xC02F;
}

std::uint16_t unoffered_suite(const Hello& h) {
  for (int s : {0x0004, 0x0005, 0x000A, 0x002F, 0x0035, 0x009C, 0xC02F, 0xC030, 0x0084, 0x0041})
    if (!offered(h, s))
      return static_cast<std::uint16_t>(s);
  return 0x0001;
}

std::string der_of(const fs::path& pem) {
  FILE* f = std::fopen(pem.c_str(), "r");
  if (!f)
    throw std::runtime_error("HostileServer: cannot read " + pem.string());
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!x)
    throw std::runtime_error("HostileServer: bad PEM " + pem.string());
  unsigned char* out = nullptr;
  int n = i2d_X509(x, &out);
  X509_free(x);
  if (n <= 0)
    throw std::runtime_error("HostileServer: i2d_X509 failed");
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return der;
}

Bytes certificate_message(const std::vector<const std::string*>& ders) {
  Bytes list;
  for (const auto* d : ders) {
    put24(list, d->size());
    list += *d;
  }
  Bytes body;
  put24(body, list.size());
  body += list;
  Bytes msg;
  msg.push_back(11);
  put24(msg, body.size());
  return msg + body;
}

// Generated once per process: {leaf, padded (~10 KiB)} and the 10 000-SAN certificate.
struct HostileCerts {
  TempDir dir{"edgeshake-hostile"};
  std::string leaf, padded, many_sans;
};

const HostileCerts& hostile_certs(bool need_many_sans) {
  static std::mutex mutex;
  static std::unique_ptr<HostileCerts> certs;
  static bool have_many = false;
  std::lock_guard lock(mutex);
  if (!certs) {
    certs = std::make_unique<HostileCerts>();
    CertFactory f(certs->dir.path());
    auto ca = f.root("hostile root");
    certs->leaf = der_of(
        f.issue(ca, "leaf", {.common_name = "origin.test", .dns_names = {"origin.test"}}).cert);
    std::vector<std::string> names;
    for (int i = 0; i < 360; ++i)
      names.push_back(fmt::format("padding-name-{:05}.hostile.test", i));
    certs->padded =
        der_of(f.issue(ca, "padded", {.common_name = "padded.test", .dns_names = names}).cert);
  }
  if (need_many_sans && !have_many) {
    CertFactory f(certs->dir.path() / "many");
    fs::create_directories(certs->dir.path() / "many");
    auto ca = f.root("hostile root 2");
    std::vector<std::string> names{"origin.test"};
    for (int i = 1; i < 10000; ++i)
      names.push_back(fmt::format("san-{:05}.hostile.test", i));
    certs->many_sans =
        der_of(f.issue(ca, "many_sans", {.common_name = "origin.test", .dns_names = names}).cert);
    have_many = true;
  }
  return *certs;
}

enum class After { hold, fin, reset };

struct Conn {
  int fd = -1;
  Bytes in;
  bool triggered = false;
  std::shared_ptr<const Bytes> out; // what to send (shared: the 2 MiB chain is not copied)
  std::size_t out_pos = 0;
  std::shared_ptr<const Bytes> next; // sent after `out` (the shared Certificate records)
  After after = After::hold;
  bool finished = false;         // `after` applied
  Clock::duration drip_every{0}; // > 0: one byte of `drip_bytes` at a time
  Clock::time_point next_drip{};
  std::size_t dripped = 0;
  bool flood = false;
};

} // namespace

std::string_view to_string(HostileMode m) {
  switch (m) {
  case HostileMode::garbage:
    return "garbage";
  case HostileMode::huge_length:
    return "huge_length";
  case HostileMode::huge_length_slow:
    return "huge_length_slow";
  case HostileMode::truncated_hello:
    return "truncated_hello";
  case HostileMode::unoffered_cipher:
    return "unoffered_cipher";
  case HostileMode::drip:
    return "drip";
  case HostileMode::alert_flood:
    return "alert_flood";
  case HostileMode::reset_in_certificate:
    return "reset_in_certificate";
  case HostileMode::huge_chain:
    return "huge_chain";
  case HostileMode::huge_san:
    return "huge_san";
  case HostileMode::ssh_banner:
    return "ssh_banner";
  case HostileMode::smtp_banner:
    return "smtp_banner";
  case HostileMode::http_banner:
    return "http_banner";
  case HostileMode::immediate_close:
    return "immediate_close";
  }
  return "?";
}

const std::vector<HostileMode>& all_hostile_modes() {
  static const std::vector<HostileMode> all = {
      HostileMode::garbage,          HostileMode::huge_length,
      HostileMode::huge_length_slow, HostileMode::truncated_hello,
      HostileMode::unoffered_cipher, HostileMode::drip,
      HostileMode::alert_flood,      HostileMode::reset_in_certificate,
      HostileMode::huge_chain,       HostileMode::huge_san,
      HostileMode::ssh_banner,       HostileMode::smtp_banner,
      HostileMode::http_banner,      HostileMode::immediate_close,
  };
  return all;
}

HostileServer::HostileServer(HostileMode mode) : m_mode(mode) {
  if (mode == HostileMode::huge_chain) {
    const auto& c = hostile_certs(false);
    std::vector<const std::string*> ders{&c.leaf};
    for (int i = 1; i < 200; ++i)
      ders.push_back(&c.padded);
    m_certificate_msg = std::make_shared<const Bytes>(certificate_message(ders));
    m_cert_count = ders.size();
  } else if (mode == HostileMode::huge_san) {
    const auto& c = hostile_certs(true);
    m_certificate_msg = std::make_shared<const Bytes>(certificate_message({&c.many_sans}));
    m_cert_count = 1;
  }
  m_listener.start([this] { loop(); });
}

HostileServer::~HostileServer() {
  stop();
}

std::size_t HostileServer::certificate_bytes() const {
  return m_certificate_msg ? m_certificate_msg->size() - 4 : 0;
}

void HostileServer::stop() {
  m_listener.stop();
}

void HostileServer::loop() {
  std::vector<Conn> conns;
  const auto mode = m_mode;

  std::map<std::uint16_t, std::shared_ptr<const Bytes>> certificate_records;
  auto send_now = [](Conn& c, Bytes bytes, After after) {
    c.out = std::make_shared<const Bytes>(std::move(bytes));
    c.out_pos = 0;
    c.after = after;
  };

  // What a connection does when it is accepted (`hello` == nullptr) or when its
  // ClientHello is complete.
  auto trigger = [&](Conn& c, const Hello* hello) {
    c.triggered = true;
    switch (mode) {
    case HostileMode::garbage: {
      std::mt19937 rng(0xED6E);
      Bytes g(16384, '\0');
      for (auto& ch : g)
        ch = static_cast<char>(rng() & 0xFF);
      g[0] = static_cast<char>(0x9B); // neither a TLS content type nor an SSLv2 header
      send_now(c, std::move(g), After::hold);
      return;
    }
    case HostileMode::drip: {
      c.drip_every = std::chrono::seconds(1);
      c.next_drip = Clock::now();
      return;
    }
    case HostileMode::ssh_banner:
      send_now(c, "SSH-2.0-OpenSSH_9.2\r\n", After::hold);
      return;
    case HostileMode::smtp_banner:
      send_now(c, "220 mail ESMTP\r\n", After::hold);
      return;
    case HostileMode::immediate_close:
      send_now(c, "", After::fin);
      return;
    default:
      break;
    }
    if (!hello)
      return;
    const std::uint16_t v = hello->version;
    switch (mode) {
    case HostileMode::http_banner:
      send_now(c,
               "HTTP/1.1 400 Bad Request\r\nServer: hostile\r\nContent-Length: 11\r\n"
               "Connection: close\r\n\r\nbad request",
               After::fin);
      return;
    case HostileMode::huge_length:
    case HostileMode::huge_length_slow: {
      Bytes b{"\x16\x03\x03\x40\x00\x02\xFF\xFF\xFF", 9}; // 16 KiB record, 16 MiB ServerHello
      b[2] = static_cast<char>(v & 0xFF);
      send_now(c, std::move(b), After::hold);
      if (mode == HostileMode::huge_length_slow) {
        c.drip_every = std::chrono::milliseconds(100);
        c.next_drip = Clock::now() + c.drip_every;
      }
      return;
    }
    case HostileMode::truncated_hello: {
      Bytes b = records(22, v, server_hello_message(v, offered_suite(*hello)));
      b.resize(30);
      send_now(c, std::move(b), After::fin);
      return;
    }
    case HostileMode::unoffered_cipher:
      send_now(c, records(22, v, server_hello_message(v, unoffered_suite(*hello))), After::hold);
      return;
    case HostileMode::alert_flood:
      c.flood = true;
      return;
    case HostileMode::reset_in_certificate: {
      Bytes cert;
      cert.push_back(11);
      put24(cert, 5000);
      put24(cert, 4997);
      put24(cert, 4994);
      cert.resize(1000, '\x30');
      Bytes b = records(22, v, server_hello_message(v, offered_suite(*hello)));
      // One record announcing the whole 5 004-byte message, cut after 1 000 bytes.
      b += Bytes{"\x16\x03\x03", 3};
      b.back() = static_cast<char>(v & 0xFF);
      put16(b, 5004);
      b += cert;
      send_now(c, std::move(b), After::reset);
      return;
    }
    case HostileMode::huge_chain:
    case HostileMode::huge_san: {
      // The ServerHello in its own record, then the Certificate records framed
      // once per record version and shared by every connection.
      auto& framed = certificate_records[v];
      if (!framed)
        framed = std::make_shared<const Bytes>(records(22, v, *m_certificate_msg));
      send_now(c, records(22, v, server_hello_message(v, offered_suite(*hello))), After::hold);
      c.next = framed;
      return;
    }
    default:
      return;
    }
  };

  for (;;) {
    std::vector<pollfd> fds = m_listener.poll_head();
    auto now = Clock::now();
    int timeout_ms = 1000;
    for (const auto& c : conns) {
      short ev = POLLIN;
      bool pending_out = (c.out && c.out_pos < c.out->size()) || c.flood;
      if (pending_out)
        ev |= POLLOUT;
      fds.push_back({c.fd, ev, 0});
      if (c.drip_every.count() > 0 && !pending_out) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(c.next_drip - now);
        timeout_ms = std::clamp(static_cast<int>(wait.count()), 0, timeout_ms);
      }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR)
      break;
    if (fds[0].revents)
      break;
    std::size_t polled = fds.size() - 2;
    now = Clock::now();
    for (std::size_t i = 0; i < polled; ++i) {
      Conn& c = conns[i];
      short rev = fds[i + 2].revents;
      if (rev & (POLLIN | POLLHUP | POLLERR)) {
        char buf[16384];
        ssize_t n = ::read(c.fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          ::close(c.fd);
          c.fd = -1;
          continue;
        }
        if (n > 0 && !c.triggered) {
          if (c.in.size() < 65536)
            c.in.append(buf, static_cast<std::size_t>(n));
          if (complete_hello(c.in) > 0) {
            Hello h = read_hello(c.in);
            trigger(c, &h);
          }
        }
      }
      if (c.drip_every.count() > 0 && (!c.out || c.out_pos >= c.out->size()) &&
          now >= c.next_drip) {
        // drip: a record header announcing 16 KiB, then zeros; slow: zeros.
        static const char header[] = {0x16, 0x03, 0x03, 0x40, 0x00};
        char b = (mode == HostileMode::drip && c.dripped < 5) ? header[c.dripped] : 0;
        if (::send(c.fd, &b, 1, MSG_NOSIGNAL) == 1)
          ++c.dripped;
        c.next_drip = now + c.drip_every;
      }
      if (c.flood && (!c.out || c.out_pos >= c.out->size())) {
        static const auto alerts = [] {
          Bytes a;
          for (int k = 0; k < 9000; ++k)
            a += Bytes{"\x15\x03\x03\x00\x02\x01\x5A", 7}; // warning user_canceled
          return std::make_shared<const Bytes>(std::move(a));
        }();
        c.out = alerts; // again and again, whole records only
        c.out_pos = 0;
        c.finished = true;
      }
      if (c.out && c.out_pos < c.out->size() && (rev & POLLOUT)) {
        ssize_t n =
            ::send(c.fd, c.out->data() + c.out_pos, c.out->size() - c.out_pos, MSG_NOSIGNAL);
        if (n > 0)
          c.out_pos += static_cast<std::size_t>(n);
        else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          ::close(c.fd);
          c.fd = -1;
          continue;
        }
      }
      if (c.out && c.out_pos >= c.out->size() && c.next) {
        c.out = std::move(c.next);
        c.out_pos = 0;
        c.next.reset();
        continue; // written when the socket is next writable
      }
      if (c.out && c.out_pos >= c.out->size() && !c.finished) {
        c.finished = true;
        if (c.after == After::fin) {
          ::shutdown(c.fd, SHUT_WR);
        } else if (c.after == After::reset) {
          linger l{1, 0};
          ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
          ::close(c.fd);
          c.fd = -1;
          continue;
        }
      }
    }
    std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
    if (fds[1].revents & POLLIN) {
      for (int fd : m_listener.accept_all()) {
        Conn c;
        c.fd = fd;
        trigger(c, nullptr);
        if (mode == HostileMode::immediate_close) {
          ::close(fd);
          continue;
        }
        // Modes that wait for the ClientHello are not triggered yet.
        switch (mode) {
        case HostileMode::garbage:
        case HostileMode::drip:
        case HostileMode::ssh_banner:
        case HostileMode::smtp_banner:
          break;
        default:
          c.triggered = false;
        }
        conns.push_back(std::move(c));
      }
    }
  }
  for (auto& c : conns)
    if (c.fd >= 0)
      ::close(c.fd);
}

} // namespace edgeshake::testing
