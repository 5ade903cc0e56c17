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
  std::string detail;                   // c-ares status text
  std::vector<std::string> cname_chain; // aliases in order, ending at the canonical name
  std::vector<Address> addresses;       // A then AAAA
  std::chrono::milliseconds elapsed{0};
  bool operator==(const ResolveResult&) const = default;
};

struct ResolverOptions {
  std::vector<std::string> servers; // "IP", "IP:PORT", "[v6]:PORT"; empty = system resolv.conf
  std::chrono::milliseconds timeout{3000}; // per try
  int tries = 2;
};

// Adapts one c-ares channel to the loop (ares_bridge). Non-copyable.
class Resolver {
public:
  static Result<std::unique_ptr<Resolver>> create(asio::io_context& io, ResolverOptions options);
  virtual ~Resolver() = default;
  // A and AAAA in parallel; callback on the loop, exactly once.
  virtual void resolve(std::string name, std::function<void(ResolveResult)> on_done) = 0;
};

// Convenience: own loop, resolve all names concurrently.
Result<std::vector<ResolveResult>> resolve_all(const std::vector<std::string>& names,
                                               ResolverOptions options);

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
  static Result<CdnDatabase> parse(std::string_view toml_text, std::string origin);

  CdnDatabase();
  ~CdnDatabase();
  CdnDatabase(CdnDatabase&&) noexcept;
  CdnDatabase& operator=(CdnDatabase&&) noexcept;

  std::optional<CdnMatch> match_address(std::string_view ip) const; // longest prefix
  std::optional<CdnMatch> match_name(std::string_view name) const;  // suffix
  // First match over a resolution: CNAME chain names first, then addresses.
  std::optional<CdnMatch> detect(const ResolveResult& r) const;
  std::size_t prefix_count() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace edgeshake::resolve
