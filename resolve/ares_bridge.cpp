#include "resolve/ares_bridge.hpp"

#include "resolve/answer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace edgeshake::resolve {

namespace {

using Clock = std::chrono::steady_clock;

struct PendingLookup {
  asio::io_context* io = nullptr;
  std::string name;
  std::function<void(ResolveResult)> on_done;
  Clock::time_point started;
};

// Called by c-ares from inside ares_process_fd / ares_getaddrinfo / ares_destroy.
// Nothing may throw out of here.
void on_addrinfo(void* arg, int status, int timeouts, ares_addrinfo* ai) noexcept {
  std::unique_ptr<PendingLookup> p(static_cast<PendingLookup*>(arg));
  if (status == ARES_EDESTRUCTION || !p) {
    if (ai)
      ares_freeaddrinfo(ai);
    return; // channel being destroyed: the lookup is dropped
  }
  try {
    ResolveResult r = result_from_answer(p->name, status, timeouts, ai);
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - p->started);
    asio::post(*p->io,
               [cb = std::move(p->on_done), r = std::move(r)]() mutable { cb(std::move(r)); });
  } catch (...) {
    // Out of memory while copying: the lookup is lost; nothing can be reported
    // without allocating. Do not let it unwind through c-ares.
  }
  if (ai)
    ares_freeaddrinfo(ai);
}

} // namespace

AresBridge::Watcher::Watcher(asio::io_context& io, int fd, std::uint64_t gen)
    : sd(io, fd), generation(gen) {}

AresBridge::Watcher::~Watcher() {
  // c-ares owns the socket: hand it back, never close it.
  if (sd.is_open())
    sd.release();
}

AresBridge::AresBridge(asio::io_context& io) : m_io(io), m_timer(io) {}

