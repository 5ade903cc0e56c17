// One probe = non-blocking TCP connect -> SSL_set_fd on the native handle ->
// ERR_clear_error(); SSL_do_handshake() awaiting readiness on WANT_READ /
// WANT_WRITE -> (optionally) one HTTP/1.1 request, all as a C++20 coroutine on
// the caller's io_context, under one deadline per probe. start() schedules
// every spec at once within the RunLimits caps; results keep spec order.
#include "handshake/detail.hpp"
#include "handshake/wire_probe.hpp"

// g++ 12 misreports asio's awaitable frame allocator (operator new/delete
// pairs of awaitable_frame_base) as mismatched: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <deque>
#include <exception>
#include <map>

namespace edgeshake::handshake {

// The budget several runs share (scan). Runs that find it exhausted register a
// waker; every release wakes them all (posted), and those still blocked
// register again. It also carries the SSL_CTX cache those runs share.
class SharedBudget {
public:
  SharedBudget(int max_total, int max_per) : m_max_total(max_total), m_max_per(max_per) {}
  bool full() const { return m_in_flight >= m_max_total; }
  bool try_acquire(const std::string& address) {
    if (full())
      return false;
    int& n = m_per_address[address];
    if (n >= m_max_per)
      return false;
    ++n;
    ++m_in_flight;
    return true;
  }
  void release(const std::string& address) {
    --m_in_flight;
    if (auto it = m_per_address.find(address); it != m_per_address.end() && --it->second <= 0)
      m_per_address.erase(it);
    m_wake = true;
  }
  void wait(std::function<void()> waker) { m_waiters.push_back(std::move(waker)); }
  // Called by a run after it released: wake as many waiters as there are free
  // slots, oldest first (they re-check; one that still cannot start, held by
  // the per-address cap, waits again at the back). Waking every waiter on every
  // release made each release cost as much as the number of runs waiting: 250
  // of them in a scan at --concurrency 256.
  void wake(asio::io_context& io) {
    if (!m_wake || m_waiters.empty())
      return;
    m_wake = false;
    for (int free = m_max_total - m_in_flight; free > 0 && !m_waiters.empty(); --free) {
      asio::post(io, std::move(m_waiters.front()));
      m_waiters.pop_front();
    }
  }

private:
  int m_max_total;
  int m_max_per;
  int m_in_flight = 0;
  bool m_wake = false;
  std::map<std::string, int> m_per_address;
  std::deque<std::function<void()>> m_waiters;

public:
  // SSL_CTX and trust stores, built once for every run that shares the budget.
  detail::ContextCache cache;
};

std::shared_ptr<SharedBudget> make_shared_budget(int max_in_flight, int max_per_address) {
  return std::make_shared<SharedBudget>(std::max(1, max_in_flight), std::max(1, max_per_address));
}

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto k_use = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t k_max_http_bytes = 16 * 1024;
constexpr std::size_t k_max_first_bytes = 256;
constexpr std::size_t k_max_error_queue = 16;
// After a TLS 1.3 handshake in which the server asked for a client
// certificate, how long to wait for its verdict (an alert such as 116
// certificate_required arrives only after our Finished).
constexpr milliseconds k_post_handshake_settle{1500};

milliseconds since(Clock::time_point from, Clock::time_point to = Clock::now()) {
  return std::chrono::duration_cast<milliseconds>(to - from);
}

// Everything the coroutine, the deadline timer and OpenSSL's message callback share.
struct ProbeState {
  explicit ProbeState(asio::io_context& io) : socket(io), deadline(io), soft(io) {}
  tcp::socket socket;
  asio::steady_timer deadline; // the probe's whole budget
  asio::steady_timer soft;     // shorter waits (post-handshake settle)
  bool timed_out = false;      // deadline reached
  bool soft_expired = false;
  unsigned soft_generation = 0;
  // Filled by the message callback (no exceptions may escape it).
  std::optional<Alert> alert;
  std::string first_record; // header of the first record received
  bool cert_request_seen = false;
  bool client_cert_sent = false;
};

void on_message(int write_p, int /*version*/, int content_type, const void* buf, size_t len,
                SSL* /*ssl*/, void* arg) noexcept {
  auto* st = static_cast<ProbeState*>(arg);
  const auto* p = static_cast<const unsigned char*>(buf);
  try {
    if (content_type == SSL3_RT_HEADER && !write_p) {
      if (st->first_record.empty())
        st->first_record.assign(reinterpret_cast<const char*>(p), len < 5 ? len : 5);
    } else if (content_type == SSL3_RT_ALERT && len >= 2) {
      Alert a;
      a.received = write_p == 0;
      a.level = p[0];
      a.code = p[1];
      a.name = std::string(detail::alert_name(p[1]));
      if (!st->alert || (st->alert->level != 2 && a.level == 2))
        st->alert = std::move(a);
    } else if (content_type == SSL3_RT_HANDSHAKE && len >= 4) {
      if (!write_p && p[0] == SSL3_MT_CERTIFICATE_REQUEST)
        st->cert_request_seen = true;
      // An empty Certificate message is 7 (TLS <= 1.2) or 8 (TLS 1.3) bytes.
      if (write_p && p[0] == SSL3_MT_CERTIFICATE && len > 8)
        st->client_cert_sent = true;
    }
  } catch (...) {
    // Out of memory inside OpenSSL's callback: drop the observation.
  }
}

enum class Wait { ready, timeout, soft_timeout, error };

// Await readiness of the socket, bounded by the probe deadline and optionally
// by `soft_until` (an earlier, non-fatal limit).
asio::awaitable<Wait> wait_for(std::shared_ptr<ProbeState> st, tcp::socket::wait_type what,
                               std::optional<Clock::time_point> soft_until = {}) {
  if (st->timed_out)
    co_return Wait::timeout;
  const unsigned generation = ++st->soft_generation;
  st->soft_expired = false;
  if (soft_until) {
    st->soft.expires_at(*soft_until);
    st->soft.async_wait([st, generation](const std::error_code& ec) {
      if (!ec && st->soft_generation == generation) {
        st->soft_expired = true;
        std::error_code ignored;
        st->socket.cancel(ignored);
      }
    });
  }
  auto [ec] = co_await st->socket.async_wait(what, k_use);
  ++st->soft_generation; // a late soft-timer handler must not cancel the next wait
  if (soft_until)
    st->soft.cancel();
  if (st->timed_out)
    co_return Wait::timeout;
  if (st->soft_expired)
    co_return Wait::soft_timeout;
  co_return ec ? Wait::error : Wait::ready;
}

std::vector<std::string> drain_error_queue(std::vector<unsigned long>* codes = nullptr) {
  std::vector<std::string> out;
  const char* file = nullptr;
  const char* func = nullptr;
  int line = 0;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long e = ERR_get_error_all(&file, &line, &func, &data, &flags)) {
    if (out.size() >= k_max_error_queue)
      continue;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    std::string text = buf;
    if (data && (flags & ERR_TXT_STRING) && *data)
      text += std::string(" (") + data + ")";
    out.push_back(std::move(text));
    if (codes)
      codes->push_back(e);
  }
  return out;
}

