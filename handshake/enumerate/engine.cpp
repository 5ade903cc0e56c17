// The enumeration engine: remove-the-chosen-item loops over hand-built ClientHellos,
// all on one io_context, with at most spec.max_connections connections in flight.
//
// Connection budget (k = chunk loops, S = what the server accepts):
//  - per version: 2 probes (all candidates forward and reversed, concurrently) tell
//    support, the first pick and whether the server's or the client's order decides;
//    server order: one sequential loop (|S| - 1 more, found in the server's order);
//    client order: the rest split round-robin into k loops run concurrently
//    (|S| - 2 + k more), since the order carries no information then.
//  - the same loop for TLS 1.3 groups (HRR), TLS 1.2 ECDHE groups (ServerKeyExchange)
//    and ALPN (TLS <= 1.2 ServerHello).
#include "handshake/enumerate/enumerate.hpp"

#include "handshake/enumerate/connection.hpp"
#include "handshake/enumerate/tables.hpp"
#include "handshake/enumerate/wire.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>

namespace edgeshake::handshake::enumerate {

namespace {

using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using Codes = std::vector<std::uint16_t>;

constexpr const char* k_unknown_sni = "edgeshake-unknown-name.invalid";

std::string hex4(std::uint16_t v) {
  static const char* digits = "0123456789ABCDEF";
  std::string s = "0x";
  for (int shift = 12; shift >= 0; shift -= 4)
    s += digits[(v >> shift) & 0xf];
  return s;
}

std::string version_label(std::uint16_t wire) {
  switch (wire) {
  case 0x0300:
    return "SSLv3";
  case 0x0301:
    return "TLSv1";
  case 0x0302:
    return "TLSv1.1";
  case 0x0303:
    return "TLSv1.2";
  case 0x0304:
    return "TLSv1.3";
  default:
    return "version " + hex4(wire);
  }
}

std::string sha256_hex(const std::vector<std::uint8_t>& der) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(der.data(), der.size(), md, &len, EVP_sha256(), nullptr) != 1)
    return {};
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 0xf];
  }
  return out;
}

// What one connection produced.
struct Exchange {
  ProbeOutcome transport = ProbeOutcome::accepted; // accepted = a response was parsed
  ServerResponse response;
  std::chrono::milliseconds elapsed{0};
};

// One step of a remove loop: the item the server chose, or why it chose none.
struct Pick {
  std::optional<std::uint16_t> chosen;
  bool refused = false; // a clean "no" (alert, other version, no ALPN): the loop ends
  std::string detail;
};

struct LoopResult {
  Codes found;
  Preference preference = Preference::unknown;
  bool error = false;
  std::string detail; // from the first refusal or error
};

struct LoopOptions {
  // Offer the reversed list at the same time as the first offer (one round trip
  // sooner); off for versions that are rarely enabled, where the second probe is
  // usually wasted: it is then sent only after the first offer was accepted.
  bool eager_reverse = true;
  // Offer the reversed list at all (to tell server from client order).
  bool detect_order = true;
  // The answer to the forward offer, when another check already sent that hello.
  std::optional<Pick> known_forward;
};
class Engine : public std::enable_shared_from_this<Engine> {
public:
  Engine(asio::io_context& io, EnumerateSpec spec) : m_io(io) {
    m_result.spec = std::move(spec);
    if (m_result.spec.max_connections < 1)
      m_result.spec.max_connections = 1;
  }

  awaitable<EnumerateResult> run() {
    const auto start = Clock::now();
    std::vector<std::function<awaitable<void>()>> tasks;
    m_result.versions.resize(k_all_tls_versions.size());
    for (std::size_t i = 0; i < k_all_tls_versions.size(); ++i)
      tasks.push_back([this, i]() -> awaitable<void> {
        const auto v = k_all_tls_versions[i];
        // Whatever happens, the group checks waiting on this search get an answer.
        struct Publish {
          Engine* e;
          TlsVersion v;
          ~Publish() {
            if (v != TlsVersion::tls1_2 && v != TlsVersion::tls1_3)
              return;
            ProbeRecord r;
            r.outcome = ProbeOutcome::network_error;
            r.detail = "the suite search ended early";
            e->publish_first(v, r);
          }
        } publish{this, v};
        m_result.versions[i] = co_await enumerate_version(v);
      });
    tasks.push_back([this]() -> awaitable<void> { co_await groups_tls13(); });
    tasks.push_back([this]() -> awaitable<void> { co_await groups_tls12(); });
    tasks.push_back([this]() -> awaitable<void> { co_await alpn(); });
    if (m_result.spec.signature_algorithms)
      tasks.push_back([this]() -> awaitable<void> { co_await sigalgs_tls12(); });
    tasks.push_back([this]() -> awaitable<void> { co_await sni(); });
    tasks.push_back([this]() -> awaitable<void> { co_await split_hello(); });
    co_await all(std::move(tasks));
    m_result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    classify_overall();
    co_return m_result;
  }

private:
  // ------------------------------------------------------------ plumbing