Result<std::shared_ptr<AresBridge>> AresBridge::create(asio::io_context& io,
                                                       const BridgeOptions& options) {
  static std::once_flag once;
  static int lib_status = ARES_SUCCESS;
  std::call_once(once, [] { lib_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (lib_status != ARES_SUCCESS)
    return fail(ErrorCode::runtime, std::string("c-ares: ") + ares_strerror(lib_status));

  std::shared_ptr<AresBridge> self(new AresBridge(io));
  ares_options opts{};
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
             ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS;
  opts.sock_state_cb = &AresBridge::sock_state_cb;
  opts.sock_state_cb_data = self.get();
  opts.timeout = options.timeout_ms;
  opts.tries = options.tries;
  // NOCHECKRESP: hand SERVFAIL/REFUSED answers to us instead of silently trying
  // the next server, so the status says what the server said.
  opts.flags = ARES_FLAG_NOCHECKRESP;
  char lookups[] = "b"; // DNS only, never /etc/hosts
  opts.lookups = lookups;
  opts.domains = nullptr; // no resolv.conf search list: names are asked as given
  opts.ndomains = 0;
  int rc = ares_init_options(&self->m_channel, &opts, mask);
  if (rc != ARES_SUCCESS) {
    self->m_channel = nullptr;
    return fail(ErrorCode::runtime, std::string("c-ares init: ") + ares_strerror(rc));
  }
  if (!options.servers_csv.empty()) {
    rc = ares_set_servers_ports_csv(self->m_channel, options.servers_csv.c_str());
    if (rc != ARES_SUCCESS) {
      return fail(ErrorCode::usage,
                  "invalid resolver list '" + options.servers_csv + "': " + ares_strerror(rc),
                  "--resolver");
    }
  }
  return self;
}

AresBridge::~AresBridge() {
  shutdown();
}

void AresBridge::shutdown() {
  if (m_channel) {
    ares_channel ch = m_channel;
    ares_destroy(ch); // calls on_addrinfo(ARES_EDESTRUCTION) and sock_state_cb(fd, 0, 0)
    m_channel = nullptr;
  }
  m_watchers.clear(); // releases any descriptor c-ares did not report closed
  ++m_timer_generation;
  m_timer.cancel();
}

void AresBridge::sock_state_cb(void* data, ares_socket_t fd, int readable, int writable) noexcept {
  try {
    static_cast<AresBridge*>(data)->on_sock_state(fd, readable != 0, writable != 0);
  } catch (...) {
    // Registering the descriptor failed (out of memory, epoll refused it): the
    // query on this socket will time out in c-ares and be reported as such.
  }
}

void AresBridge::on_sock_state(int fd, bool readable, bool writable) {
  auto it = m_watchers.find(fd);
  if (!readable && !writable) {
    if (it != m_watchers.end())
      m_watchers.erase(it); // release(), pending waits complete with operation_aborted
    return;
  }
  if (it == m_watchers.end())
    it = m_watchers.emplace(fd, std::make_unique<Watcher>(m_io, fd, m_next_generation++)).first;
  it->second->want_read = readable;
  it->second->want_write = writable;
  arm(fd);
}

void AresBridge::arm(int fd) {
  auto it = m_watchers.find(fd);
  if (it == m_watchers.end())
    return;
  Watcher& w = *it->second;
  std::weak_ptr<AresBridge> weak = weak_from_this();
  std::uint64_t gen = w.generation;
  if (w.want_read && !w.read_pending) {
    w.read_pending = true;
    w.sd.async_wait(asio::posix::stream_descriptor::wait_read,
                    [weak, fd, gen](const std::error_code& ec) {
                      if (auto self = weak.lock())
                        self->on_ready(fd, gen, false, ec);
                    });
  }
  if (w.want_write && !w.write_pending) {
    w.write_pending = true;
    w.sd.async_wait(asio::posix::stream_descriptor::wait_write,
                    [weak, fd, gen](const std::error_code& ec) {
                      if (auto self = weak.lock())
                        self->on_ready(fd, gen, true, ec);
                    });
  }
}

void AresBridge::on_ready(int fd, std::uint64_t generation, bool write, const std::error_code& ec) {
  auto it = m_watchers.find(fd);
  if (it == m_watchers.end() || it->second->generation != generation)
    return; // the watcher was removed (and perhaps the fd reused) meanwhile
  Watcher& w = *it->second;
  (write ? w.write_pending : w.read_pending) = false;
  if (ec == asio::error::operation_aborted || !m_channel)
    return;
  if (write) {
    if (w.want_write)
      ares_process_fd(m_channel, ARES_SOCKET_BAD, fd);
  } else if (w.want_read) {
    ares_process_fd(m_channel, fd, ARES_SOCKET_BAD);
    // Asio's epoll is edge-triggered; c-ares reads one TCP message per call.
    // Emulate level-triggered readiness: process again while data is waiting.
    for (int i = 0; i < 64 && m_channel; ++i) {
      auto again = m_watchers.find(fd);
      if (again == m_watchers.end() || again->second->generation != generation ||
          !again->second->want_read)
        break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) != 1 || (p.revents & (POLLIN | POLLERR | POLLHUP)) == 0)
        break;
      ares_process_fd(m_channel, fd, ARES_SOCKET_BAD);
    }
  }
  arm(fd); // no-op if c-ares removed the socket meanwhile
  rearm_timer();
}

void AresBridge::rearm_timer() {
  if (!m_channel)
    return;
  timeval tv{};
  timeval* t = ares_timeout(m_channel, nullptr, &tv);
  std::uint64_t gen = ++m_timer_generation;
  if (!t) {
    m_timer.cancel();
    return;
  }
  auto wait = std::chrono::seconds(t->tv_sec) + std::chrono::microseconds(t->tv_usec);
  m_timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
  std::weak_ptr<AresBridge> weak = weak_from_this();
  m_timer.async_wait([weak, gen](const std::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec == asio::error::operation_aborted || gen != self->m_timer_generation ||
        !self->m_channel)
      return;
    ares_process_fd(self->m_channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD); // timeouts
    self->rearm_timer();
  });
}

void AresBridge::getaddrinfo(const std::string& name, std::function<void(ResolveResult)> on_done) {
  auto p = std::make_unique<PendingLookup>();
  p->io = &m_io;
  p->name = name;
  p->on_done = std::move(on_done);
  p->started = Clock::now();
  if (!m_channel) {
    ResolveResult r;
    r.name = name;
    r.status = ResolveStatus::error;
    r.detail = "resolver shut down";
    asio::post(m_io,
               [cb = std::move(p->on_done), r = std::move(r)]() mutable { cb(std::move(r)); });
    return;
  }
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;     // A and AAAA in parallel
  hints.ai_flags = ARES_AI_NOSORT; // no RFC 6724 sort (it connect()s UDP sockets)
  ares_getaddrinfo(m_channel, name.c_str(), nullptr, &hints, &on_addrinfo, p.release());
  rearm_timer();
}

} // namespace edgeshake::resolve
