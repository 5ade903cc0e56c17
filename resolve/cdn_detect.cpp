// CDN detection from data files (profiles/cdn/*.toml): CNAME suffixes matched on
// label boundaries, IP ranges by longest-prefix match over per-length sorted
// tables (binary search per distinct prefix length, IPv4 and IPv6).
#include "resolve/resolve.hpp"

#include <arpa/inet.h>

#include <fmt/core.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <compare>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <unordered_map>

namespace edgeshake::resolve {

namespace data {
extern const std::vector<std::pair<std::string_view, std::string_view>> k_cdn_files;
}

namespace {

struct V6 {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  auto operator<=>(const V6&) const = default;
};

std::uint32_t mask_of(std::uint32_t a, int len) {
  return len == 0 ? 0u : a & (~0u << (32 - len));
}

V6 mask_of(V6 a, int len) {
  if (len == 0)
    return {};
  if (len < 64)
    return {a.hi & (~0ull << (64 - len)), 0};
  if (len == 64)
    return {a.hi, 0};
  return {a.hi, a.lo & (~0ull << (128 - len))};
}

std::optional<std::uint32_t> parse_v4(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1)
    return std::nullopt;
  return ntohl(a.s_addr);
}

std::optional<V6> parse_v6(const std::string& s) {
  in6_addr a{};
  if (inet_pton(AF_INET6, s.c_str(), &a) != 1)
    return std::nullopt;
  V6 v;
  for (int i = 0; i < 8; ++i)
    v.hi = (v.hi << 8) | a.s6_addr[i];
  for (int i = 8; i < 16; ++i)
    v.lo = (v.lo << 8) | a.s6_addr[i];
  return v;
}

// Prefixes of one family. Lookup: for each distinct length, longest first,
// mask the address and binary-search that length's sorted networks.
template <class Key>
class PrefixTable {
public:
  struct Entry {
    Key network;
    int length;
    std::size_t provider;
    std::string text;
  };

  void add(Entry e) { m_entries.push_back(std::move(e)); }
  std::size_t size() const { return m_entries.size(); }

  void build() {
    std::map<int, std::vector<std::pair<Key, std::size_t>>, std::greater<>> by_len;
    for (std::size_t i = 0; i < m_entries.size(); ++i)
      by_len[m_entries[i].length].emplace_back(m_entries[i].network, i);
    m_levels.clear();
    for (auto& [len, v] : by_len) {
      // Stable: for a prefix listed twice, the first file's entry wins.
      std::stable_sort(v.begin(), v.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      m_levels.push_back(Level{len, std::move(v)});
    }
  }

  const Entry* lookup(Key addr) const {
    for (const auto& level : m_levels) {
      Key k = mask_of(addr, level.length);
      auto it = std::lower_bound(level.networks.begin(), level.networks.end(), k,
                                 [](const auto& e, const Key& x) { return e.first < x; });
      if (it != level.networks.end() && it->first == k)
        return &m_entries[it->second];
    }
    return nullptr;
  }

private:
  struct Level {
    int length;
    std::vector<std::pair<Key, std::size_t>> networks;
  };
  std::vector<Entry> m_entries;
  std::vector<Level> m_levels;
};

struct Provider {
  std::string id;
  std::string name;
  std::string range_source;
  std::string cname_source;
};

struct Suffix {
  std::size_t provider;
  std::string text;
};

std::string lower_name(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  });
  while (!out.empty() && out.back() == '.')
    out.pop_back();
  return out;
}

std::string where(const std::string& origin, const toml::node& n) {
  const auto& src = n.source();
  return fmt::format("{}:{}:{}", origin, src.begin.line, src.begin.column);
}

std::string where(const std::string& origin, const toml::node* n) {
  return n ? where(origin, *n) : origin;
}

// A string or an array of strings joined by "; ".
std::optional<std::string> string_or_list(const toml::node* n) {
  if (!n)
    return std::nullopt;
  if (auto s = n->value<std::string>())
    return *s;
  if (const auto* arr = n->as_array()) {
    std::string out;
    for (const auto& e : *arr) {
      auto s = e.value<std::string>();
      if (!s)
        return std::nullopt;
      if (!out.empty())
        out += "; ";
      out += *s;
    }
    return out;
  }
  return std::nullopt;
}

bool valid_id(std::string_view id) {
  if (id.empty())
    return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

} // namespace

struct CdnDatabase::Impl {
  std::vector<Provider> providers;
  PrefixTable<std::uint32_t> v4;
  PrefixTable<V6> v6;
  std::unordered_map<std::string, Suffix> suffixes;

  CdnMatch make(std::size_t p, std::string kind, std::string matched, std::string on) const {
    const Provider& pr = providers[p];
    std::string source = kind == "ip_range" ? pr.range_source : pr.cname_source;
    return CdnMatch{pr.id,         pr.name,          std::move(kind), std::move(matched),
                    std::move(on), std::move(source)};
  }