  // Runs the tasks concurrently; returns when all have finished.
  awaitable<void> all(std::vector<std::function<awaitable<void>()>> tasks) {
    if (tasks.empty())
      co_return;
    auto remaining = std::make_shared<std::size_t>(tasks.size());
    auto done = std::make_shared<asio::steady_timer>(m_io, Clock::time_point::max());
    auto failure = std::make_shared<std::exception_ptr>();
    for (auto& task : tasks)
      asio::co_spawn(m_io, task(), [remaining, done, failure](std::exception_ptr e) {
        if (e && !*failure)
          *failure = e;
        if (--*remaining == 0)
          done->cancel();
      });
    std::error_code ec;
    while (*remaining > 0)
      co_await done->async_wait(asio::redirect_error(use_awaitable, ec));
    if (*failure)
      std::rethrow_exception(*failure);
  }

  // Connection slots. A released slot is handed straight to the most urgent
  // waiter (lowest priority value, then first come), so the long chains (the
  // suite searches) are not starved by single probes.
  struct Waiter {
    int priority = 0;
    std::uint64_t seq = 0;
    std::shared_ptr<asio::steady_timer> timer;
    std::shared_ptr<bool> granted;
  };

  awaitable<void> acquire(int priority) {
    if (m_in_flight < static_cast<std::size_t>(m_result.spec.max_connections) &&
        m_waiters.empty()) {
      ++m_in_flight;
    } else {
      Waiter w{priority, m_seq++,
               std::make_shared<asio::steady_timer>(m_io, Clock::time_point::max()),
               std::make_shared<bool>(false)};
      m_waiters.push_back(w);
      std::error_code ec;
      while (!*w.granted)
        co_await w.timer->async_wait(asio::redirect_error(use_awaitable, ec));
    }
    m_result.peak_in_flight = std::max(m_result.peak_in_flight, m_in_flight);
  }

  void release() {
    if (m_waiters.empty()) {
      --m_in_flight;
      return;
    }
    auto best =
        std::min_element(m_waiters.begin(), m_waiters.end(), [](const Waiter& a, const Waiter& b) {
          return a.priority != b.priority ? a.priority < b.priority : a.seq < b.seq;
        });
    auto w = *best;
    m_waiters.erase(best);
    *w.granted = true; // the slot moves to the waiter: m_in_flight is unchanged
    w.timer->cancel();
  }

  // One TCP connection: send `hello` (in two writes when split_at > 0), read
  // until the parser says it has enough, the server closes, or the deadline.
  awaitable<Exchange> exchange(std::vector<std::uint8_t> hello, ParseOptions options, int priority,
                               std::size_t split_at = 0) {
    co_await acquire(priority);
    struct Slot {
      Engine* e;
      ~Slot() { e->release(); }
    } slot{this};
    Connection connection(m_io, ConnectionSpec{m_result.spec.target, m_result.spec.timeout, 0});
    Exchange ex;
    ++m_result.connections;
    auto connected = co_await connection.connect();
    if (connected.transport != ProbeOutcome::accepted) {
      ex.transport = connected.transport;
      ex.response = std::move(connected.response);
      ex.elapsed = connection.elapsed();
      co_return ex;
    }
    co_await connection.write(hello, split_at);
    auto read = co_await connection.read(options);
    ex.transport = read.transport;
    ex.response = std::move(read.response);
    connection.close();
    ex.elapsed = connection.elapsed();
    co_return ex;
  }

  // The first (full, forward) offer of the TLS 1.2 and TLS 1.3 suite searches,
  // published for the TLS 1.3 group check: it skips an unsupported version, and
  // reuses the answer (the HRR names a group for the same hello).
  struct FirstProbe {
    bool done = false;
    ProbeRecord rec;
    std::shared_ptr<asio::steady_timer> timer;
  };
  FirstProbe& first_probe_slot(TlsVersion v) {
    auto& f = v == TlsVersion::tls1_3 ? m_first13 : m_first12;
    if (!f.timer)
      f.timer = std::make_shared<asio::steady_timer>(m_io, Clock::time_point::max());
    return f;
  }
  void publish_first(TlsVersion v, const ProbeRecord& rec) {
    auto& f = first_probe_slot(v);
    if (f.done)
      return;
    f.done = true;
    f.rec = rec;
    f.timer->cancel();
  }
  awaitable<ProbeRecord> first_probe(TlsVersion v) {
    auto& f = first_probe_slot(v);
    auto timer = f.timer;
    std::error_code ec;
    while (!f.done)
      co_await timer->async_wait(asio::redirect_error(use_awaitable, ec));
    co_return f.rec;
  }

  // Records the connection as evidence and classifies it.
  ProbeRecord record(const std::string& purpose, const Exchange& ex, std::uint16_t want_version,
                     const Codes* offered_suites) {
    ProbeRecord rec;
    rec.purpose = purpose;
    rec.elapsed = ex.elapsed;
    rec.response = to_string(ex.response.kind);
    rec.detail = ex.response.detail;
    const auto& r = ex.response;
    if (r.alert)
      rec.alert = alert_name(r.alert->description);
    if (ex.transport != ProbeOutcome::accepted) {
      rec.outcome = ex.transport;
    } else if (r.kind == ResponseKind::alert) {
      rec.outcome = ProbeOutcome::alert;
    } else if (r.kind == ResponseKind::server_hello ||
               r.kind == ResponseKind::hello_retry_request) {
      rec.version = r.version;
      rec.cipher_suite = r.cipher_suite;
      rec.group =
          r.kind == ResponseKind::server_hello && r.ecdhe_group ? r.ecdhe_group : r.key_share_group;
      if (want_version != 0 && r.version != want_version) {
        rec.outcome = ProbeOutcome::wrong_version;
        rec.detail = "answered " + version_label(r.version);
      } else if (offered_suites != nullptr &&
                 std::find(offered_suites->begin(), offered_suites->end(), r.cipher_suite) ==
                     offered_suites->end()) {
        rec.outcome = ProbeOutcome::unexpected;
        rec.detail = "chose " + hex4(r.cipher_suite) + ", which was not offered";
      } else {
        rec.outcome = ProbeOutcome::accepted;
      }
    } else {
      rec.outcome = ProbeOutcome::unexpected;
      if (rec.detail.empty())
        rec.detail = rec.response;
    }
    m_result.probes.push_back(rec);
    return rec;
  }

