// Name resolution on c-ares, driven by the caller's event loop, and CDN
// detection from data files (profiles/cdn/*.toml). Plain values only.
#pragma once

#include "common/endpoint.hpp"
#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asio {
class io_context;
}

namespace edgeshake::resolve {

enum class ResolveStatus {
  ok,       // at least one address
  nxdomain, // the name does not exist
  no_data,  // the name exists but has no A/AAAA records
  servfail, // server failure
  refused,  // server refused the query
  timeout,  // no answer in time
  bad_name, // malformed name
  error,    // anything else (c-ares status in `detail`)
};

struct Address {
  std::string ip;
  AddressFamily family = AddressFamily::ipv4;
  std::uint32_t ttl = 0;
  bool operator==(const Address&) const = default;
};

struct ResolveResult {
  std::string name; // as asked
  ResolveStatus status = ResolveStatus::error;
  std::string detail; // c-ares status text
  // The names reached by following CNAMEs from `name`, in order, ending at the
  // canonical name; empty when `name` has no CNAME. `name` itself is not in it.
  std::vector<std::string> cname_chain;
  std::vector<Address> addresses; // A then AAAA, order within a family as received
  std::chrono::milliseconds elapsed{0};
  int timeouts = 0; // tries that timed out on the way (c-ares `timeouts`)
  bool operator==(const ResolveResult&) const = default;
};

// One address to connect to, with the name it came from (the IP itself for
// IP literals). A name with 4 A records expands to 4 targets.
struct Target {
  std::string name;
  Endpoint endpoint;
  AddressFamily family = AddressFamily::ipv4;
  bool operator==(const Target&) const = default;
};

// A user-written HOST[:PORT] expanded to targets.
struct TargetsResult {
  std::string input;                       // "origin.example:8443" as given (normalised)
  std::optional<ResolveResult> resolution; // absent for IP literals (no DNS involved)
  std::vector<Target> targets;             // empty when the name did not resolve
  bool ok() const { return !targets.empty(); }
  bool operator==(const TargetsResult&) const = default;
};

struct ResolverOptions {
  std::vector<std::string> servers; // "IP", "IP:PORT", "[v6]:PORT"; empty = system resolv.conf
  // First try; c-ares 1.18.1 doubles it after each round over all servers, so
  // one server with tries=N waits at most timeout * (2^N - 1) in total.
  std::chrono::milliseconds timeout{3000};
  int tries = 2; // 1..10
  // Names being looked up at once (2 queries each); more wait in a FIFO. A
  // burst of hundreds of UDP queries loses answers to full receive buffers.
  std::size_t max_in_flight = 64;
};

// Checks ResolverOptions (server addresses, timeout, tries) without creating a
// channel; the error is what Resolver::create would return (ErrorCode::usage).
Result<void> validate(const ResolverOptions& options);

// Adapts one c-ares channel to the loop (ares_bridge). Non-copyable.
// DNS only: /etc/hosts and resolv.conf search domains are not used.
class Resolver {
public:
  static Result<std::unique_ptr<Resolver>> create(asio::io_context& io, ResolverOptions options);
  virtual ~Resolver() = default;
  // A and AAAA in parallel; callback on the loop, exactly once (never from
  // inside this call). Callbacks still pending when the Resolver is destroyed
  // are dropped, not called. ResolveResult::elapsed excludes time spent
  // waiting for a max_in_flight slot.
  virtual void resolve(std::string name, std::function<void(ResolveResult)> on_done) = 0;
  // IP literal: one target, no DNS. Hostname: resolved here, one target per
  // address. Port: target.port, else default_port. Same callback rules.
  virtual void expand(HostPort target, std::uint16_t default_port,
                      std::function<void(TargetsResult)> on_done) = 0;
};

// Convenience: own loop, resolve all names concurrently.
Result<std::vector<ResolveResult>> resolve_all(const std::vector<std::string>& names,
                                               ResolverOptions options);
// Convenience: own loop, expand all targets concurrently.
Result<std::vector<TargetsResult>> expand_all(const std::vector<HostPort>& targets,
                                              std::uint16_t default_port, ResolverOptions options);

// The targets a resolution yields (one per address), in address order.
std::vector<Target> targets_from(const ResolveResult& r, std::uint16_t port);

std::string_view to_string(ResolveStatus);

// ---- CDN detection ----

struct CdnMatch {
  std::string cdn;           // profile id: "cloudflare"
  std::string name;          // "Cloudflare"
  std::string evidence_kind; // "ip_range" or "cname_suffix"
  std::string matched;       // "104.16.0.0/13" or "cdn.cloudflare.net"
  std::string on;            // the address or name it matched on
  std::string source;        // where the range/suffix list comes from
  bool operator==(const CdnMatch&) const = default;
};

class CdnDatabase {
public:
  // The bundled data (profiles/cdn/*.toml, compiled in).
  static const CdnDatabase& bundled();
  // One provider file (docs/resolve.md, "CDN data files"); `origin` names it in errors.
  static Result<CdnDatabase> parse(std::string_view toml_text, std::string origin);
  // Several files: (name, content) pairs; a CDN id defined twice is an error.
  static Result<CdnDatabase>
  parse_files(const std::vector<std::pair<std::string_view, std::string_view>>& files);

  CdnDatabase();
  ~CdnDatabase();
  CdnDatabase(CdnDatabase&&) noexcept;
  CdnDatabase& operator=(CdnDatabase&&) noexcept;

  std::optional<CdnMatch> match_address(std::string_view ip) const; // longest prefix
  std::optional<CdnMatch> match_name(std::string_view name) const;  // suffix
  // First match over a resolution: CNAME chain names first, then addresses.
  std::optional<CdnMatch> detect(const ResolveResult& r) const;
  // Every match over a resolution, same order (name, chain, addresses).
  std::vector<CdnMatch> detect_all(const ResolveResult& r) const;
  std::size_t prefix_count() const;
  std::vector<std::string> cdn_ids() const; // sorted

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace edgeshake::resolve
