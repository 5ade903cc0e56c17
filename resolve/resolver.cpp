// Resolver: validation of names and options, and the Resolver interface over
// one AresBridge. Everything runs on the caller's loop.
#include "resolve/ares_bridge.hpp"
#include "resolve/resolve.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <fmt/core.h>

#include <deque>
#include <utility>

namespace edgeshake::resolve {

namespace {

Result<std::string> servers_csv(const std::vector<std::string>& servers) {
  std::string csv;
  for (const auto& s : servers) {
    auto hp = parse_host_port(s);
    if (!hp || !hp->is_ip) {
      return fail(
          ErrorCode::usage,
          fmt::format("invalid resolver address '{}' (expected IP, IP:PORT or [IPv6]:PORT)", s),
          "--resolver");
    }
    Endpoint e{hp->host, hp->port.value_or(53)};
    if (!csv.empty())
      csv += ',';
    csv += e.to_string(); // "[::1]:53" for IPv6, as ares_set_servers_ports_csv wants
  }
  return csv;
}

ResolveResult bad_name_result(const std::string& name) {
  ResolveResult r;
  r.name = name;
  r.status = ResolveStatus::bad_name;
  r.detail = fmt::format("'{}' is not a valid DNS name", name);
  return r;
}

// Lookups beyond `max_in_flight` wait in a FIFO: a burst of hundreds of
// parallel queries overflows UDP receive buffers (measured against dnsmasq:
// 600 queries at once -> hundreds of timed-out tries, one timeout late).
class AresResolver final : public Resolver {
public:
  AresResolver(std::shared_ptr<AresBridge> bridge, std::size_t max_in_flight)
      : m_state(std::make_shared<State>()) {
    m_state->bridge = std::move(bridge);
    m_state->max_in_flight = max_in_flight;
  }
  ~AresResolver() override {
    m_state->queue.clear();
    m_state->bridge->shutdown();
  }

  void resolve(std::string name, std::function<void(ResolveResult)> on_done) override {
    std::weak_ptr<State> weak = m_state;
    // Our own check first: c-ares would send some malformed names as asked.
    if (!is_valid_hostname(name) || ip_family(name)) {
      post(weak,
           [cb = std::move(on_done), r = bad_name_result(name)]() mutable { cb(std::move(r)); });
      return;
    }
    m_state->queue.push_back(Job{std::move(name), std::move(on_done)});
    pump(m_state);
  }

  void expand(HostPort target, std::uint16_t default_port,
              std::function<void(TargetsResult)> on_done) override {
    std::uint16_t port = target.port.value_or(default_port);
    TargetsResult out;
    out.input = target.port ? Endpoint{target.host, *target.port}.to_string() : target.host;
    if (target.is_ip) {
      if (auto fam = ip_family(target.host)) {
        out.targets.push_back(Target{target.host, Endpoint{target.host, port}, *fam});
      }
      post(m_state,
           [cb = std::move(on_done), out = std::move(out)]() mutable { cb(std::move(out)); });
      return;
    }
    resolve(target.host,
            [cb = std::move(on_done), out = std::move(out), port](ResolveResult r) mutable {
              out.targets = targets_from(r, port);
              out.resolution = std::move(r);
              cb(std::move(out));
            });
  }

private:
  struct Job {
    std::string name;
    std::function<void(ResolveResult)> on_done;
  };
  struct State {
    std::shared_ptr<AresBridge> bridge;
    std::deque<Job> queue;
    std::size_t in_flight = 0;
    std::size_t max_in_flight = 64;
  };

  // Runs `fn` on the loop unless the Resolver is destroyed first.
  template <class Fn>
  static void post(std::weak_ptr<State> weak, Fn fn) {
    auto state = weak.lock();
    if (!state)
      return;
    asio::post(state->bridge->io(), [weak, fn = std::move(fn)]() mutable {
      if (weak.lock())
        fn();
    });
  }