  static bool is_refusal(const ProbeRecord& rec) {
    return rec.outcome == ProbeOutcome::alert || rec.outcome == ProbeOutcome::wrong_version;
  }
  static std::string refusal_text(const ProbeRecord& rec) {
    if (rec.outcome == ProbeOutcome::alert && rec.alert)
      return *rec.alert;
    if (!rec.detail.empty())
      return rec.detail;
    return to_string(rec.outcome);
  }

  // ------------------------------------------------------------ the remove loop

  using Offer = std::function<awaitable<Pick>(Codes offer, std::string purpose)>;

  // Lists this short are searched in parallel when the server's order decides.
  static constexpr std::size_t k_parallel_order_max = 64;

  // Chunk loops per client-ordered search: as many as connections allowed (the
  // other checks finish within a few round trips and free their slots).
  int chunk_count() const { return std::clamp(m_result.spec.max_connections, 1, 16); }

  // `items` dealt out round-robin into k chunks (at most one per item).
  static std::vector<Codes> deal(const Codes& items, std::size_t k) {
    std::vector<Codes> chunks(std::min(k, items.size()));
    for (std::size_t i = 0; i < items.size(); ++i)
      chunks[i % chunks.size()].push_back(items[i]);
    return chunks;
  }

  // One chunk's loop: offer what is left, hand the pick to `on_pick`, drop it (in
  // the client's order also everything offered before it, which the server
  // passed over), until the server refuses or nothing is left.
  // In the client's order, once the chunk has shown it holds something, it is
  // worked from both ends at once: the forward offer yields the first acceptable
  // item, the reversed one the last, and only what lies between them is left:
  // half the round trips.
  awaitable<void> chunk_loop(Codes mine, const Offer& offer, const std::string& purpose,
                             bool client_order, LoopResult& out,
                             const std::function<void(std::uint16_t)>& on_pick) {
    auto index_of = [&mine](const Pick& p) {
      return p.chosen ? std::find(mine.begin(), mine.end(), *p.chosen) - mine.begin()
                      : static_cast<std::ptrdiff_t>(mine.size());
    };
    // The first offer is one-ended: many chunks hold nothing acceptable, and one
    // refusal says so.
    for (bool first_offer = true; !mine.empty(); first_offer = false) {
      Pick fwd, rev;
      const bool both_ends = client_order && !first_offer && mine.size() > 2;
      if (both_ends) {
        std::vector<std::function<awaitable<void>()>> two;
        two.push_back([&]() -> awaitable<void> { fwd = co_await offer(mine, purpose); });
        two.push_back([&]() -> awaitable<void> {
          rev = co_await offer(Codes(mine.rbegin(), mine.rend()), purpose);
        });
        co_await all(std::move(two));
      } else {
        fwd = co_await offer(mine, purpose);
      }
      const auto first = index_of(fwd);
      if (first == static_cast<std::ptrdiff_t>(mine.size())) {
        if (!fwd.refused) {
          out.error = true;
          out.detail = fwd.detail;
        }
        co_return;
      }
      on_pick(*fwd.chosen);
      const auto last = both_ends ? index_of(rev) : static_cast<std::ptrdiff_t>(mine.size());
      if (last < static_cast<std::ptrdiff_t>(mine.size()) && last > first) {
        on_pick(*rev.chosen);
        mine = Codes(mine.begin() + first + 1, mine.begin() + last);
      } else if (both_ends && last == first) {
        co_return; // one acceptable item: nothing before it (forward), nothing after (reversed)
      } else {
        mine.erase(client_order ? mine.begin() : mine.begin() + first, mine.begin() + first + 1);
      }
    }
  }

