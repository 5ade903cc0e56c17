// handshake_ceiling: the handshake rate a minimal OpenSSL client reaches against
// a server on this machine (the ceiling for bench/scan.sh). CONCURRENCY threads,
// each doing back-to-back full handshakes (blocking connect, SSL_connect, no
// session reuse, close_notify, close) round-robin over the targets, for
// SECONDS. Loopback only: refuses any address outside 127.0.0.0/8.
//
//   handshake_ceiling CONCURRENCY SECONDS SNI IP:PORT [IP:PORT...]
//
// Prints one line: "handshakes N failures F seconds S rate R".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

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

bool one_handshake(SSL_CTX* ctx, const Target& t, const char* sni) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bool ok = false;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, sni);
    ok = SSL_connect(ssl) == 1;
    if (ok)
      SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  ERR_clear_error();
  close(fd);
  return ok;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: handshake_ceiling CONCURRENCY SECONDS SNI IP:PORT...\n");
    return 2;
  }
  const int concurrency = std::atoi(argv[1]);
  const double seconds = std::atof(argv[2]);
  const char* sni = argv[3];
  std::vector<Target> targets;
  for (int i = 4; i < argc; ++i) {
    Target t;
    if (!parse(argv[i], t)) {
      std::fprintf(stderr, "handshake_ceiling: not a loopback IPv4 IP:PORT: %s\n", argv[i]);
      return 2;
    }
    targets.push_back(t);
  }
  if (concurrency < 1 || seconds <= 0)
    return 2;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  std::atomic<long> done{0}, failed{0};
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < concurrency; ++i) {
    threads.emplace_back([&, i] {
      std::size_t next = static_cast<std::size_t>(i);
      while (!stop.load(std::memory_order_relaxed)) {
        if (one_handshake(ctx, targets[next++ % targets.size()], sni))
          done.fetch_add(1, std::memory_order_relaxed);
        else
          failed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("handshakes %ld failures %ld seconds %.2f rate %.1f\n", done.load(), failed.load(),
              took, static_cast<double>(done.load()) / took);
  SSL_CTX_free(ctx);
  return 0;
}