  static void pump(const std::shared_ptr<State>& state) {
    std::weak_ptr<State> weak = state;
    while (state->in_flight < state->max_in_flight && !state->queue.empty()) {
      Job job = std::move(state->queue.front());
      state->queue.pop_front();
      ++state->in_flight;
      state->bridge->getaddrinfo(job.name, [weak, cb = std::move(job.on_done)](ResolveResult r) {
        auto s = weak.lock();
        if (!s)
          return; // the Resolver was destroyed after this answer was posted
        --s->in_flight;
        pump(s);
        cb(std::move(r));
      });
    }
  }

  std::shared_ptr<State> m_state;
};

} // namespace

std::string_view to_string(ResolveStatus s) {
  switch (s) {
  case ResolveStatus::ok:
    return "ok";
  case ResolveStatus::nxdomain:
    return "nxdomain";
  case ResolveStatus::no_data:
    return "no_data";
  case ResolveStatus::servfail:
    return "servfail";
  case ResolveStatus::refused:
    return "refused";
  case ResolveStatus::timeout:
    return "timeout";
  case ResolveStatus::bad_name:
    return "bad_name";
  case ResolveStatus::error:
    return "error";
  }
  return "error";
}

Result<void> validate(const ResolverOptions& options) {
  if (options.timeout.count() <= 0 || options.timeout.count() > 600000)
    return fail(ErrorCode::usage, "timeout must be between 1ms and 10m", "--timeout");
  if (options.tries < 1 || options.tries > 10)
    return fail(ErrorCode::usage, "tries must be between 1 and 10", "--tries");
  if (options.max_in_flight < 1)
    return fail(ErrorCode::usage, "max_in_flight must be at least 1");
  auto csv = servers_csv(options.servers);
  if (!csv)
    return tl::unexpected(csv.error());
  return {};
}

Result<std::unique_ptr<Resolver>> Resolver::create(asio::io_context& io, ResolverOptions options) {
  if (auto ok = validate(options); !ok)
    return tl::unexpected(ok.error());
  BridgeOptions b;
  b.servers_csv = *servers_csv(options.servers);
  b.timeout_ms = static_cast<int>(options.timeout.count());
  b.tries = options.tries;
  auto bridge = AresBridge::create(io, b);
  if (!bridge)
    return tl::unexpected(bridge.error());
  return std::unique_ptr<Resolver>(new AresResolver(std::move(*bridge), options.max_in_flight));
}

std::vector<Target> targets_from(const ResolveResult& r, std::uint16_t port) {
  std::vector<Target> out;
  if (r.status != ResolveStatus::ok)
    return out;
  for (const auto& a : r.addresses)
    out.push_back(Target{r.name, Endpoint{a.ip, port}, a.family});
  return out;
}

Result<std::vector<ResolveResult>> resolve_all(const std::vector<std::string>& names,
                                               ResolverOptions options) {
  asio::io_context io;
  auto resolver = Resolver::create(io, std::move(options));
  if (!resolver)
    return tl::unexpected(resolver.error());
  std::vector<ResolveResult> out(names.size());
  std::size_t remaining = names.size();
  for (std::size_t i = 0; i < names.size(); ++i)
    (*resolver)->resolve(names[i], [&, i](ResolveResult r) {
      out[i] = std::move(r);
      if (--remaining == 0)
        io.stop(); // do not wait for c-ares to close idle sockets
    });
  if (remaining > 0)
    io.run();
  return out;
}

Result<std::vector<TargetsResult>> expand_all(const std::vector<HostPort>& targets,
                                              std::uint16_t default_port, ResolverOptions options) {
  asio::io_context io;
  auto resolver = Resolver::create(io, std::move(options));
  if (!resolver)
    return tl::unexpected(resolver.error());
  std::vector<TargetsResult> out(targets.size());
  std::size_t remaining = targets.size();
  for (std::size_t i = 0; i < targets.size(); ++i)
    (*resolver)->expand(targets[i], default_port, [&, i](TargetsResult r) {
      out[i] = std::move(r);
      if (--remaining == 0)
        io.stop();
    });
  if (remaining > 0)
    io.run();
  return out;
}

} // namespace edgeshake::resolve