  // Finds every item of `candidates` the server accepts, and whose order decides.
  awaitable<LoopResult> remove_loop(Codes candidates, Offer offer, std::string purpose,
                                    LoopOptions lo = {}) {
    LoopResult out;
    if (candidates.empty())
      co_return out;
    Codes reversed(candidates.rbegin(), candidates.rend());
    Pick fwd, rev;
    const bool want_reverse = lo.detect_order && candidates.size() > 1;
    if (lo.known_forward) {
      fwd = *lo.known_forward;
      if (fwd.chosen && want_reverse)
        rev = co_await offer(reversed, purpose);
    } else if (want_reverse && lo.eager_reverse) {
      std::vector<std::function<awaitable<void>()>> two;
      two.push_back([&]() -> awaitable<void> { fwd = co_await offer(candidates, purpose); });
      two.push_back([&]() -> awaitable<void> { rev = co_await offer(reversed, purpose); });
      co_await all(std::move(two));
    } else {
      fwd = co_await offer(candidates, purpose);
      if (fwd.chosen && want_reverse)
        rev = co_await offer(reversed, purpose);
    }
    if (!fwd.chosen) {
      out.error = !fwd.refused;
      out.detail = fwd.detail;
      co_return out;
    }
    auto without = [](Codes from, const Codes& drop) {
      std::erase_if(from, [&](std::uint16_t c) {
        return std::find(drop.begin(), drop.end(), c) != drop.end();
      });
      return from;
    };
    if (!rev.chosen || rev.chosen == fwd.chosen) {
      // The server's order (or one item). A short list (groups, ALPN, TLS 1.3
      // suites) is searched in parallel chunks and ordered by comparing pairs;
      // a long one (TLS <= 1.2 suites) by a sequential loop, which finds the
      // items in the server's order at one round trip each.
      out.found.push_back(*fwd.chosen);
      Codes rest = without(candidates, out.found);
      if (rest.size() <= k_parallel_order_max) {
        co_await server_order_parallel(std::move(rest), offer, purpose, out, lo.detect_order);
      } else {
        while (!rest.empty()) {
          auto p = co_await offer(rest, purpose);
          if (!p.chosen ||
              std::find(out.found.begin(), out.found.end(), *p.chosen) != out.found.end()) {
            out.error = !p.refused;
            if (!p.refused)
              out.detail = p.detail;
            break;
          }
          out.found.push_back(*p.chosen);
          rest = without(rest, {*p.chosen});
        }
      }
      out.preference = !lo.detect_order       ? Preference::unknown
                       : out.found.size() > 1 ? Preference::server
                                              : Preference::single;
      co_return out;
    }
    // Different first picks: the client's order decides, so the server took the
    // first (forward) and the last (reversed) acceptable item of our list, and
    // only what lies between them is left to find. Deal that out round-robin into
    // chunks searched concurrently (accepted items cluster in our list, e.g. all
    // the AES-GCM suites; dealt out, each chunk holds a few and its loop is
    // short); within a chunk a pick also tells that every item offered before it
    // (in the chunk's order, which is ours) was refused.
    out.preference = Preference::client;
    const Codes known = {*fwd.chosen, *rev.chosen};
    const auto first = std::find(candidates.begin(), candidates.end(), *fwd.chosen);
    const auto last = std::find(candidates.begin(), candidates.end(), *rev.chosen);
    Codes rest;
    if (first < last)
      rest.assign(first + 1, last);
    // One chunk per 37 candidates (8 for TLS 1.2's ~300): against nginx's
    // default 27 suites at 50 ms RTT, 8 two-ended chunks took 0.54 s and 59
    // connections; 16 one-ended ones 0.67 s and 63; 16 two-ended 0.54 s and 70.
    const auto k = std::clamp<std::size_t>((rest.size() + 36) / 37, 1,
                                           static_cast<std::size_t>(chunk_count()));
    const auto chunks = deal(rest, k);
    std::vector<Codes> found(chunks.size());
    std::vector<std::function<awaitable<void>()>> loops;
    for (std::size_t c = 0; c < chunks.size(); ++c)
      loops.push_back([&, c]() -> awaitable<void> {
        co_await chunk_loop(chunks[c], offer, purpose, true, out,
                            [&found, c](std::uint16_t x) { found[c].push_back(x); });
      });
    co_await all(std::move(loops));
    Codes all_found = known;
    for (auto& f : found)
      all_found.insert(all_found.end(), f.begin(), f.end());
    // Report in the order offered (which is the order this client prefers).
    for (auto c : candidates)
      if (std::find(all_found.begin(), all_found.end(), c) != all_found.end())
        out.found.push_back(c);
    co_return out;
  }

  // Tasks spawned on the loop at any time (also from inside one another) and
  // awaited together. The group keeps each task's callable alive: a coroutine
  // lambda's captures live in the closure, not in the coroutine frame.
  class TaskGroup {
  public:
    explicit TaskGroup(asio::io_context& io) : m_io(io), m_state(std::make_shared<State>(io)) {}
    void spawn(std::function<awaitable<void>()> task) {
      ++m_state->remaining;
      m_state->tasks.push_back(std::move(task));
      asio::co_spawn(m_io, m_state->tasks.back()(), [st = m_state](std::exception_ptr e) {
        if (e && !st->failure)
          st->failure = e;
        if (--st->remaining == 0)
          st->done.cancel();
      });
    }
    awaitable<void> wait() {
      auto st = m_state;
      std::error_code ec;
      while (st->remaining > 0)
        co_await st->done.async_wait(asio::redirect_error(use_awaitable, ec));
      if (st->failure)
        std::rethrow_exception(st->failure);
    }

  private:
    struct State {
      explicit State(asio::io_context& io) : done(io, Clock::time_point::max()) {}
      std::size_t remaining = 0;
      asio::steady_timer done;
      std::exception_ptr failure;
      std::deque<std::function<awaitable<void>()>> tasks;
    };
    asio::io_context& m_io;
    std::shared_ptr<State> m_state;
  };