  Result<void> add_file(std::string_view text, const std::string& origin);
  Result<void> add_ranges(const toml::table& ranges, std::size_t p, const std::string& origin);
};

Result<void> CdnDatabase::Impl::add_ranges(const toml::table& ranges, std::size_t p,
                                           const std::string& origin) {
  for (const auto& [key, node] : ranges) {
    std::string k(key.str());
    if (k == "source" || k == "snapshot")
      continue;
    if (k != "v4" && k != "v6")
      return fail(ErrorCode::profile, fmt::format("unknown key 'ranges.{}'", k),
                  where(origin, node));
    const auto* arr = node.as_array();
    if (!arr)
      return fail(ErrorCode::profile,
                  fmt::format("'ranges.{}' must be an array of CIDR strings", k),
                  where(origin, node));
    bool want_v6 = k == "v6";
    for (const auto& e : *arr) {
      auto s = e.value<std::string>();
      auto bad = [&](std::string why) {
        return fail(ErrorCode::profile,
                    fmt::format("invalid IPv{} prefix {}: {}", want_v6 ? 6 : 4,
                                s ? "'" + *s + "'" : std::string("(not a string)"), why),
                    where(origin, e));
      };
      if (!s)
        return bad("expected a string like \"192.0.2.0/24\"");
      auto slash = s->find('/');
      if (slash == std::string::npos)
        return bad("missing '/length'");
      std::string addr = s->substr(0, slash);
      std::string len_text = s->substr(slash + 1);
      int len = -1;
      auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
      int max = want_v6 ? 128 : 32;
      if (ec != std::errc{} || ptr != len_text.data() + len_text.size() || len < 0 || len > max)
        return bad(fmt::format("prefix length must be 0-{}", max));
      if (want_v6) {
        auto a = parse_v6(addr);
        if (!a)
          return bad("not an IPv6 address");
        if (mask_of(*a, len) != *a)
          return bad("host bits set");
        v6.add({*a, len, p, *s});
      } else {
        auto a = parse_v4(addr);
        if (!a)
          return bad("not an IPv4 address");
        if (mask_of(*a, len) != *a)
          return bad("host bits set");
        v4.add({*a, len, p, *s});
      }
    }
  }
  return {};
}

Result<void> CdnDatabase::Impl::add_file(std::string_view text, const std::string& origin) {
  toml::table tbl;
  try {
    tbl = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    return fail(ErrorCode::profile, std::string(e.description()),
                fmt::format("{}:{}:{}", origin, src.begin.line, src.begin.column));
  }
  Provider pr;
  auto id = tbl["id"].value<std::string>();
  if (!id || !valid_id(*id))
    return fail(ErrorCode::profile, "'id' must be a string of [a-z0-9-] (a profile id)",
                where(origin, tbl.get("id")));
  for (const auto& existing : providers) {
    if (existing.id == *id)
      return fail(ErrorCode::profile, fmt::format("CDN id '{}' is defined twice", *id),
                  where(origin, tbl.get("id")));
  }
  pr.id = *id;
  auto name = tbl["name"].value<std::string>();
  if (!name || name->empty())
    return fail(ErrorCode::profile, "'name' must be a non-empty string",
                where(origin, tbl.get("name")));
  pr.name = *name;
  for (const auto& [key, node] : tbl) {
    std::string k(key.str());
    if (k != "id" && k != "name" && k != "cname" && k != "ranges")
      return fail(ErrorCode::profile, fmt::format("unknown key '{}'", k), where(origin, node));
  }
  const toml::table* cname = tbl["cname"].as_table();
  const toml::table* ranges = tbl["ranges"].as_table();
  if (tbl.contains("cname") && !cname)
    return fail(ErrorCode::profile, "'cname' must be a table", where(origin, tbl.get("cname")));
  if (tbl.contains("ranges") && !ranges)
    return fail(ErrorCode::profile, "'ranges' must be a table", where(origin, tbl.get("ranges")));
  if (!cname && !ranges)
    return fail(ErrorCode::profile, "a CDN file needs a [cname] or a [ranges] table", origin);

  std::size_t p = providers.size();
  std::vector<std::pair<std::string, Suffix>> new_suffixes;
  if (cname) {
    auto src = string_or_list(cname->get("source"));
    if (!src || src->empty() || !cname->get("snapshot"))
      return fail(ErrorCode::profile, "[cname] needs 'source' and 'snapshot'",
                  where(origin, *cname));
    pr.cname_source = *src;
    const auto* arr = (*cname)["suffixes"].as_array();
    if (!arr)
      return fail(ErrorCode::profile, "'cname.suffixes' must be an array of names",
                  where(origin, *cname));
    for (const auto& [key, node] : *cname) {
      std::string k(key.str());
      if (k != "suffixes" && k != "source" && k != "snapshot")
        return fail(ErrorCode::profile, fmt::format("unknown key 'cname.{}'", k),
                    where(origin, node));
    }
    for (const auto& e : *arr) {
      auto s = e.value<std::string>();
      if (!s || !is_valid_hostname(*s) || s->find('.') == std::string::npos)
        return fail(ErrorCode::profile, "CNAME suffix must be a domain name like 'cloudfront.net'",
                    where(origin, e));
      std::string norm = lower_name(*s);
      if (suffixes.count(norm))
        return fail(ErrorCode::profile, fmt::format("CNAME suffix '{}' is listed twice", norm),
                    where(origin, e));
      new_suffixes.emplace_back(norm, Suffix{p, norm});
    }
  }
  if (ranges) {
    auto src = string_or_list(ranges->get("source"));
    if (!src || src->empty() || !ranges->get("snapshot"))
      return fail(ErrorCode::profile, "[ranges] needs 'source' and 'snapshot'",
                  where(origin, *ranges));
    pr.range_source = *src;
    if (auto ok = add_ranges(*ranges, p, origin); !ok)
      return ok;
  }
  for (auto& [k, s] : new_suffixes)
    suffixes.emplace(k, std::move(s));
  providers.push_back(std::move(pr));
  return {};
}

