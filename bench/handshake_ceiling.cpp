// handshake_ceiling: the handshake rate a minimal OpenSSL client reaches against
// a server on this machine (the ceiling for bench/scan.sh), round-robin over the
// targets, for SECONDS. No session resumption, no certificate verification, a
// close_notify after each completed handshake. Loopback only: refuses any
// address outside 127.0.0.0/8.
//
//   handshake_ceiling [--loop] [--mix full|diagnose] CONCURRENCY SECONDS SNI IP:PORT...
//
// Two ways to run CONCURRENCY handshakes at once:
//   (default)  CONCURRENCY threads, each doing blocking handshakes back to back;
//              uses every core of the machine, like N processes would.
//   --loop     ONE thread, CONCURRENCY non-blocking connections driven by poll():
//              the same shape as edgeshake (one event loop), without its work.
// What each connection does:
//   --mix full      (default) a full handshake, any version, with SNI.
//   --mix diagnose  the 13 handshakes `edgeshake diagnose` makes per site against a
//                   TLS 1.2/1.3 origin, in turn: 5 full handshakes with any version
//                   (one without SNI), 2 pinned to TLS 1.2, 2 pinned to TLS 1.3, and
//                   4 pinned to TLS 1.0 or 1.1 that the server refuses with an alert.
//                   A refused one counts as an attempt done, as it does in scan's
//                   figures. Each sends the ClientHello options of edgeshake's
//                   Cloudflare profile (session tickets, ALPN, groups, OCSP status
//                   request); --mix full sends OpenSSL's defaults without tickets.
//
// Prints one line: "handshakes N failures F seconds S rate R full K".
//   handshakes: attempts that ended as expected (completed, or refused with an
//   alert when pinned to TLS 1.0/1.1); full: those that completed; rate: handshakes/s.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Target {
  sockaddr_in addr{};
};

bool parse(const std::string& s, Target& t) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos)
    return false;
  t.addr.sin_family = AF_INET;
  t.addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(s.c_str() + colon + 1)));
  if (inet_pton(AF_INET, s.substr(0, colon).c_str(), &t.addr.sin_addr) != 1)
    return false;
  return (ntohl(t.addr.sin_addr.s_addr) >> 24) == 127; // loopback only
}

// One kind of handshake: which context, whether SNI is sent, whether the
// server is expected to refuse it.
struct Kind {
  SSL_CTX* ctx;
  bool sni;
  bool refused;
  bool status_request = false;
};

// edge_hello: the ClientHello options edgeshake's Cloudflare profile sets
// (profiles/providers/cloudflare.toml), so that the ceiling's handshakes are
// the same exchanges as scan's: session tickets allowed (the server sends
// them), ALPN h2 + http/1.1, groups X25519:P-256:P-384, and an OCSP status
// request (set per connection, see Kind::status_request).
SSL_CTX* make_ctx(int min_version, int max_version, bool edge_hello) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (edge_hello) {
    static const unsigned char alpn[] = "\x02h2\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
  } else {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  }
  SSL_CTX_set_min_proto_version(ctx, min_version);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  if (min_version != 0 && min_version < TLS1_2_VERSION)
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0"); // let the old hello go out
  return ctx;
}

struct Counters {
  std::atomic<long> done{0}, failed{0}, full{0};
};

void count(Counters& c, const Kind& k, bool completed, bool alert) {
  if (completed)
    c.full.fetch_add(1, std::memory_order_relaxed);
  if (completed || (k.refused && alert))
    c.done.fetch_add(1, std::memory_order_relaxed);
  else
    c.failed.fetch_add(1, std::memory_order_relaxed);
}

// ---------------------------------------------------------------- threads

void blocking_handshake(const Kind& k, const Target& t, const char* sni, Counters& c) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    c.failed.fetch_add(1);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bool completed = false, alert = false;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr) == 0) {
    SSL* ssl = SSL_new(k.ctx);
    SSL_set_fd(ssl, fd);
    if (k.sni)
      SSL_set_tlsext_host_name(ssl, sni);
    if (k.status_request)
      SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
    const int rc = SSL_connect(ssl);
    completed = rc == 1;
    alert = !completed && SSL_get_error(ssl, rc) == SSL_ERROR_SSL;
    if (completed)
      SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  ERR_clear_error();
  close(fd);
  count(c, k, completed, alert);
}

// ---------------------------------------------------------------- one loop

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  std::size_t kind = 0;
  bool connecting = false;
};

class Loop {
public:
  Loop(const std::vector<Kind>& kinds, const std::vector<Target>& targets, const char* sni,
       Counters& c)
      : m_kinds(kinds), m_targets(targets), m_sni(sni), m_c(c) {}

  void run(int concurrency, double seconds) {
    std::vector<Conn> conns(static_cast<std::size_t>(concurrency));
    std::vector<pollfd> pfds(conns.size());
    const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(seconds));
    for (std::size_t i = 0; i < conns.size(); ++i)
      start(conns[i], pfds[i]);
    while (Clock::now() < until) {
      if (poll(pfds.data(), pfds.size(), 100) < 0 && errno != EINTR)
        break;
      for (std::size_t i = 0; i < conns.size(); ++i) {
        if (pfds[i].fd < 0 || pfds[i].revents == 0)
          continue;
        pfds[i].revents = 0;
        step(conns[i], pfds[i]);
      }
    }
    for (auto& conn : conns)
      drop(conn);
  }

