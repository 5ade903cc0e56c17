// Variants: named provider options that edit the hello (docs/profiles.md,
// "Variants"); choosing them yields the hellos the edge may send, from which
// the OpenSSL approximation is re-derived. Also the loader's last step
// (detail::finish): format-1 hello derivation and the default variants.
#include "profiles/derive.hpp"
#include "profiles/parsed.hpp"

#include <algorithm>

namespace edgeshake::profiles {

namespace {

using Choices = std::vector<std::pair<std::string, std::string>>;

WireHello apply(const WireHello& base, const HelloEdit& e) {
  WireHello x = base;
  if (!e.label.empty())
    x.label = x.label.empty() ? e.label : x.label + "+" + e.label;
  if (e.versions)
    x.versions = *e.versions;
  if (e.cipher_suites)
    x.cipher_suites = *e.cipher_suites;
  if (e.extensions)
    x.extensions = *e.extensions;
  if (e.groups)
    x.groups = *e.groups;
  if (e.key_shares)
    x.key_shares = *e.key_shares;
  if (e.signature_algorithms)
    x.signature_algorithms = *e.signature_algorithms;
  if (e.alpn)
    x.alpn = *e.alpn;
  // A per-version limit only for suites still offered, at versions still offered.
  for (auto it = x.suite_versions.begin(); it != x.suite_versions.end();) {
    auto& vs = it->second;
    vs.erase(std::remove_if(vs.begin(), vs.end(),
                            [&x](TlsVersion v) {
                              return std::find(x.versions.begin(), x.versions.end(), v) ==
                                     x.versions.end();
                            }),
             vs.end());
    const bool offered = std::find(x.cipher_suites.begin(), x.cipher_suites.end(), it->first) !=
                         x.cipher_suites.end();
    it = offered && !vs.empty() ? std::next(it) : x.suite_versions.erase(it);
  }
  return x;
}

// The value chosen per variant (profile order), the given choices over the defaults.
Choices resolve(const Profile& p, const Choices& choices) {
  Choices out;
  for (const auto& v : p.variants) {
    std::string value = v.default_value;
    for (const auto& c : choices)
      if (c.first == v.name)
        value = c.second;
    out.emplace_back(v.name, value);
  }
  return out;
}

// The hellos for a full choice: the cross product of the chosen values' hellos,
// duplicates (label aside) removed, first label kept.
std::vector<WireHello> hellos_for(const Profile& p, const Choices& chosen) {
  std::vector<WireHello> hellos = {p.hello};
  for (std::size_t i = 0; i < p.variants.size() && i < chosen.size(); ++i) {
    const auto* val = p.variants[i].find(chosen[i].second);
    if (!val || val->hellos.empty())
      continue;
    std::vector<WireHello> next;
    for (const auto& h : hellos)
      for (const auto& e : val->hellos)
        next.push_back(apply(h, e));
    hellos = std::move(next);
  }
  std::vector<WireHello> out;
  for (auto& h : hellos) {
    auto same = [&h](const WireHello& o) {
      WireHello a = h, b = o;
      a.label = b.label = "";
      return a == b;
    };
    if (std::none_of(out.begin(), out.end(), same))
      out.push_back(std::move(h));
  }
  return out;
}

std::string describe(const Choices& chosen) {
  std::string out;
  for (const auto& [name, value] : chosen)
    out += (out.empty() ? "" : ", ") + name + "=" + value;
  return out;
}

// Hellos for `chosen`, or the first problem of one of them.
Result<std::vector<WireHello>> checked_hellos(const Profile& p, const Choices& chosen,
                                              ErrorCode code, const std::string& where) {
  auto hellos = hellos_for(p, chosen);
  for (const auto& h : hellos) {
    if (auto problem = detail::hello_problem(h))
      return fail(code,
                  "variants " + describe(chosen) + " leave an invalid hello" +
                      (h.label.empty() ? std::string() : " '" + h.label + "'") + ": " + *problem,
                  where);
  }
  return hellos;
}

} // namespace

Result<std::pair<std::string, std::string>> parse_variant_choice(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    return fail(ErrorCode::usage,
                "expects NAME=VALUE (e.g. pq=preferred), got '" + std::string(text) + "'",
                "--variant");
  return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Result<Profile> select_variants(Profile p, const Choices& choices) {
  for (const auto& choice : choices) {
    const std::string& name = choice.first;
    const std::string& value = choice.second;
    auto v = std::find_if(p.variants.begin(), p.variants.end(),
                          [&name](const Variant& x) { return x.name == name; });
    if (v == p.variants.end()) {
      std::string known;
      for (const auto& x : p.variants)
        known += (known.empty() ? "" : ", ") + x.name;
      return fail(
          ErrorCode::usage,
          "profile '" + p.id + "' has no variant '" + name + "'" +
              (known.empty() ? std::string(" (it has none)") : " (variants: " + known + ")"),
          "--variant");
    }
    if (!v->find(value)) {
      std::string known;
      for (const auto& x : v->values)
        known += (known.empty() ? "" : ", ") + x.name;
      return fail(ErrorCode::usage,
                  "variant '" + name + "' of profile '" + p.id + "' has no value '" + value +
                      "' (values: " + known + ")",
                  "--variant");
    }
  }
  Choices chosen = resolve(p, choices);
  auto hellos = checked_hellos(p, chosen, ErrorCode::usage, "--variant");
  if (!hellos)
    return tl::unexpected(hellos.error());
  p.variant_choice = std::move(chosen);
  p.hellos = std::move(*hellos);
  if (p.format == 2)
    detail::derive_openssl(p);
  return p;
}

namespace detail {

std::optional<Error> finish(Parsed& parsed, const std::string& origin) {
  Profile& p = parsed.profile;
  const ProfilePositions& pos = parsed.pos;
  if (p.format == 1) {
    // The hello OpenSSL 3.0 sends for the [client_hello] settings.
    p.hello = openssl_wire_hello(p);
    const Provenance derived{SourceKind::assumed, "",
                             "Format 1 profile: the hello OpenSSL 3.0 sends for its "
                             "[client_hello] settings (derived by edgeshake, not observed from "
                             "the provider)."};
    for (auto field : hello_field_names())
      if (field != "sni" && field != "suite_versions" && field != "tcp_max_segment" &&
          field != "signature_algorithms_cert" && field != "compress_certificate" &&
          field != "supported_versions")
        p.provenance[std::string(field)] = derived;
    p.hellos = {p.hello};
    return std::nullopt;
  }
  // Format 2: each value of each variant over the defaults must give valid
  // hellos (combinations of non-defaults are checked when chosen).
  const Choices defaults = resolve(p, {});
  for (std::size_t i = 0; i < p.variants.size(); ++i) {
    for (std::size_t j = 0; j < p.variants[i].values.size(); ++j) {
      Choices c = defaults;
      c[i].second = p.variants[i].values[j].name;
      Pos at = i < pos.variants.size() && j < pos.variants[i].values.size()
                   ? pos.variants[i].values[j]
                   : pos.hello;
      auto r = checked_hellos(p, c, ErrorCode::profile, where(origin, at));
      if (!r)
        return r.error();
    }
  }
  auto base = checked_hellos(p, defaults, ErrorCode::profile, where(origin, pos.hello));
  if (!base)
    return base.error();
  auto selected = select_variants(p, {});
  if (!selected)
    return selected.error();
  p = std::move(*selected);
  // OpenSSL 3 negotiates TLS 1.0/1.1 only at security level 0 (validate.cpp, format 1).
  for (const auto& h : p.hellos) {
    if (!h.versions.empty() && h.versions.front() < TlsVersion::tls1_2 && p.security_level > 0)
      return Error(ErrorCode::profile,
                   "security_level " + std::to_string(p.security_level) + " cannot negotiate " +
                       std::string(edgeshake::to_string(h.versions.front())) +
                       ": OpenSSL 3 refuses TLS 1.0/1.1 signatures above level 0 (set "
                       "security_level = 0)",
                   where(origin, pos.security_level));
  }
  return std::nullopt;
}

} // namespace detail

} // namespace edgeshake::profiles
