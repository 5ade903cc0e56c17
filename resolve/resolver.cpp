// Resolver: validation of names and options, and the Resolver interface over
// one AresBridge. Everything runs on the caller's loop.
#include "resolve/ares_bridge.hpp"
#include "resolve/resolve.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <fmt/core.h>

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

class AresResolver final : public Resolver {
public:
  explicit AresResolver(std::shared_ptr<AresBridge> bridge) : m_bridge(std::move(bridge)) {}
  ~AresResolver() override { m_bridge->shutdown(); }

  void resolve(std::string name, std::function<void(ResolveResult)> on_done) override {
    // Our own check first: c-ares would send some malformed names as asked.
    if (!is_valid_hostname(name) || ip_family(name)) {
      asio::post(m_bridge->io(), [cb = std::move(on_done), r = bad_name_result(name)]() mutable {
        cb(std::move(r));
      });
      return;
    }
    m_bridge->getaddrinfo(name, std::move(on_done));
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
      asio::post(m_bridge->io(),
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
  std::shared_ptr<AresBridge> m_bridge;
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
  return std::unique_ptr<Resolver>(new AresResolver(std::move(*bridge)));
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
