// Format 2: [hello] (the whole ClientHello by name), [provenance] (where each
// field comes from) and [[variants]] (named provider options that edit the
// hello). Names resolve through common/tls_registry.hpp; each entry is checked
// where it stands, so an error points at its line and column.
#include "profiles/load_hello.hpp"

#include "common/tls_registry.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace edgeshake::profiles::detail {

namespace {

constexpr std::uint16_t k_scsv = 0x00ff;

Pos pos_of(const toml::source_region& r) {
  if (r.begin.line == 0)
    return Pos{};
  return Pos{r.begin.line, r.begin.column};
}

bool is_grease_code(std::uint16_t v) {
  return v == k_grease || tls::is_grease(v);
}

std::string hex4(std::uint16_t v) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 12; shift >= 0; shift -= 4)
    s += k_hex[(v >> shift) & 15];
  return s;
}

bool valid_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// A resolver turns one name into a code, or says why not.
struct Resolved {
  std::optional<std::uint16_t> code;
  std::string error; // when !code
};
using Resolver = std::function<Resolved(std::string_view)>;

Resolved suite_name(std::string_view s) {
  if (s == "GREASE")
    return {k_grease, {}};
  if (s == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV")
    return {k_scsv, {}};
  if (auto c = tls::cipher_suite_by_name(s))
    return {*c, {}};
  return {std::nullopt, "unknown cipher suite " + quote(s) + " (an IANA or OpenSSL name)"};
}

Resolved extension_name(std::string_view s) {
  if (s == "GREASE")
    return {k_grease, {}};
  const auto* e = tls::extension_by_name(s);
  if (!e)
    return {std::nullopt, "unknown extension " + quote(s)};
  if (!e->writable)
    return {std::nullopt,
            "extension " + quote(s) + " (" + hex4(e->code) +
                ") cannot be written by the wire probe (handshake/enumerate/wire.cpp)"};
  return {e->code, {}};
}

Resolved group_name(std::string_view s) {
  if (s == "GREASE")
    return {k_grease, {}};
  if (auto c = tls::group_by_name(s))
    return {*c, {}};
  return {std::nullopt, "unknown group " + quote(s)};
}

Resolved sigalg_name(std::string_view s) {
  if (auto c = tls::signature_scheme_by_name(s))
    return {*c, {}};
  return {std::nullopt, "unknown signature algorithm " + quote(s)};
}

Resolved point_format_name(std::string_view s) {
  if (auto c = tls::point_format_by_name(s))
    return {*c, {}};
  return {std::nullopt, "unknown ec point format " + quote(s) +
                            " (expected uncompressed, ansiX962_compressed_prime or "
                            "ansiX962_compressed_char2)"};
}

Resolved psk_mode_name(std::string_view s) {
  if (auto c = tls::psk_mode_by_name(s))
    return {*c, {}};
  return {std::nullopt,
          "unknown psk key exchange mode " + quote(s) + " (expected psk_ke or psk_dhe_ke)"};
}

Resolved compression_name(std::string_view s) {
  if (auto c = tls::cert_compression_by_name(s))
    return {*c, {}};
  return {std::nullopt,
          "unknown certificate compression " + quote(s) + " (expected zlib, brotli or zstd)"};
}

Resolved version_code(std::string_view s) {
  if (s == "GREASE")
    return {k_grease, {}};
  if (auto v = parse_tls_version(s))
    return {static_cast<std::uint16_t>(wire_version(*v)), {}};
  return {std::nullopt, "unknown TLS version " + quote(s) +
                            " (expected SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)"};
}

std::string version_name(TlsVersion v) {
  return std::string(edgeshake::to_string(v));
}

// The HelloEdit keys ([hello] takes hello_field_names() but "sni").
constexpr std::string_view k_edit_keys[] = {
    "label",  "versions",   "cipher_suites",        "extensions",
    "groups", "key_shares", "signature_algorithms", "alpn"};

class Format2 {
public:
  Format2(const std::string& origin, Profile& p, ProfilePositions& pos)
      : m_origin(origin), m_p(p), m_pos(pos) {}

  std::optional<Error> run(const toml::table& root) {
    const toml::node* h = root.get("hello");
    if (!h) {
      fail(m_pos.format, "format 2 needs a [hello] table (the ClientHello, docs/profiles.md)");
      return m_error;
    }
    m_pos.hello = pos_of(h->source());
    if (!h->is_table()) {
      fail(m_pos.hello, "'hello' must be a table");
      return m_error;
    }
    hello(*h->as_table());
    if (ok())
      provenance(root);
    if (ok())
      variants(root);
    return m_error;
  }

private:
  bool ok() const { return !m_error; }
  void fail(Pos p, std::string message) {
    if (!m_error)
      m_error = Error(ErrorCode::profile, std::move(message), where(m_origin, p));
  }

  // An array of names -> codes, each resolved; duplicates (GREASE aside) refused.
  template <typename T>
  std::optional<std::vector<T>>
  codes(const toml::table& t, std::string_view key, const Resolver& resolve,
        std::vector<Pos>* positions = nullptr, bool allow_duplicates = false) {
    const toml::node* n = t.get(key);
    if (!n || !ok())
      return std::nullopt;
    const toml::array* a = n->as_array();
    if (!a) {
      fail(pos_of(n->source()), quote(key) + " must be an array of names");
      return std::nullopt;
    }
    std::vector<T> out;
    for (const toml::node& el : *a) {
      Pos p = pos_of(el.source());
      if (!el.is_string()) {
        fail(p, quote(key) + " entries must be strings (names)");
        return std::nullopt;
      }
      const std::string& name = el.as_string()->get();
      Resolved r = resolve(name);
      if (!r.code) {
        fail(p, r.error);
        return std::nullopt;
      }
      const T code = static_cast<T>(*r.code);
      if (!allow_duplicates && !is_grease_code(*r.code) &&
          std::find(out.begin(), out.end(), code) != out.end()) {
        fail(p, "duplicate " + quote(name) + " in " + std::string(key));
        return std::nullopt;
      }
      out.push_back(code);
      if (positions)
        positions->push_back(p);
    }
    return out;
  }

  std::optional<std::vector<std::string>> alpn(const toml::table& t) {
    const toml::node* n = t.get("alpn");
    if (!n || !ok())
      return std::nullopt;
    const toml::array* a = n->as_array();
    if (!a) {
      fail(pos_of(n->source()), "'alpn' must be an array of protocol names");
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (const toml::node& el : *a) {
      Pos p = pos_of(el.source());
      if (!el.is_string()) {
        fail(p, "'alpn' entries must be strings");
        return std::nullopt;
      }
      const std::string& s = el.as_string()->get();
      if (s.empty() || s.size() > 255) {
        fail(p, "ALPN protocol names must be 1 to 255 bytes");
        return std::nullopt;
      }
      if (std::find(out.begin(), out.end(), s) != out.end()) {
        fail(p, "duplicate ALPN protocol " + quote(s));
        return std::nullopt;
      }
      out.push_back(s);
    }
    return out;
  }

  std::optional<std::vector<TlsVersion>> versions(const toml::table& t, Pos fallback) {
    const toml::node* n = t.get("versions");
    if (!n || !ok())
      return std::nullopt;
    std::vector<Pos> at;
    auto list = codes<std::uint16_t>(t, "versions", version_code, &at);
    if (!list)
      return std::nullopt;
    std::vector<TlsVersion> out;
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto code = (*list)[i];
      auto v = std::find_if(k_all_tls_versions.begin(), k_all_tls_versions.end(),
                            [code](TlsVersion x) { return wire_version(x) == code; });
      if (v == k_all_tls_versions.end()) {
        fail(at[i], "GREASE is not a version to accept (list it in supported_versions)");
        return std::nullopt;
      }
      if (!out.empty() && *v < out.back()) {
        fail(at[i], "versions must be in ascending order: " + quote(version_name(*v)) + " after " +
                        quote(version_name(out.back())));
        return std::nullopt;
      }
      if (!out.empty() && static_cast<int>(*v) != static_cast<int>(out.back()) + 1) {
        fail(at[i], "versions must be contiguous: " + quote(version_name(*v)) + " follows " +
                        quote(version_name(out.back())));
        return std::nullopt;
      }
      out.push_back(*v);
    }
    if (out.empty()) {
      fail(pos_of(n->source()), "versions must list at least one TLS version");
      return std::nullopt;
    }
    if (m_pos.versions.empty())
      m_pos.versions = at;
    (void)fallback;
    return out;
  }

  std::optional<std::uint16_t> single_version(const toml::table& t, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n || !ok())
      return std::nullopt;
    if (!n->is_string()) {
      fail(pos_of(n->source()), quote(key) + " must be a version name (\"TLSv1\")");
      return std::nullopt;
    }
    Resolved r = version_code(n->as_string()->get());
    if (!r.code || *r.code == k_grease) {
      fail(pos_of(n->source()), r.code ? "GREASE is not a record or legacy version" : r.error);
      return std::nullopt;
    }
    return *r.code;
  }

  void hello(const toml::table& t) {
    for (auto&& [k, v] : t) {
      (void)v;
      const auto& fields = hello_field_names();
      if (k.str() == "sni" || std::find(fields.begin(), fields.end(), k.str()) == fields.end()) {
        fail(pos_of(k.source()), "unknown key " + quote(k.str()) + " in [hello]");
        return;
      }
      m_hello_keys.emplace_back(std::string(k.str()), pos_of(k.source()));
    }
    WireHello& h = m_p.hello;
    if (!t.get("versions")) {
      fail(m_pos.hello, "missing required key 'versions' in [hello]");
      return;
    }
    if (auto v = versions(t, m_pos.hello))
      h.versions = *v;
    if (auto v = single_version(t, "record_version"))
      h.record_version = *v;
    if (auto v = single_version(t, "legacy_version"))
      h.legacy_version = *v;
    if (auto v = codes<std::uint16_t>(t, "supported_versions", version_code))
      h.supported_versions = *v;
    std::vector<Pos> suite_pos;
    if (auto v = codes<std::uint16_t>(t, "cipher_suites", suite_name, &suite_pos))
      h.cipher_suites = *v;
    if (auto v = codes<std::uint16_t>(t, "extensions", extension_name, &m_extension_pos))
      h.extensions = *v;
    if (auto v = codes<std::uint16_t>(t, "groups", group_name))
      h.groups = *v;
    std::vector<Pos> share_pos;
    if (auto v = codes<std::uint16_t>(t, "key_shares", group_name, &share_pos))
      h.key_shares = *v;
    if (auto v = codes<std::uint8_t>(t, "ec_point_formats", point_format_name))
      h.ec_point_formats = *v;
    if (auto v = codes<std::uint16_t>(t, "signature_algorithms", sigalg_name))
      h.signature_algorithms = *v;
    if (auto v = codes<std::uint16_t>(t, "signature_algorithms_cert", sigalg_name))
      h.signature_algorithms_cert = *v;
    if (auto v = alpn(t))
      h.alpn = *v;
    if (auto v = codes<std::uint8_t>(t, "psk_key_exchange_modes", psk_mode_name))
      h.psk_key_exchange_modes = *v;
    if (auto v = codes<std::uint16_t>(t, "compress_certificate", compression_name))
      h.compress_certificate = *v;
    if (const toml::node* n = t.get("tcp_max_segment"); n && ok()) {
      auto i = n->value<std::int64_t>();
      if (!n->is_integer() || !i || (*i != 0 && (*i < 64 || *i > 65535)))
        fail(pos_of(n->source()),
             "tcp_max_segment must be 0 (one segment) or a segment size of 64 to 65535 bytes");
      else
        h.tcp_max_segment = static_cast<std::uint16_t>(*i);
    }
    if (!ok())
      return;
    for (std::size_t i = 0; i < h.key_shares.size() && ok(); ++i)
      key_share_check(h, i, share_pos[i]);
    if (ok())
      suite_versions(t, h);
    if (ok())
      suites_usable(h, suite_pos, m_pos.hello);
    if (ok())
      extensions_agree(h, m_pos.hello);
  }

  void key_share_check(const WireHello& h, std::size_t i, Pos p) {
    auto g = h.key_shares[i];
    auto it = std::find(h.groups.begin(), h.groups.end(), g);
    if (it == h.groups.end()) {
      fail(p, "key share " + quote(group_label(g)) + " is not in groups (supported_groups)");
      return;
    }
    if (i > 0) {
      auto prev = std::find(h.groups.begin(), h.groups.end(), h.key_shares[i - 1]);
      if (it < prev)
        fail(p, "key_shares must follow the order of groups: " + quote(group_label(g)) +
                    " comes before " + quote(group_label(h.key_shares[i - 1])) + " in groups");
    }
  }

  static std::string group_label(std::uint16_t g) {
    if (is_grease_code(g))
      return "GREASE";
    const auto* info = tls::find_group(g);
    return info ? std::string(info->name) : hex4(g);
  }

  void suite_versions(const toml::table& t, WireHello& h) {
    const toml::node* n = t.get("suite_versions");
    if (!n)
      return;
    const toml::table* st = n->as_table();
    if (!st) {
      fail(pos_of(n->source()), "'suite_versions' must be a table: suite name = [versions] "
                                "(\"DES-CBC3-SHA\" = [\"TLSv1\"])");
      return;
    }
    for (auto&& [k, v] : *st) {
      Pos kp = pos_of(k.source());
      Resolved r = suite_name(k.str());
      if (!r.code || is_grease_code(*r.code) || *r.code == k_scsv) {
        fail(kp,
             r.code ? "suite_versions needs a real cipher suite, not " + quote(k.str()) : r.error);
        return;
      }
      if (std::find(h.cipher_suites.begin(), h.cipher_suites.end(), *r.code) ==
          h.cipher_suites.end()) {
        fail(kp, "suite_versions names " + quote(k.str()) + ", which is not in cipher_suites");
        return;
      }
      const toml::array* a = v.as_array();
      if (!a || a->empty()) {
        fail(pos_of(v.source()),
             "suite_versions." + std::string(k.str()) + " must be a non-empty array of versions");
        return;
      }
      const auto* info = tls::find_cipher_suite(*r.code);
      std::vector<TlsVersion> list;
      for (const toml::node& el : *a) {
        Pos p = pos_of(el.source());
        auto ver = el.is_string() ? parse_tls_version(el.as_string()->get()) : std::nullopt;
        if (!ver) {
          fail(p, "suite_versions entries must be TLS version names (\"TLSv1\")");
          return;
        }
        if (std::find(h.versions.begin(), h.versions.end(), *ver) == h.versions.end()) {
          fail(p, "suite_versions: " + quote(version_name(*ver)) + " for " + quote(k.str()) +
                      " is not in versions");
          return;
        }
        if (info && (info->versions & tls::version_bit(*ver)) == 0) {
          fail(p, "suite_versions: " + quote(k.str()) + " is not defined for " +
                      quote(version_name(*ver)));
          return;
        }
        if (std::find(list.begin(), list.end(), *ver) != list.end()) {
          fail(p, "duplicate version " + quote(version_name(*ver)) + " in suite_versions");
          return;
        }
        list.push_back(*ver);
      }
      h.suite_versions[*r.code] = list;
    }
  }

  // At least one real suite usable at an offered version.
  void suites_usable(const WireHello& h, const std::vector<Pos>& at, Pos table) {
    std::uint8_t offered = 0;
    for (auto v : h.versions)
      offered |= tls::version_bit(v);
    for (std::size_t i = 0; i < h.cipher_suites.size(); ++i) {
      auto c = h.cipher_suites[i];
      if (is_grease_code(c) || c == k_scsv)
        continue;
      const auto* info = tls::find_cipher_suite(c);
      if (info && (info->versions & offered) != 0)
        return;
      (void)at;
    }
    fail(table, "cipher_suites has no suite usable at the offered versions");
  }

  // A field's extension is listed exactly when the field has values.
  void extensions_agree(const WireHello& h, Pos table) {
    struct Pair {
      std::uint16_t ext;
      std::string_view field;
      bool has_values;
      bool values_required; // the extension means nothing without values
    };
    const Pair pairs[] = {
        {0x000a, "groups", !h.groups.empty(), true},
        {0x000b, "ec_point_formats", !h.ec_point_formats.empty(), true},
        {0x000d, "signature_algorithms", !h.signature_algorithms.empty(), true},
        {0x0032, "signature_algorithms_cert", !h.signature_algorithms_cert.empty(), true},
        {0x0010, "alpn", !h.alpn.empty(), true},
        {0x002d, "psk_key_exchange_modes", !h.psk_key_exchange_modes.empty(), true},
        {0x001b, "compress_certificate", !h.compress_certificate.empty(), true},
        {0x0033, "key_shares", !h.key_shares.empty(), false},
        {0x002b, "supported_versions", !h.supported_versions.empty(), false},
    };
    for (const auto& pr : pairs) {
      const bool listed = h.has_extension(pr.ext);
      if (pr.has_values && !listed) {
        fail(table, std::string(pr.field) + " has values but extensions has no " +
                        tls::extension_name(pr.ext));
        return;
      }
      if (listed && pr.values_required && !pr.has_values) {
        fail(extension_pos(h, pr.ext), tls::extension_name(pr.ext) + " is in extensions but " +
                                           std::string(pr.field) + " is empty");
        return;
      }
    }
    const bool tls13 =
        std::find(h.versions.begin(), h.versions.end(), TlsVersion::tls1_3) != h.versions.end();
    if (tls13 && (!h.has_extension(0x002b) || !h.has_extension(0x0033)))
      fail(table, "TLSv1.3 is offered but extensions lacks supported_versions or key_share");
  }

  Pos extension_pos(const WireHello& h, std::uint16_t ext) const {
    for (std::size_t i = 0; i < h.extensions.size() && i < m_extension_pos.size(); ++i)
      if (h.extensions[i] == ext)
        return m_extension_pos[i];
    return m_pos.hello;
  }

  std::optional<Provenance> one_provenance(const toml::node& n, std::string_view context) {
    Pos p = pos_of(n.source());
    const toml::table* t = n.as_table();
    if (!t) {
      fail(p, std::string(context) + " must be a table { source, reference, note }");
      return std::nullopt;
    }
    for (auto&& [k, v] : *t) {
      (void)v;
      if (k.str() != "source" && k.str() != "reference" && k.str() != "note") {
        fail(pos_of(k.source()), "unknown key " + quote(k.str()) + " in " + std::string(context) +
                                     " (expected source, reference, note)");
        return std::nullopt;
      }
    }
    auto str = [t](std::string_view key) -> std::optional<std::string> {
      if (const toml::node* x = t->get(key); x && x->is_string())
        return x->as_string()->get();
      return std::nullopt;
    };
    Provenance out;
    const toml::node* src = t->get("source");
    auto kind = str("source") ? parse_source_kind(*str("source")) : std::nullopt;
    if (!kind) {
      fail(src ? pos_of(src->source()) : p,
           std::string(context) + " needs source = \"documented\", \"inferred\" or \"assumed\"");
      return std::nullopt;
    }
    out.kind = *kind;
    out.reference = str("reference").value_or("");
    out.note = str("note").value_or("");
    if (out.note.empty() || out.note.find('\n') != std::string::npos) {
      fail(p, std::string(context) + " needs a note: one sentence on what the source says");
      return std::nullopt;
    }
    const toml::node* ref = t->get("reference");
    Pos rp = ref ? pos_of(ref->source()) : p;
    if (out.kind == SourceKind::documented && out.reference.rfind("https://", 0) != 0 &&
        out.reference.rfind("http://", 0) != 0) {
      fail(rp, std::string(context) + ": a documented source needs a reference URL (https://...)");
      return std::nullopt;
    }
    if (out.kind == SourceKind::inferred) {
      auto at = out.reference.find('@');
      auto slash = out.reference.find('/');
      auto colon = at == std::string::npos ? at : out.reference.find(':', at);
      if (slash == std::string::npos || at == std::string::npos || slash > at ||
          colon == std::string::npos || colon + 1 == out.reference.size()) {
        fail(rp, std::string(context) +
                     ": an inferred source needs reference = \"owner/repo@commit:path\"");
        return std::nullopt;
      }
    }
    return out;
  }

  void provenance(const toml::table& root) {
    const toml::node* n = root.get("provenance");
    const toml::table* t = n ? n->as_table() : nullptr;
    if (n && !t) {
      fail(pos_of(n->source()),
           "'provenance' must be a table: field = { source, reference, note }");
      return;
    }
    const auto& fields = hello_field_names();
    if (t) {
      for (auto&& [k, v] : *t) {
        if (std::find(fields.begin(), fields.end(), k.str()) == fields.end()) {
          fail(pos_of(k.source()), "provenance for unknown hello field " + quote(k.str()));
          return;
        }
        auto pr = one_provenance(v, "provenance." + std::string(k.str()));
        if (!pr)
          return;
        m_p.provenance[std::string(k.str())] = *pr;
      }
    }
    for (const auto& [key, p] : m_hello_keys) {
      if (!m_p.provenance.count(key)) {
        fail(p,
             "hello field " + quote(key) + " has no provenance (add provenance." + key +
                 " = { source = \"documented\" | \"inferred\" | \"assumed\", reference, note })");
        return;
      }
    }
  }

  std::optional<HelloEdit> edit(const toml::node& n) {
    Pos p = pos_of(n.source());
    const toml::table* t = n.as_table();
    if (!t) {
      fail(p, "'hellos' entries must be tables (label and the fields they replace)");
      return std::nullopt;
    }
    for (auto&& [k, v] : *t) {
      (void)v;
      if (std::find(std::begin(k_edit_keys), std::end(k_edit_keys), k.str()) ==
          std::end(k_edit_keys)) {
        fail(pos_of(k.source()), "unknown key " + quote(k.str()) +
                                     " in a variant hello (expected label, versions, "
                                     "cipher_suites, extensions, groups, key_shares, "
                                     "signature_algorithms, alpn)");
        return std::nullopt;
      }
    }
    HelloEdit e;
    if (const toml::node* l = t->get("label")) {
      if (!l->is_string() || !valid_word(l->as_string()->get())) {
        fail(pos_of(l->source()), "a hello label must be lower-case letters, digits, '-' or '_'");
        return std::nullopt;
      }
      e.label = l->as_string()->get();
    }
    if (t->get("versions"))
      e.versions = versions(*t, p);
    e.cipher_suites = codes<std::uint16_t>(*t, "cipher_suites", suite_name);
    e.extensions = codes<std::uint16_t>(*t, "extensions", extension_name);
    e.groups = codes<std::uint16_t>(*t, "groups", group_name);
    e.key_shares = codes<std::uint16_t>(*t, "key_shares", group_name);
    e.signature_algorithms = codes<std::uint16_t>(*t, "signature_algorithms", sigalg_name);
    e.alpn = alpn(*t);
    if (!ok())
      return std::nullopt;
    return e;
  }

  std::optional<std::string> word(const toml::table& t, std::string_view key, Pos table,
                                  std::string_view context, bool required = true) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required)
        fail(table, "missing required key " + quote(key) + " in " + std::string(context));
      return std::nullopt;
    }
    if (!n->is_string()) {
      fail(pos_of(n->source()), quote(key) + " must be a string");
      return std::nullopt;
    }
    return n->as_string()->get();
  }

  void variants(const toml::table& root) {
    const toml::node* n = root.get("variants");
    if (!n)
      return;
    const toml::array* a = n->as_array();
    if (!a) {
      fail(pos_of(n->source()), "'variants' must be an array of tables ([[variants]])");
      return;
    }
    for (const toml::node& el : *a) {
      if (!ok())
        return;
      Pos vp = pos_of(el.source());
      const toml::table* t = el.as_table();
      if (!t) {
        fail(vp, "'variants' entries must be tables");
        return;
      }
      for (auto&& [k, v] : *t) {
        (void)v;
        if (k.str() != "name" && k.str() != "description" && k.str() != "default" &&
            k.str() != "provenance" && k.str() != "values") {
          fail(pos_of(k.source()), "unknown key " + quote(k.str()) +
                                       " in [[variants]] (expected name, description, default, "
                                       "provenance, values)");
          return;
        }
      }
      Variant var;
      VariantPositions vpos;
      vpos.table = vp;
      var.name = word(*t, "name", vp, "[[variants]]").value_or("");
      var.description = word(*t, "description", vp, "[[variants]]").value_or("");
      if (!ok())
        return;
      if (!valid_word(var.name)) {
        fail(pos_of(t->get("name")->source()),
             "variant name " + quote(var.name) + " must be lower-case letters, digits, '-' or '_'");
        return;
      }
      for (const auto& other : m_p.variants)
        if (other.name == var.name) {
          fail(pos_of(t->get("name")->source()), "duplicate variant " + quote(var.name));
          return;
        }
      var.default_value = word(*t, "default", vp, "[[variants]]").value_or("");
      if (const toml::node* d = t->get("default"))
        vpos.default_value = pos_of(d->source());
      const toml::node* pn = t->get("provenance");
      if (!pn && ok()) {
        fail(vp, "variant " + quote(var.name) + " needs provenance = { source, reference, note }");
        return;
      }
      if (!ok())
        return;
      auto pr = one_provenance(*pn, "the provenance of variant " + quote(var.name));
      if (!pr)
        return;
      var.provenance = *pr;
      const toml::node* vn = t->get("values");
      const toml::array* va = vn ? vn->as_array() : nullptr;
      if (!va || va->empty()) {
        fail(vn ? pos_of(vn->source()) : vp,
             "variant " + quote(var.name) + " needs [[variants.values]] (at least one)");
        return;
      }
      for (const toml::node& ve : *va) {
        if (!value(ve, var, vpos))
          return;
      }
      if (!var.find(var.default_value)) {
        std::string known;
        for (const auto& v : var.values)
          known += (known.empty() ? "" : ", ") + v.name;
        fail(vpos.default_value, "default " + quote(var.default_value) + " of variant " +
                                     quote(var.name) + " is not one of its values (" + known + ")");
        return;
      }
      m_p.variants.push_back(std::move(var));
      m_pos.variants.push_back(std::move(vpos));
    }
  }

  bool value(const toml::node& ve, Variant& var, VariantPositions& vpos) {
    Pos p = pos_of(ve.source());
    const toml::table* t = ve.as_table();
    if (!t) {
      fail(p, "'values' entries must be tables ([[variants.values]])");
      return false;
    }
    for (auto&& [k, v] : *t) {
      (void)v;
      if (k.str() != "name" && k.str() != "description" && k.str() != "provenance" &&
          k.str() != "hellos") {
        fail(pos_of(k.source()), "unknown key " + quote(k.str()) +
                                     " in [[variants.values]] (expected name, description, "
                                     "provenance, hellos)");
        return false;
      }
    }
    VariantValue val;
    val.name = word(*t, "name", p, "[[variants.values]]").value_or("");
    val.description = word(*t, "description", p, "[[variants.values]]").value_or("");
    if (!ok())
      return false;
    if (!valid_word(val.name)) {
      fail(pos_of(t->get("name")->source()),
           "variant value " + quote(val.name) + " must be lower-case letters, digits, '-' or '_'");
      return false;
    }
    if (var.find(val.name)) {
      fail(pos_of(t->get("name")->source()),
           "duplicate value " + quote(val.name) + " in variant " + quote(var.name));
      return false;
    }
    if (const toml::node* pn = t->get("provenance")) {
      val.provenance = one_provenance(*pn, "the provenance of " + var.name + "=" + val.name);
      if (!ok())
        return false;
    }
    if (const toml::node* hn = t->get("hellos")) {
      const toml::array* ha = hn->as_array();
      if (!ha) {
        fail(pos_of(hn->source()), "'hellos' must be an array of tables");
        return false;
      }
      for (const toml::node& he : *ha) {
        auto e = edit(he);
        if (!e)
          return false;
        val.hellos.push_back(std::move(*e));
      }
    }
    var.values.push_back(std::move(val));
    vpos.values.push_back(p);
    return true;
  }

  const std::string& m_origin;
  Profile& m_p;
  ProfilePositions& m_pos;
  std::optional<Error> m_error;
  std::vector<std::pair<std::string, Pos>> m_hello_keys;
  std::vector<Pos> m_extension_pos;
};

} // namespace

std::optional<Error> read_format2(const toml::table& root, const std::string& origin, Profile& p,
                                  ProfilePositions& pos) {
  return Format2(origin, p, pos).run(root);
}

} // namespace edgeshake::profiles::detail