// The chain as sent (the first 32 certificates' facts, from the run's cache),
// and the SHA-256 of every certificate, for the verdict cache.
std::vector<std::string> collect_chain(SSL* ssl, ProbeResult& r, detail::CertFactsCache& facts) {
  std::vector<std::string> digests;
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  if (!chain)
    return digests;
  const int n = sk_X509_num(chain);
  for (int i = 0; i < n; ++i) {
    X509* cert = sk_X509_value(chain, i);
    digests.push_back(detail::certificate_digest(cert));
    if (i < 32)
      r.chain.push_back(facts.describe(cert, digests.back()));
  }
  return digests;
}

void collect_ca_names(SSL* ssl, ProbeResult& r) {
  // On a client this is the list the server sent (CertificateRequest's
  // certificate_authorities), for TLS 1.2 and 1.3 alike.
  const STACK_OF(X509_NAME)* names = SSL_get_client_CA_list(ssl);
  if (!names)
    return;
  for (int i = 0; i < sk_X509_NAME_num(names) && i < 64; ++i)
    r.client_ca_names.push_back(detail::name_line(sk_X509_NAME_value(names, i)));
}

// Read whatever else the non-TLS peer sent after the 5 bytes OpenSSL consumed.
std::string more_plain_bytes(int fd, std::size_t want) {
  std::string out(want, '\0');
  ssize_t n = ::recv(fd, out.data(), want, MSG_DONTWAIT);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

asio::awaitable<void> do_http(std::shared_ptr<ProbeState> st, SSL* ssl, ProbeResult& r) {
  const std::string host = !r.spec.http_host.empty() ? r.spec.http_host
                           : !r.spec.host.empty()    ? r.spec.host
                                                     : r.spec.target.address;
  const std::string request = detail::http_request(host);
  r.http.status = HttpStatus::error;
  std::size_t written = 0;
  while (written < request.size()) {
    ERR_clear_error();
    const int n =
        SSL_write(ssl, request.data() + written, static_cast<int>(request.size() - written));
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    const int err = SSL_get_error(ssl, n);
    Wait w = Wait::error;
    if (err == SSL_ERROR_WANT_WRITE)
      w = co_await wait_for(st, tcp::socket::wait_write);
    else if (err == SSL_ERROR_WANT_READ)
      w = co_await wait_for(st, tcp::socket::wait_read);
    if (w == Wait::timeout) {
      r.http.status = HttpStatus::timeout;
      co_return;
    }
    if (w != Wait::ready) {
      r.http.status = HttpStatus::error;
      for (auto& e : drain_error_queue())
        r.error_queue.push_back(std::move(e));
      co_return;
    }
  }
  const auto sent_at = Clock::now();
  std::string raw;
  char buf[4096];
  for (;;) {
    ERR_clear_error();
    const int n = SSL_read(ssl, buf, sizeof buf);
    if (n > 0) {
      if (raw.empty())
        r.timings.first_byte = since(sent_at);
      raw.append(buf, static_cast<std::size_t>(std::min<std::size_t>(
                          static_cast<std::size_t>(n), k_max_http_bytes - raw.size())));
      const auto head_end = raw.find("\r\n\r\n");
      if (raw.size() >= k_max_http_bytes ||
          (head_end != std::string::npos && raw.size() >= head_end + 4 + 512))
        break;
      continue;
    }
    const int err = SSL_get_error(ssl, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      const Wait w = co_await wait_for(st, err == SSL_ERROR_WANT_READ ? tcp::socket::wait_read
                                                                      : tcp::socket::wait_write);
      if (w == Wait::ready)
        continue;
      HttpResponse parsed = detail::parse_http_response(raw);
      r.http = parsed;
      r.http.status = w == Wait::timeout ? HttpStatus::timeout : HttpStatus::error;
      co_return;
    }
    // Closed (close_notify, FIN) or failed.
    auto queue = drain_error_queue();
    if (raw.empty()) {
      r.http.status = (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL)
                          ? HttpStatus::closed
                          : HttpStatus::error;
      for (auto& e : queue)
        r.error_queue.push_back(std::move(e));
      co_return;
    }
    break;
  }
  r.http = detail::parse_http_response(raw);
}

asio::awaitable<ProbeResult> probe_one(ProbeSpec spec, detail::ContextCache& cache) {
  ProbeResult r;
  r.spec = std::move(spec);
  const ProbeSpec& s = r.spec;
  const auto start = Clock::now();
  detail::Observation obs;
  auto finish = [&r, &obs, start] {
    auto c = detail::classify(obs);
    r.status = c.status;
    r.phase = c.phase;
    if (r.reason.empty())
      r.reason = c.reason;
    r.alert = obs.alert;
    r.timings.total = since(start);
  };

  const detail::CtxEntry& entry = cache.context(s);
  std::string store_error;
  const std::string trust_path = detail::trust_store_path(s);
  if (!entry.ctx) {
    obs.client_setup_failed = true;
    obs.client_setup_error = entry.error;
    finish();
    co_return r;
  }
  std::error_code ec;
  const auto address = asio::ip::make_address(s.target.address, ec);
  if (ec) {
    obs.client_setup_failed = true;
    obs.client_setup_error = "not an IP address: '" + s.target.address + "'";
    finish();
    co_return r;
  }

  auto executor = co_await asio::this_coro::executor;
  auto& io = static_cast<asio::io_context&>(asio::query(executor, asio::execution::context));
  auto st = std::make_shared<ProbeState>(io);
  st->deadline.expires_at(start + s.timeout);
  st->deadline.async_wait([st](const std::error_code& e) {
    if (!e) {
      st->timed_out = true;
      std::error_code ignored;
      st->socket.cancel(ignored);
    }
  });
  struct Cleanup {
    std::shared_ptr<ProbeState> st;
    SSL* ssl = nullptr;
    ~Cleanup() {
      if (ssl)
        SSL_free(ssl);
      std::error_code ignored;
      st->deadline.cancel();
      st->soft.cancel();
      st->socket.close(ignored);
    }
  } cleanup{st};

  // --- connect ---
  // connect(2) by hand on asio's socket, then a wait for writability and
  // SO_ERROR: asio's async_connect costs an ioctl(FIONBIO) and a poll(2) more
  // per connection, which a scan of 13 probes per site pays thousands of times
  // a second (bench/README.md, scan). open() rather than assign(): an assigned
  // descriptor also costs an EPOLL_CTL_DEL when closed.
  const tcp::endpoint endpoint(address, s.target.port);
  auto connect_failed = [&](int err) {
    obs.connect_timed_out = st->timed_out;
    obs.connect_errno = err;
    obs.connect_error = std::system_category().message(err);
    finish();
  };
  st->socket.open(endpoint.protocol(), ec);
  if (!ec)
    st->socket.non_blocking(true, ec);
  if (ec) {
    connect_failed(ec.value());
    co_return r;
  }
  st->socket.set_option(tcp::no_delay(true), ec);
  const int fd = st->socket.native_handle();
  const int connect_rc = ::connect(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size()));
  const int connect_errno = connect_rc == 0 ? 0 : errno;
  if (connect_rc != 0 && connect_errno != EINPROGRESS) {
    connect_failed(connect_errno);
    co_return r;
  }
  if (connect_rc != 0) {
    const Wait w = co_await wait_for(st, tcp::socket::wait_write);
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (w != Wait::ready)
      so_error = w == Wait::timeout ? ETIMEDOUT : ECANCELED;
    else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
      so_error = errno;
    if (so_error != 0 || st->timed_out) {
      connect_failed(so_error);
      co_return r;
    }
  }
  obs.connected = true;
  const auto connected_at = Clock::now();
  r.timings.connect = since(start, connected_at);

  // --- TLS handshake ---
  SSL* ssl = SSL_new(entry.ctx.get());
  cleanup.ssl = ssl;
  if (!ssl || SSL_set_fd(ssl, st->socket.native_handle()) != 1) {
    obs.client_setup_failed = true;
    obs.client_setup_error = "SSL_new/SSL_set_fd failed";
    finish();
    co_return r;
  }
  SSL_set_connect_state(ssl);
  SSL_set_msg_callback(ssl, on_message);
  SSL_set_msg_callback_arg(ssl, st.get());
  if (s.profile->openssl.status_request)
    SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
  if (s.sni && !s.sni->empty()) {
    SSL_set_tlsext_host_name(ssl, s.sni->c_str());
    r.sni_sent = true;
  }
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
      obs.handshake_done = true;
      break;
    }
    const int err = SSL_get_error(ssl, rc);
    const int saved_errno = errno;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      const Wait w = co_await wait_for(st, err == SSL_ERROR_WANT_READ ? tcp::socket::wait_read
                                                                      : tcp::socket::wait_write);
      if (w == Wait::ready)
        continue;
      obs.handshake_timed_out = w == Wait::timeout;
      obs.ssl_error = err;
      break;
    }
    obs.ssl_error = err;
    obs.sys_errno = err == SSL_ERROR_SYSCALL ? saved_errno : 0;
    r.error_queue = drain_error_queue(&obs.error_codes);
    break;
  }
  const auto handshake_at = Clock::now();
  obs.alert = st->alert;
  obs.first_record = st->first_record;
  if (!detail::looks_like_tls(st->first_record)) {
    r.first_bytes = detail::printable_excerpt(
        st->first_record + more_plain_bytes(st->socket.native_handle(), k_max_first_bytes),
        k_max_first_bytes);
  }

  // Whatever the outcome, keep what was observed.
  const auto digests = collect_chain(ssl, r, cache.facts());
  r.client_cert_requested = st->cert_request_seen;
  if (r.client_cert_requested)
    collect_ca_names(ssl, r);

  if (obs.handshake_done) {
    r.timings.handshake = since(connected_at, handshake_at);
    r.version = detail::negotiated_version(ssl);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
      r.cipher = SSL_CIPHER_get_name(cipher);
      if (const char* iana = SSL_CIPHER_standard_name(cipher))
        r.cipher_iana = iana;
    }
    r.group = detail::negotiated_group(ssl);
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    if (alpn && alpn_len)
      r.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
    const unsigned char* ocsp = nullptr;
    r.ocsp_stapled = SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp) > 0 && ocsp;
    r.session_reused = SSL_session_reused(ssl) == 1;

    // TLS 1.3: the server judges our certificate after our Finished; give it
    // a moment to say no (alert 116 certificate_required, 42 bad_certificate...).
    if (r.version == TlsVersion::tls1_3 && st->cert_request_seen) {
      const auto settle_until = std::min(Clock::now() + k_post_handshake_settle, start + s.timeout);
      for (;;) {
        char byte = 0;
        ERR_clear_error();
        const int n = SSL_peek(ssl, &byte, 1);
        if (n > 0)
          break;
        const int err = SSL_get_error(ssl, n);
        if (err == SSL_ERROR_WANT_READ) {
          const Wait w = co_await wait_for(st, tcp::socket::wait_read, settle_until);
          if (w == Wait::ready)
            continue;
          break; // quiet: accepted (or the deadline: the handshake itself is done)
        }
        if (st->alert && st->alert->received && st->alert->level == 2) {
          obs.handshake_done = false;
          obs.alert = st->alert;
          obs.ssl_error = err;
          r.error_queue = drain_error_queue(&obs.error_codes);
        } else {
          drain_error_queue();
        }
        break;
      }
    }
  }
  r.client_cert_sent = st->client_cert_sent;

  // Our own verification of the chain as sent.
  if (!r.chain.empty()) {
    auto store = cache.store(trust_path, store_error);
    r.verification = detail::verify_chain(SSL_get_peer_cert_chain(ssl), store.get(), s.host,
                                          trust_path, &cache.verdicts(), &digests);
    if (!store_error.empty())
      r.verification.text = store_error;
  } else {
    r.verification.host = s.host;
    r.verification.trust_store = trust_path;
  }

  finish();
  if (r.status == ProbeStatus::ok && s.http) {
    r.phase = ProbePhase::http;
    co_await do_http(st, ssl, r);
    // A TLS 1.3 server may refuse us only now (e.g. certificate_required).
    if (r.http.code == 0 && st->alert && st->alert->received && st->alert->level == 2 &&
        r.version == TlsVersion::tls1_3) {
      obs.handshake_done = false;
      obs.alert = st->alert;
      r.reason.clear();
      finish();
    } else {
      r.phase = ProbePhase::done;
      r.timings.total = since(start);
    }
  }
  if (r.status == ProbeStatus::ok) {
    ERR_clear_error();
    SSL_shutdown(ssl); // best effort close_notify; never waited for
    ERR_clear_error();
  }
  co_return r;
}