  // The server's order over `rest` (its favourite, already in out.found, was
  // taken out): round-robin chunks, each searched by its own loop (the server
  // picks its favourite of what a chunk offers, so a chunk's items come out in
  // the server's order). Each item found is compared at once, by an offer of
  // {a, b}, with every item already found by the other chunks, so the
  // comparisons overlap the chunk loops. Items are ranked by how many others
  // they beat; the ranks of a consistent (transitive) order are all distinct.
  // Without `order`, only the set is wanted (ALPN): no comparisons.
  awaitable<void> server_order_parallel(Codes rest, Offer offer, std::string purpose,
                                        LoopResult& out, bool order) {
    const auto k =
        std::clamp<std::size_t>((rest.size() + 3) / 4, 1, static_cast<std::size_t>(chunk_count()));
    const auto chunks = deal(rest, k);
    std::vector<Codes> found(chunks.size());
    std::map<std::uint16_t, std::set<std::uint16_t>> beats; // a -> what a is preferred to
    std::size_t compared = 0, unknown = 0;
    TaskGroup group(m_io);
    auto compare = [&](std::uint16_t a, std::uint16_t b) -> awaitable<void> {
      ++compared;
      Codes both;
      both.push_back(a);
      both.push_back(b);
      auto p = co_await offer(std::move(both), purpose);
      if (p.chosen == a)
        beats[a].insert(b);
      else if (p.chosen == b)
        beats[b].insert(a);
      else
        ++unknown;
    };
    for (std::size_t c = 0; c < chunks.size(); ++c)
      group.spawn([&, c]() -> awaitable<void> {
        co_await chunk_loop(chunks[c], offer, purpose, false, out, [&, c](std::uint16_t x) {
          for (auto earlier : found[c])
            beats[earlier].insert(x); // the chunk's earlier picks were preferred
          if (order)
            for (std::size_t d = 0; d < found.size(); ++d)
              if (d != c)
                for (auto y : found[d])
                  group.spawn([&compare, x, y]() -> awaitable<void> { co_await compare(x, y); });
          found[c].push_back(x);
        });
      });
    co_await group.wait();

    Codes items;
    for (const auto& f : found)
      items.insert(items.end(), f.begin(), f.end());
    if (order) {
      std::stable_sort(items.begin(), items.end(), [&](std::uint16_t a, std::uint16_t b) {
        return beats[a].size() > beats[b].size();
      });
      std::set<std::size_t> ranks;
      for (auto i : items)
        ranks.insert(beats[i].size());
      if ((unknown > 0 || ranks.size() != items.size()) && out.detail.empty())
        out.detail =
            "the server's order could not be fully established (" + std::to_string(unknown) +
            " of " + std::to_string(compared) + " comparisons unanswered" +
            (ranks.size() == items.size() ? "" : "; the preferences are not transitive") + ")";
    } else {
      // No order: report in the order offered.
      Codes ordered;
      for (auto c : rest)
        if (std::find(items.begin(), items.end(), c) != items.end())
          ordered.push_back(c);
      items = std::move(ordered);
    }
    out.found.insert(out.found.end(), items.begin(), items.end());
  }

  // ------------------------------------------------------------ hellos

  ClientHelloSpec base_hello(TlsVersion v) const {
    ClientHelloSpec h;
    h.sni = m_result.spec.sni;
    h.client_version = static_cast<std::uint16_t>(wire_version(v));
    h.record_version = v == TlsVersion::ssl3 ? 0x0300 : 0x0301;
    if (v == TlsVersion::ssl3) {
      h.extensions = false;
      h.sni.reset();
    }
    if (v == TlsVersion::tls1_3) {
      h.client_version = 0x0303;
      h.supported_versions = {0x0304};
      h.key_shares = std::vector<KeyShareSpec>{}; // empty: the server answers with HRR
      h.groups = candidate_groups(TlsVersion::tls1_3);
    } else if (v != TlsVersion::ssl3) {
      h.groups = candidate_groups(TlsVersion::tls1_2);
    }
    return h;
  }

  // ------------------------------------------------------------ the checks

  awaitable<VersionResult> enumerate_version(TlsVersion v) {
    VersionResult vr;
    vr.version = v;
    const auto want = static_cast<std::uint16_t>(wire_version(v));
    const std::string purpose = std::string(to_string(v)) + " cipher suites";
    Offer offer = [this, v, want](Codes suites, std::string purpose) -> awaitable<Pick> {
      auto h = base_hello(v);
      h.cipher_suites = suites;
      // Reading on to the ServerKeyExchange costs bytes, not round trips, and
      // gives the DH prime size whenever a DHE suite is picked.
      ParseOptions po;
      po.through_key_exchange = v != TlsVersion::tls1_3;
      auto ex = co_await exchange(build_client_hello(h), po, v == TlsVersion::tls1_2 ? 0 : 1);
      auto rec = record(purpose, ex, want, &suites);
      if ((v == TlsVersion::tls1_2 || v == TlsVersion::tls1_3) && suites == candidate_suites(v))
        publish_first(v, rec);
      Pick p;
      if (rec.outcome == ProbeOutcome::accepted)
        p.chosen = rec.cipher_suite;
      if (rec.outcome == ProbeOutcome::accepted && ex.response.dh_bits && v == TlsVersion::tls1_2)
        m_result.groups_tls12.dh_bits = ex.response.dh_bits;
      p.refused = is_refusal(rec);
      p.detail = refusal_text(rec);
      co_return p;
    };
    LoopOptions lo;
    lo.eager_reverse = v == TlsVersion::tls1_2 || v == TlsVersion::tls1_3;
    auto loop = co_await remove_loop(candidate_suites(v), offer, purpose, lo);
    vr.suites = loop.found;
    vr.preference = loop.found.empty() ? Preference::unknown : loop.preference;
    vr.status = !loop.found.empty() ? VersionStatus::supported
                : loop.error        ? VersionStatus::error
                                    : VersionStatus::not_supported;
    vr.detail = loop.detail;
    co_return vr;
  }

