// INTERIM (replaced by the profile loader's select_variants when the format-2
// loader lands): variant choice and hello alternatives, without re-deriving
// the OpenSSL fields.
#include "profiles/profiles.hpp"

#include <algorithm>

namespace edgeshake::profiles {

Result<std::pair<std::string, std::string>> parse_variant_choice(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    return fail(ErrorCode::usage,
                "expects NAME=VALUE (e.g. pq=preferred), got '" + std::string(text) + "'",
                "--variant");
  return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Result<Profile> select_variants(Profile p,
                                const std::vector<std::pair<std::string, std::string>>& choices) {
  for (const auto& choice : choices) {
    const std::string& name = choice.first;
    const std::string& value = choice.second;
    auto v = std::find_if(p.variants.begin(), p.variants.end(),
                          [&name](const Variant& x) { return x.name == name; });
    if (v == p.variants.end())
      return fail(ErrorCode::usage, "profile '" + p.id + "' has no variant '" + name + "'",
                  "--variant");
    if (!v->find(value))
      return fail(ErrorCode::usage,
                  "variant '" + name + "' of profile '" + p.id + "' has no value '" + value + "'",
                  "--variant");
  }
  std::vector<WireHello> hellos = {p.hello};
  p.variant_choice.clear();
  for (const auto& v : p.variants) {
    std::string value = v.default_value;
    for (const auto& [name, chosen] : choices)
      if (name == v.name)
        value = chosen;
    p.variant_choice.emplace_back(v.name, value);
    const auto* val = v.find(value);
    if (!val || val->hellos.empty())
      continue;
    std::vector<WireHello> next;
    for (const auto& h : hellos)
      for (const auto& e : val->hellos) {
        WireHello x = h;
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
        next.push_back(std::move(x));
      }
    hellos = std::move(next);
  }
  p.hellos.clear();
  for (auto& h : hellos) {
    auto same = [&h](const WireHello& o) {
      WireHello a = h, b = o;
      a.label = b.label = "";
      return a == b;
    };
    if (std::none_of(p.hellos.begin(), p.hellos.end(), same))
      p.hellos.push_back(std::move(h));
  }
  return p;
}

} // namespace edgeshake::profiles