CdnDatabase::CdnDatabase() : m_impl(std::make_unique<Impl>()) {}
CdnDatabase::~CdnDatabase() = default;
CdnDatabase::CdnDatabase(CdnDatabase&&) noexcept = default;
CdnDatabase& CdnDatabase::operator=(CdnDatabase&&) noexcept = default;

Result<CdnDatabase> CdnDatabase::parse(std::string_view toml_text, std::string origin) {
  return parse_files({{origin, toml_text}});
}

Result<CdnDatabase>
CdnDatabase::parse_files(const std::vector<std::pair<std::string_view, std::string_view>>& files) {
  CdnDatabase db;
  for (const auto& [name, text] : files) {
    // A failed file may have added prefixes before its error; the whole load fails anyway.
    if (auto ok = db.m_impl->add_file(text, std::string(name)); !ok)
      return tl::unexpected(ok.error());
  }
  db.m_impl->v4.build();
  db.m_impl->v6.build();
  return db;
}

const CdnDatabase& CdnDatabase::bundled() {
  static const CdnDatabase db = [] {
    auto r = parse_files(data::k_cdn_files);
    if (!r) {
      // The bundled files are checked by tests/resolve; failing here is a build bug.
      std::fprintf(stderr, "edgeshake: bundled CDN data: %s\n", r.error().to_string().c_str());
      std::abort();
    }
    return std::move(*r);
  }();
  return db;
}

std::optional<CdnMatch> CdnDatabase::match_address(std::string_view ip) const {
  std::string s(ip);
  if (auto a = parse_v4(s)) {
    if (const auto* e = m_impl->v4.lookup(*a))
      return m_impl->make(e->provider, "ip_range", e->text, s);
    return std::nullopt;
  }
  if (auto a = parse_v6(s)) {
    if (const auto* e = m_impl->v6.lookup(*a))
      return m_impl->make(e->provider, "ip_range", e->text, s);
  }
  return std::nullopt;
}

std::optional<CdnMatch> CdnDatabase::match_name(std::string_view name) const {
  std::string n = lower_name(name);
  // Longest suffix first: the whole name, then after each dot (label boundaries).
  std::size_t pos = 0;
  while (pos < n.size()) {
    auto it = m_impl->suffixes.find(n.substr(pos));
    if (it != m_impl->suffixes.end())
      return m_impl->make(it->second.provider, "cname_suffix", it->second.text, n);
    auto dot = n.find('.', pos);
    if (dot == std::string::npos)
      break;
    pos = dot + 1;
  }
  return std::nullopt;
}

std::vector<CdnMatch> CdnDatabase::detect_all(const ResolveResult& r) const {
  std::vector<CdnMatch> out;
  if (auto m = match_name(r.name))
    out.push_back(std::move(*m));
  for (const auto& c : r.cname_chain) {
    if (auto m = match_name(c))
      out.push_back(std::move(*m));
  }
  for (const auto& a : r.addresses) {
    if (auto m = match_address(a.ip))
      out.push_back(std::move(*m));
  }
  return out;
}

std::optional<CdnMatch> CdnDatabase::detect(const ResolveResult& r) const {
  auto all = detect_all(r);
  if (all.empty())
    return std::nullopt;
  return std::move(all.front());
}

std::size_t CdnDatabase::prefix_count() const {
  return m_impl->v4.size() + m_impl->v6.size();
}

std::vector<std::string> CdnDatabase::cdn_ids() const {
  std::vector<std::string> out;
  for (const auto& p : m_impl->providers)
    out.push_back(p.id);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace edgeshake::resolve