  awaitable<void> groups_tls13() {
    auto& gr = m_result.groups_tls13;
    gr.version = TlsVersion::tls1_3;
    Offer offer = [this](Codes groups, std::string purpose) -> awaitable<Pick> {
      auto h = base_hello(TlsVersion::tls1_3);
      h.cipher_suites = candidate_suites(TlsVersion::tls1_3);
      h.groups = groups;
      auto ex = co_await exchange(build_client_hello(h), {}, 1);
      auto rec = record(purpose, ex, 0x0304, nullptr);
      Pick p;
      if (rec.outcome == ProbeOutcome::accepted && rec.group &&
          std::find(groups.begin(), groups.end(), *rec.group) != groups.end())
        p.chosen = rec.group;
      p.refused = !p.chosen && is_refusal(rec);
      p.detail = rec.outcome == ProbeOutcome::accepted && !p.chosen
                     ? "server selected a group that was not offered"
                     : refusal_text(rec);
      co_return p;
    };
    const auto first = co_await first_probe(TlsVersion::tls1_3);
    if (first.outcome != ProbeOutcome::accepted) {
      gr.detail = "TLSv1.3 not accepted: " + refusal_text(first);
      co_return;
    }
    const auto all_groups = candidate_groups(TlsVersion::tls1_3);
    LoopOptions lo;
    if (first.group &&
        std::find(all_groups.begin(), all_groups.end(), *first.group) != all_groups.end()) {
      lo.known_forward = Pick{first.group, false, {}};
    }
    auto loop = co_await remove_loop(all_groups, offer, "TLSv1.3 groups", lo);
    gr.tested = !loop.found.empty();
    gr.groups = loop.found;
    gr.preference = loop.found.empty() ? Preference::unknown : loop.preference;
    gr.detail = loop.detail;
  }

  // The TLS 1.2 suites whose IANA names start with one of `prefixes` (no PSK).
  static Codes tls12_suites(std::initializer_list<std::string_view> prefixes) {
    Codes out;
    for (auto c : candidate_suites(TlsVersion::tls1_2)) {
      const auto name = find_cipher_suite(c)->iana_name;
      if (name.find("_PSK_") != std::string_view::npos)
        continue;
      for (auto prefix : prefixes)
        if (name.starts_with(prefix)) {
          out.push_back(c);
          break;
        }
    }
    return out;
  }

  // The offer of a TLS 1.2 check the ServerKeyExchange answers: `suites`, with
  // `apply` putting the offered items into the hello and `read` taking the
  // server's pick from the response (`unread`: why, when it names none).
  Offer key_exchange_offer(Codes suites, int priority,
                           std::function<void(ClientHelloSpec&, const Codes&)> apply,
                           std::function<std::optional<std::uint16_t>(const ServerResponse&)> read,
                           std::string unread) {
    return [this, suites, priority, apply, read, unread](Codes items,
                                                         std::string purpose) -> awaitable<Pick> {
      auto h = base_hello(TlsVersion::tls1_2);
      h.cipher_suites = suites;
      apply(h, items);
      ParseOptions po;
      po.through_key_exchange = true;
      auto ex = co_await exchange(build_client_hello(h), po, priority);
      auto rec = record(purpose, ex, 0x0303, &suites);
      Pick p;
      const auto got = read(ex.response);
      if (rec.outcome == ProbeOutcome::accepted && got &&
          std::find(items.begin(), items.end(), *got) != items.end())
        p.chosen = got;
      p.refused = !p.chosen && is_refusal(rec);
      p.detail = rec.outcome == ProbeOutcome::accepted && !p.chosen ? unread : refusal_text(rec);
      co_return p;
    };
  }

  // (The DHE prime size comes from the TLS 1.2 suite search.) Not waiting for
  // that search: the group order is often the server's, so this starts at once.
  awaitable<void> groups_tls12() {
    auto& gr = m_result.groups_tls12;
    gr.version = TlsVersion::tls1_2;
    const Offer offer = key_exchange_offer(
        tls12_suites({"TLS_ECDHE_"}), 1,
        [](ClientHelloSpec& h, const Codes& groups) { h.groups = groups; },
        [](const ServerResponse& r) { return r.ecdhe_group; },
        "no ECDHE group in the ServerKeyExchange");
    auto loop =
        co_await remove_loop(candidate_groups(TlsVersion::tls1_2), offer, "TLSv1.2 ECDHE groups");
    gr.tested = !loop.found.empty();
    gr.groups = loop.found;
    gr.preference = loop.found.empty() ? Preference::unknown : loop.preference;
    gr.detail = loop.found.empty() ? "no ECDHE suite accepted with TLSv1.2" : loop.detail;
  }