private:
  void start(Conn& conn, pollfd& p) {
    conn.kind = m_next % m_kinds.size();
    const Target& t = m_targets[m_next % m_targets.size()];
    ++m_next;
    conn.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn.connecting = true;
    p.fd = conn.fd;
    p.events = POLLOUT;
    if (connect(conn.fd, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr) != 0 &&
        errno != EINPROGRESS)
      finish(conn, p, false, false);
  }

  void step(Conn& conn, pollfd& p) {
    if (conn.connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(conn.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0)
        return finish(conn, p, false, false);
      conn.connecting = false;
      const Kind& k = m_kinds[conn.kind];
      conn.ssl = SSL_new(k.ctx);
      SSL_set_fd(conn.ssl, conn.fd);
      if (k.sni)
        SSL_set_tlsext_host_name(conn.ssl, m_sni);
      if (k.status_request)
        SSL_set_tlsext_status_type(conn.ssl, TLSEXT_STATUSTYPE_ocsp);
      SSL_set_connect_state(conn.ssl);
    }
    const int rc = SSL_do_handshake(conn.ssl);
    if (rc == 1) {
      SSL_shutdown(conn.ssl); // best effort close_notify, never waited for
      return finish(conn, p, true, false);
    }
    const int err = SSL_get_error(conn.ssl, rc);
    if (err == SSL_ERROR_WANT_READ)
      p.events = POLLIN;
    else if (err == SSL_ERROR_WANT_WRITE)
      p.events = POLLOUT;
    else
      finish(conn, p, false, err == SSL_ERROR_SSL);
  }

  void finish(Conn& conn, pollfd& p, bool completed, bool alert) {
    count(m_c, m_kinds[conn.kind], completed, alert);
    drop(conn);
    start(conn, p);
  }

  static void drop(Conn& conn) {
    if (conn.ssl)
      SSL_free(conn.ssl);
    conn.ssl = nullptr;
    ERR_clear_error();
    if (conn.fd >= 0)
      close(conn.fd);
    conn.fd = -1;
  }

  const std::vector<Kind>& m_kinds;
  const std::vector<Target>& m_targets;
  const char* m_sni;
  Counters& m_c;
  std::size_t m_next = 0;
};

int usage() {
  std::fprintf(stderr, "usage: handshake_ceiling [--loop] [--mix full|diagnose] CONCURRENCY "
                       "SECONDS SNI IP:PORT...\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  bool loop = false;
  std::string mix = "full";
  int i = 1;
  for (; i < argc && std::strncmp(argv[i], "--", 2) == 0; ++i) {
    if (std::strcmp(argv[i], "--loop") == 0)
      loop = true;
    else if (std::strcmp(argv[i], "--mix") == 0 && i + 1 < argc)
      mix = argv[++i];
    else
      return usage();
  }
  if (argc - i < 4 || (mix != "full" && mix != "diagnose"))
    return usage();
  const int concurrency = std::atoi(argv[i]);
  const double seconds = std::atof(argv[i + 1]);
  const char* sni = argv[i + 2];
  std::vector<Target> targets;
  for (int a = i + 3; a < argc; ++a) {
    Target t;
    if (!parse(argv[a], t)) {
      std::fprintf(stderr, "handshake_ceiling: not a loopback IPv4 IP:PORT: %s\n", argv[a]);
      return 2;
    }
    targets.push_back(t);
  }
  if (concurrency < 1 || seconds <= 0)
    return usage();

  const bool edge_hello = mix == "diagnose";
  SSL_CTX* any = make_ctx(0, 0, edge_hello);
  SSL_CTX* v10 = make_ctx(TLS1_VERSION, TLS1_VERSION, edge_hello);
  SSL_CTX* v11 = make_ctx(TLS1_1_VERSION, TLS1_1_VERSION, edge_hello);
  SSL_CTX* v12 = make_ctx(TLS1_2_VERSION, TLS1_2_VERSION, edge_hello);
  SSL_CTX* v13 = make_ctx(TLS1_3_VERSION, TLS1_3_VERSION, edge_hello);
  std::vector<Kind> kinds;
  if (mix == "full")
    kinds = {{any, true, false}};
  else
    kinds = {{any, true, false}, {any, false, false}, {any, true, false}, {v10, true, true},
             {v11, true, true},  {v12, true, false},  {v13, true, false}, {v10, true, true},
             {v11, true, true},  {v12, true, false},  {v13, true, false}, {any, true, false},
             {any, true, false}};
  for (auto& k : kinds)
    k.status_request = edge_hello;

  Counters c;
  const auto start = Clock::now();
  if (loop) {
    Loop(kinds, targets, sni, c).run(concurrency, seconds);
  } else {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < concurrency; ++t)
      threads.emplace_back([&, t] {
        std::size_t next = static_cast<std::size_t>(t);
        while (!stop.load(std::memory_order_relaxed)) {
          const std::size_t n = next++;
          blocking_handshake(kinds[n % kinds.size()], targets[n % targets.size()], sni, c);
        }
      });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : threads)
      t.join();
  }
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("handshakes %ld failures %ld seconds %.2f rate %.1f full %ld\n", c.done.load(),
              c.failed.load(), took, static_cast<double>(c.done.load()) / took, c.full.load());
  for (SSL_CTX* ctx : {any, v10, v11, v12, v13})
    SSL_CTX_free(ctx);
  return 0;
}