// The run: every spec scheduled at once, within the global and per-address caps.
struct Run : std::enable_shared_from_this<Run> {
  Run(asio::io_context& io_, std::vector<ProbeSpec> specs_, RunLimits limits_,
      std::function<void(std::vector<ProbeResult>)> on_done_)
      : io(io_), specs(std::move(specs_)), limits(limits_), on_done(std::move(on_done_)),
        results(specs.size()) {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      pending.push_back(i);
      addresses.push_back(specs[i].target.address);
      // A run has few distinct addresses (one per origin): a linear search.
      const auto known = std::find(addresses.begin(), addresses.end() - 1, addresses.back());
      address_slot.push_back(static_cast<std::size_t>(known - addresses.begin()));
    }
    in_flight_at.assign(specs.size(), 0);
  }
  asio::io_context& io;
  // A spec is moved into its probe when launched (a ProbeSpec carries a whole
  // profile; copying it per probe was 3 % of a scan), so its address and label
  // are kept apart for the bookkeeping after.
  std::vector<ProbeSpec> specs;
  std::vector<std::string> addresses;
  std::vector<std::size_t> address_slot; // index of the first spec with the same address
  std::vector<int> in_flight_at;         // probes in flight per address slot
  RunLimits limits;
  std::function<void(std::vector<ProbeResult>)> on_done;
  std::vector<ProbeResult> results;
  std::deque<std::size_t> pending;
  int in_flight = 0;
  bool waiting = false; // registered with limits.shared for a free slot
  std::size_t finished = 0;
  detail::ContextCache cache;

  void pump() {
    const int max_total = std::max(1, limits.max_in_flight);
    const int max_per = std::max(1, limits.max_per_address);
    bool budget_blocked = false;
    for (auto it = pending.begin(); it != pending.end() && in_flight < max_total;) {
      const std::string& addr = addresses[*it];
      if (in_flight_at[address_slot[*it]] >= max_per) {
        ++it;
        continue;
      }
      if (limits.shared && !limits.shared->try_acquire(addr)) {
        budget_blocked = true;
        if (limits.shared->full())
          break;
        ++it;
        continue;
      }
      const std::size_t index = *it;
      it = pending.erase(it);
      launch(index);
    }
    if (budget_blocked && !waiting) {
      waiting = true;
      auto self = shared_from_this();
      limits.shared->wait([self] {
        self->waiting = false;
        self->pump();
      });
    }
  }

  void launch(std::size_t index) {
    ++in_flight;
    ++in_flight_at[address_slot[index]];
    auto self = shared_from_this();
    ProbeSpec fallback; // what an internal error reports as its spec
    fallback.label = specs[index].label;
    fallback.target = specs[index].target;
    fallback.host = specs[index].host;
    auto& contexts = limits.shared ? limits.shared->cache : cache;
    const bool wire = specs[index].engine == Engine::wire;
    asio::co_spawn(
        io,
        wire ? detail::probe_wire(std::move(specs[index]), contexts)
             : probe_one(std::move(specs[index]), contexts),
        [self, index, fallback = std::move(fallback)](std::exception_ptr e, ProbeResult r) mutable {
          if (e) {
            r = ProbeResult{};
            r.spec = std::move(fallback);
            r.status = ProbeStatus::client_error;
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& ex) {
              r.reason = std::string("internal error: ") + ex.what();
            } catch (...) {
              r.reason = "internal error";
            }
          }
          self->complete(index, std::move(r));
        });
  }

  void complete(std::size_t index, ProbeResult r) {
    results[index] = std::move(r);
    --in_flight;
    --in_flight_at[address_slot[index]];
    auto shared = limits.shared;
    if (shared)
      shared->release(addresses[index]);
    if (++finished == specs.size()) {
      auto done = std::move(on_done);
      done(std::move(results));
    } else {
      pump();
    }
    if (shared)
      shared->wake(io); // the slot this probe freed, if this run did not reuse it
  }
};

} // namespace

void start(asio::io_context& io, std::vector<ProbeSpec> specs, RunLimits limits,
           std::function<void(std::vector<ProbeResult>)> on_done) {
  // OpenSSL writes with write(2): a peer that closes before our ClientHello is
  // written would raise SIGPIPE and kill the process (tests/hostile, immediate_close).
  static const bool sigpipe_ignored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)sigpipe_ignored;
  if (specs.empty()) {
    asio::post(io, [cb = std::move(on_done)] { cb({}); });
    return;
  }
  auto run = std::make_shared<Run>(io, std::move(specs), limits, std::move(on_done));
  asio::post(io, [run] { run->pump(); });
}

std::vector<ProbeResult> run(std::vector<ProbeSpec> specs, RunLimits limits) {
  asio::io_context io;
  std::vector<ProbeResult> out;
  start(io, std::move(specs), limits, [&out](std::vector<ProbeResult> r) { out = std::move(r); });
  io.run();
  return out;
}

} // namespace edgeshake::handshake