  awaitable<void> alpn() {
    auto& ar = m_result.alpn;
    const auto names = alpn_candidates();
    Codes ids;
    for (std::size_t i = 0; i < names.size(); ++i)
      ids.push_back(static_cast<std::uint16_t>(i));
    bool rejected = false;
    Offer offer = [this, names, &rejected](Codes which, std::string purpose) -> awaitable<Pick> {
      auto h = base_hello(TlsVersion::tls1_2);
      h.cipher_suites = candidate_suites(TlsVersion::tls1_2);
      for (auto i : which)
        h.alpn.emplace_back(names[i]);
      auto ex = co_await exchange(build_client_hello(h), {}, 2);
      auto rec = record(purpose, ex, 0x0303, nullptr);
      Pick p;
      if (rec.outcome == ProbeOutcome::accepted && ex.response.alpn) {
        for (auto i : which)
          if (names[i] == *ex.response.alpn)
            p.chosen = i;
        if (!p.chosen)
          p.detail = "server chose an ALPN protocol that was not offered";
      } else if (rec.outcome == ProbeOutcome::accepted) {
        p.refused = true; // no ALPN extension: nothing of what is left is supported
        p.detail = "no ALPN in the ServerHello";
      } else {
        p.refused = is_refusal(rec);
        if (rec.alert == "no_application_protocol")
          rejected = true;
        p.detail = refusal_text(rec);
      }
      co_return p;
    };
    LoopOptions lo;
    lo.detect_order = false; // servers pick ALPN by their own list
    auto loop = co_await remove_loop(ids, offer, "ALPN (TLSv1.2)", lo);
    // A refusal on the very first offer means TLS 1.2 itself failed.
    ar.tested = !loop.found.empty() || rejected || loop.detail == "no ALPN in the ServerHello";
    for (auto i : loop.found)
      ar.protocols.emplace_back(names[i]);
    ar.rejects_unknown = rejected;
    ar.detail = ar.tested ? (loop.error ? loop.detail : std::string{})
                          : "ALPN is encrypted in TLS 1.3; not visible without TLS 1.2 (" +
                                loop.detail + ")";
  }

  // TLS 1.2 signature schemes: offered with every signed (EC)DHE suite; the
  // ServerKeyExchange names the scheme the server signed with.
  awaitable<void> sigalgs_tls12() {
    auto& sr = m_result.sigalgs_tls12;
    const Offer offer = key_exchange_offer(
        tls12_suites({"TLS_ECDHE_RSA_", "TLS_ECDHE_ECDSA_", "TLS_DHE_RSA_", "TLS_DHE_DSS_"}), 2,
        [](ClientHelloSpec& h, const Codes& schemes) { h.signature_schemes = schemes; },
        [](const ServerResponse& r) { return r.signature_scheme; },
        "no offered signature scheme in the ServerKeyExchange");
    const auto all = signature_schemes();
    auto loop =
        co_await remove_loop(Codes(all.begin(), all.end()), offer, "TLSv1.2 signature schemes");
    sr.tested = !loop.found.empty();
    sr.schemes = loop.found;
    sr.preference = loop.found.empty() ? Preference::unknown : loop.preference;
    sr.detail = loop.found.empty()
                    ? "no signed (EC)DHE suite accepted with TLSv1.2 (" + loop.detail + ")"
                    : loop.detail;
  }

  awaitable<void> sni() {
    std::vector<std::pair<SniCase, std::optional<std::string>>> cases = {
        {SniCase::none, std::nullopt}, {SniCase::unknown_name, std::string(k_unknown_sni)}};
    if (m_result.spec.sni)
      cases.insert(cases.begin() + 1, {SniCase::right_name, m_result.spec.sni});
    m_result.sni.resize(cases.size());
    std::vector<std::function<awaitable<void>()>> tasks;
    for (std::size_t i = 0; i < cases.size(); ++i)
      tasks.push_back([this, i, c = cases[i]]() -> awaitable<void> {
        auto h = base_hello(TlsVersion::tls1_2);
        h.sni = c.second;
        h.supported_versions = {0x0304, 0x0303};
        h.key_shares = std::vector<KeyShareSpec>{};
        h.cipher_suites = candidate_suites(TlsVersion::tls1_3);
        for (auto s : candidate_suites(TlsVersion::tls1_2))
          h.cipher_suites.push_back(s);
        h.groups = candidate_groups(TlsVersion::tls1_3);
        for (auto g : candidate_groups(TlsVersion::tls1_2))
          if (std::find(h.groups.begin(), h.groups.end(), g) == h.groups.end())
            h.groups.push_back(g);
        ParseOptions po;
        po.through_key_exchange = true;
        auto ex = co_await exchange(build_client_hello(h), po, 3);
        auto rec = record("SNI " + to_string(c.first), ex, 0, nullptr);
        SniResult s;
        s.sni = c.first;
        s.name_sent = c.second;
        s.outcome = rec.outcome;
        s.alert = rec.alert;
        s.version = rec.version;
        if (!ex.response.leaf_certificate.empty())
          s.leaf_sha256 = sha256_hex(ex.response.leaf_certificate);
        m_result.sni[i] = s;
      });
    co_await all(std::move(tasks));
  }

  awaitable<void> split_hello() {
    auto& sr = m_result.split_hello;
    auto h = base_hello(TlsVersion::tls1_2);
    h.supported_versions = {0x0304, 0x0303};
    h.cipher_suites = candidate_suites(TlsVersion::tls1_3);
    for (auto s : candidate_suites(TlsVersion::tls1_2))
      h.cipher_suites.push_back(s);
    h.groups = {0x11EC, 29, 23, 24, 25};
    h.key_shares = std::vector<KeyShareSpec>{{0x11EC, 1216}, {29, 32}};
    auto bytes = build_client_hello(h);
    sr.hello_bytes = bytes.size();
    // First segment: what fits a typical 1500-byte MTU; the rest follows separately.
    auto ex = co_await exchange(bytes, {}, 3, std::min<std::size_t>(1400, bytes.size() / 2));
    auto rec = record("split ClientHello", ex, 0, nullptr);
    sr.tested = true;
    sr.outcome = rec.outcome;
    sr.alert = rec.alert;
    sr.group = rec.group;
  }

  void classify_overall() {
    bool any_tls = false, any_connected = false, any_not_tls = false, all_timeouts = true;
    for (const auto& p : m_result.probes) {
      if (p.outcome != ProbeOutcome::timeout)
        all_timeouts = false;
      if (p.outcome == ProbeOutcome::accepted || p.outcome == ProbeOutcome::alert ||
          p.outcome == ProbeOutcome::wrong_version)
        any_tls = true;
      if (p.outcome != ProbeOutcome::refused && p.outcome != ProbeOutcome::connect_timeout &&
          p.outcome != ProbeOutcome::network_error)
        any_connected = true;
      if (p.response == "not_tls" || p.response == "malformed" || p.response == "sslv2")
        any_not_tls = true;
    }
    if (any_tls)
      m_result.status = EnumerateStatus::complete;
    else if (any_connected && any_not_tls)
      m_result.status = EnumerateStatus::not_tls;
    else if (any_connected && all_timeouts)
      m_result.status = EnumerateStatus::no_answer;
    else
      m_result.status = EnumerateStatus::unreachable;
    if (m_result.status != EnumerateStatus::complete && !m_result.probes.empty())
      m_result.detail = m_result.probes.front().detail.empty()
                            ? to_string(m_result.probes.front().outcome)
                            : m_result.probes.front().detail;
  }

  asio::io_context& m_io;
  EnumerateResult m_result;
  std::size_t m_in_flight = 0;
  std::vector<Waiter> m_waiters;
  FirstProbe m_first12, m_first13;
  std::uint64_t m_seq = 0;
};

} // namespace

void start_enumerate(asio::io_context& io, EnumerateSpec spec,
                     std::function<void(EnumerateResult)> done) {
  auto engine = std::make_shared<Engine>(io, std::move(spec));
  asio::co_spawn(io, engine->run(),
                 [engine, done = std::move(done)](std::exception_ptr e, EnumerateResult r) {
                   if (e) {
                     r = EnumerateResult{};
                     r.status = EnumerateStatus::error;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       r.detail = std::string("internal error: ") + ex.what();
                     }
                   }
                   done(std::move(r));
                 });
}

EnumerateResult run_enumerate(const EnumerateSpec& spec) {
  asio::io_context io;
  EnumerateResult out;
  start_enumerate(io, spec, [&out](EnumerateResult r) { out = std::move(r); });
  io.run();
  return out;
}

std::string to_string(ProbeOutcome o) {
  switch (o) {
  case ProbeOutcome::accepted:
    return "accepted";
  case ProbeOutcome::alert:
    return "alert";
  case ProbeOutcome::closed:
    return "closed";
  case ProbeOutcome::timeout:
    return "timeout";
  case ProbeOutcome::refused:
    return "refused";
  case ProbeOutcome::connect_timeout:
    return "connect_timeout";
  case ProbeOutcome::network_error:
    return "network_error";
  case ProbeOutcome::wrong_version:
    return "wrong_version";
  case ProbeOutcome::unexpected:
    return "unexpected";
  }
  return "?";
}

std::string to_string(Preference p) {
  switch (p) {
  case Preference::server:
    return "server";
  case Preference::client:
    return "client";
  case Preference::single:
    return "single";
  case Preference::unknown:
    return "unknown";
  }
  return "?";
}

std::string to_string(VersionStatus s) {
  switch (s) {
  case VersionStatus::supported:
    return "supported";
  case VersionStatus::not_supported:
    return "not_supported";
  case VersionStatus::error:
    return "error";
  }
  return "?";
}

std::string to_string(SniCase s) {
  switch (s) {
  case SniCase::none:
    return "none";
  case SniCase::right_name:
    return "right_name";
  case SniCase::unknown_name:
    return "unknown_name";
  }
  return "?";
}

std::string to_string(EnumerateStatus s) {
  switch (s) {
  case EnumerateStatus::complete:
    return "complete";
  case EnumerateStatus::unreachable:
    return "unreachable";
  case EnumerateStatus::not_tls:
    return "not_tls";
  case EnumerateStatus::no_answer:
    return "no_answer";
  case EnumerateStatus::error:
    return "error";
  }
  return "?";
}

} // namespace edgeshake::handshake::enumerate
