// TOML -> Profile: syntax (toml++), known keys at every level, value types and
// enum words, with the position of everything kept for validate.cpp.
#include "profiles/load_hello.hpp"
#include "profiles/parsed.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <system_error>

namespace edgeshake::profiles {

namespace fs = std::filesystem;

namespace detail {

namespace {

Pos pos_of(const toml::source_region& r) {
  if (r.begin.line == 0)
    return Pos{};
  return Pos{r.begin.line, r.begin.column};
}

std::string_view type_name(toml::node_type t) {
  switch (t) {
  case toml::node_type::none:
    return "nothing";
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a float";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::date:
    return "a date";
  case toml::node_type::time:
    return "a time";
  case toml::node_type::date_time:
    return "a date-time";
  }
  return "a value";
}

std::string one_of(std::initializer_list<std::string_view> words) {
  std::string out;
  std::size_t i = 0;
  for (auto w : words) {
    if (i > 0)
      out += i + 1 == words.size() ? " or " : ", ";
    out += w;
    ++i;
  }
  return out;
}

std::string failure_class_list() {
  std::string out;
  for (auto c : k_all_failure_classes) {
    if (!out.empty())
      out += ", ";
    out += to_string(c);
  }
  return out;
}

// Reads values out of toml++ tables; the first problem wins and later reads
// become no-ops that return defaults (toml++'s own parse_result style, without
// exceptions inside the stage).
class Reader {
public:
  explicit Reader(const std::string& origin) : m_origin(origin) {}

  void fail(Pos p, std::string message) {
    if (!m_error)
      m_error = Error(ErrorCode::profile, std::move(message), where(m_origin, p));
  }
  bool failed() const { return m_error.has_value(); }
  const Error& error() const { return *m_error; }

  // Every key of `t` must be one of `keys`.
  void allow_keys(const toml::table& t, std::initializer_list<std::string_view> keys,
                  std::string_view context) {
    for (auto&& [k, v] : t) {
      (void)v;
      if (std::find(keys.begin(), keys.end(), k.str()) == keys.end()) {
        fail(pos_of(k.source()), "unknown key " + quote(k.str()) + " " + std::string(context));
        return;
      }
    }
  }

  std::optional<std::string> string(const toml::table& t, std::string_view key, Pos* pos,
                                    bool required = false, Pos table_pos = {}) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required)
        fail(table_pos, "missing required key " + quote(key));
      return std::nullopt;
    }
    if (pos)
      *pos = pos_of(n->source());
    if (!n->is_string()) {
      fail(pos_of(n->source()),
           quote(key) + " must be a string, not " + std::string(type_name(n->type())));
      return std::nullopt;
    }
    return n->as_string()->get();
  }

  std::vector<std::string> strings(const toml::table& t, std::string_view key, Pos* key_pos,
                                   std::vector<Pos>* item_pos, bool* present = nullptr) {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (present)
      *present = n != nullptr;
    if (!n)
      return out;
    if (key_pos)
      *key_pos = pos_of(n->source());
    const toml::array* a = n->as_array();
    if (!a) {
      fail(pos_of(n->source()),
           quote(key) + " must be an array of strings, not " + std::string(type_name(n->type())));
      return out;
    }
    for (const toml::node& el : *a) {
      if (!el.is_string()) {
        fail(pos_of(el.source()),
             quote(key) + " entries must be strings, not " + std::string(type_name(el.type())));
        return out;
      }
      out.push_back(el.as_string()->get());
      if (item_pos)
        item_pos->push_back(pos_of(el.source()));
    }
    return out;
  }

  std::optional<std::int64_t> integer(const toml::table& t, std::string_view key, Pos* pos) {
    const toml::node* n = t.get(key);
    if (!n)
      return std::nullopt;
    if (pos)
      *pos = pos_of(n->source());
    if (!n->is_integer()) {
      fail(pos_of(n->source()),
           quote(key) + " must be an integer, not " + std::string(type_name(n->type())));
      return std::nullopt;
    }
    return n->as_integer()->get();
  }

  std::optional<bool> boolean(const toml::table& t, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n)
      return std::nullopt;
    if (!n->is_boolean()) {
      fail(pos_of(n->source()), quote(key) + " must be a boolean (true or false), not " +
                                    std::string(type_name(n->type())));
      return std::nullopt;
    }
    return n->as_boolean()->get();
  }

  const toml::table* table(const toml::table& t, std::string_view key, Pos* pos,
                           bool required = false) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required)
        fail(Pos{}, "missing required table [" + std::string(key) + "]");
      return nullptr;
    }
    if (pos)
      *pos = pos_of(n->source());
    if (!n->is_table()) {
      fail(pos_of(n->source()),
           quote(key) + " must be a table, not " + std::string(type_name(n->type())));
      return nullptr;
    }
    return n->as_table();
  }

  // An [errors] table: failure class -> edge result.
  void errors(const toml::table& t, std::string_view context,
              std::map<FailureClass, std::string>& out, std::map<FailureClass, Pos>* positions) {
    for (auto&& [k, v] : t) {
      auto c = parse_failure_class(k.str());
      if (!c) {
        fail(pos_of(k.source()), "unknown failure class " + quote(k.str()) + " in " +
                                     std::string(context) + " (expected one of " +
                                     failure_class_list() + ")");
        return;
      }
      if (!v.is_string()) {
        fail(pos_of(v.source()), "the edge result for " + quote(k.str()) +
                                     " must be a string, not " + std::string(type_name(v.type())));
        return;
      }
      const std::string& result = v.as_string()->get();
      if (result.empty() || result.find_first_of("\r\n") != std::string::npos) {
        fail(pos_of(v.source()),
             "the edge result for " + quote(k.str()) + " must be one non-empty line");
        return;
      }
      out[*c] = result;
      if (positions)
        (*positions)[*c] = pos_of(v.source());
    }
  }

  void not_offered(const toml::table& t, std::string_view key, std::vector<NotOffered>& out,
                   std::vector<Pos>& positions) {
    const toml::node* n = t.get(key);
    if (!n)
      return;
    const toml::array* a = n->as_array();
    if (!a) {
      fail(pos_of(n->source()), quote(key) + " must be an array of tables {name, reason}, not " +
                                    std::string(type_name(n->type())));
      return;
    }
    for (const toml::node& el : *a) {
      const toml::table* e = el.as_table();
      if (!e) {
        fail(pos_of(el.source()), quote(key) + " entries must be tables {name, reason}, not " +
                                      std::string(type_name(el.type())));
        return;
      }
      Pos p = pos_of(el.source());
      allow_keys(*e, {"name", "reason"}, "in " + std::string(key) + " (expected name, reason)");
      Pos name_pos = p;
      auto name = string(*e, "name", &name_pos, true, p);
      auto reason = string(*e, "reason", nullptr, true, p);
      if (failed())
        return;
      if (name->empty()) {
        fail(name_pos, quote(key) + " entry with an empty name");
        return;
      }
      if (reason->empty()) {
        fail(p, quote(key) + " entry " + quote(*name) + " needs a reason");
        return;
      }
      out.push_back(NotOffered{*name, *reason});
      positions.push_back(name_pos);
    }
  }

private:
  const std::string& m_origin;
  std::optional<Error> m_error;
};

void read_mode(Reader& r, const toml::table& t, Pos table_pos, Mode& m, ModePositions& mp) {
  mp.table = table_pos;
  r.allow_keys(t, {"name", "label", "transport", "verify", "port", "extra_trust", "errors"},
               "in [[modes]]");
  mp.name = table_pos;
  m.name = r.string(t, "name", &mp.name, true, table_pos).value_or("");
  m.label = r.string(t, "label", nullptr).value_or(m.name);
  if (auto s = r.string(t, "transport", &mp.transport)) {
    auto v = parse_transport(*s);
    if (!v)
      r.fail(mp.transport,
             "unknown transport " + quote(*s) + " (expected " + one_of({"tls", "plaintext"}) + ")");
    else
      m.transport = *v;
  } else {
    mp.transport = table_pos;
  }
  if (auto s = r.string(t, "verify", &mp.verify)) {
    mp.has_verify = true;
    auto v = parse_verify(*s);
    if (!v)
      r.fail(mp.verify, "unknown verify policy " + quote(*s) + " (expected " +
                            one_of({"none", "chain", "chain_and_name"}) + ")");
    else
      m.verify = *v;
  }
  if (auto p = r.integer(t, "port", &mp.port)) {
    if (*p < 0 || *p > 65535)
      r.fail(mp.port, "port must be 0 to 65535 (0 = the port the visitor used)");
    else
      m.port = static_cast<std::uint16_t>(*p);
  }
  m.extra_trust = r.strings(t, "extra_trust", nullptr, &mp.extra_trust);
  if (const toml::table* e = r.table(t, "errors", nullptr))
    r.errors(*e, "[modes.errors]", m.errors, &mp.errors);
}

// The format-1 [client_hello] fields: the OpenSSL names of the hello.
void read_openssl_hello(Reader& r, const toml::table& t, Profile& p, ProfilePositions& pos) {
  const toml::table* ch = &t;
  Pos versions_key = pos.client_hello;
  bool has_versions = false;
  std::vector<Pos> version_pos;
  auto versions = r.strings(*ch, "versions", &versions_key, &version_pos, &has_versions);
  if (!r.failed() && !has_versions)
    r.fail(pos.client_hello, "missing required key 'versions' in [client_hello]");
  for (std::size_t i = 0; i < versions.size() && !r.failed(); ++i) {
    auto v = parse_tls_version(versions[i]);
    if (!v)
      r.fail(version_pos[i], "unknown TLS version " + quote(versions[i]) +
                                 " (expected SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)");
    else
      p.versions.push_back(*v);
  }
  pos.versions = version_pos;
  if (!r.failed() && p.versions.empty())
    r.fail(versions_key, "versions must list at least one TLS version");

  pos.ciphers_key = pos.client_hello;
  p.ciphers = r.strings(*ch, "ciphers", &pos.ciphers_key, &pos.ciphers);
  r.not_offered(*ch, "ciphers_not_offered", p.ciphers_not_offered, pos.ciphers_not_offered);
  pos.tls13_key = pos.client_hello;
  p.tls13_ciphersuites =
      r.strings(*ch, "tls13_ciphersuites", &pos.tls13_key, &pos.tls13_ciphersuites);
  pos.groups_key = pos.client_hello;
  bool has_groups = false;
  p.groups = r.strings(*ch, "groups", &pos.groups_key, &pos.groups, &has_groups);
  if (!r.failed() && !has_groups)
    r.fail(pos.client_hello, "missing required key 'groups' in [client_hello]");
  r.not_offered(*ch, "groups_not_offered", p.groups_not_offered, pos.groups_not_offered);
  p.signature_algorithms =
      r.strings(*ch, "signature_algorithms", nullptr, &pos.signature_algorithms);
  p.alpn = r.strings(*ch, "alpn", nullptr, &pos.alpn);
}

} // namespace

Result<Parsed> read_profile(std::string_view toml_text, const std::string& origin,
                            const std::string& id, const fs::path& base_dir) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    return fail(ErrorCode::profile, std::string(e.description()),
                where(origin, pos_of(e.source())));
  }

  Parsed out;
  Profile& p = out.profile;
  ProfilePositions& pos = out.pos;
  Reader r(origin);

  r.allow_keys(root,
               {"format", "id", "name", "provider", "description", "sources", "assumptions",
                "client_hello", "hello", "provenance", "variants", "validation", "errors", "modes"},
               "at the top level");
  pos.format = Pos{};
  if (auto f = r.integer(root, "format", &pos.format)) {
    if (*f != 1 && *f != 2)
      r.fail(pos.format, "format must be 1 or 2 (docs/profiles.md)");
    else
      p.format = static_cast<int>(*f);
  }
  const bool f2 = p.format == 2;
  if (!f2 && !r.failed()) {
    for (std::string_view key : {"hello", "provenance", "variants"}) {
      if (const toml::node* n = root.get(key)) {
        r.fail(pos_of(n->source()),
               quote(key) + " is format 2: set format = 2 at the top level (docs/profiles.md)");
        break;
      }
    }
  }
  Pos id_pos;
  if (auto s = r.string(root, "id", &id_pos)) {
    bool ok = !s->empty() && std::all_of(s->begin(), s->end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
    if (!ok)
      r.fail(id_pos, "id " + quote(*s) + " must be lower-case letters, digits, '-', '_' or '.'");
    p.id = *s;
  } else {
    p.id = id;
  }
  Pos name_pos;
  p.name = r.string(root, "name", &name_pos, true).value_or("");
  if (!r.failed() && p.name.empty())
    r.fail(name_pos, "name must not be empty");
  p.provider = r.string(root, "provider", nullptr).value_or("");
  p.description = r.string(root, "description", nullptr).value_or("");
  p.sources = r.strings(root, "sources", nullptr, &pos.sources);
  std::vector<Pos> assumption_pos;
  p.assumptions = r.strings(root, "assumptions", nullptr, &assumption_pos);
  for (std::size_t i = 0; i < p.assumptions.size() && !r.failed(); ++i) {
    if (p.assumptions[i].empty())
      r.fail(assumption_pos[i], "assumptions must not be empty strings");
  }

  // [client_hello]
  if (const toml::table* ch = r.table(root, "client_hello", &pos.client_hello, !f2)) {
    if (f2)
      r.allow_keys(*ch, {"sni", "sni_name", "security_level", "sends_client_certificate"},
                   "in [client_hello] (format 2 keeps only sni, sni_name, security_level and "
                   "sends_client_certificate there; the hello is [hello])");
    else
      r.allow_keys(*ch,
                   {"versions", "ciphers", "ciphers_not_offered", "tls13_ciphersuites", "groups",
                    "groups_not_offered", "signature_algorithms", "alpn", "sni", "sni_name",
                    "security_level", "sends_client_certificate"},
                   "in [client_hello]");
    if (!f2)
      read_openssl_hello(r, *ch, p, pos);
    pos.sni = pos.client_hello;
    if (auto s = r.string(*ch, "sni", &pos.sni)) {
      auto v = parse_sni_policy(*s);
      if (!v)
        r.fail(pos.sni, "unknown sni policy " + quote(*s) + " (expected " +
                            one_of({"request_host", "none", "fixed"}) + ")");
      else
        p.sni = *v;
    }
    if (auto s = r.string(*ch, "sni_name", &pos.sni_name)) {
      pos.has_sni_name = true;
      p.sni_name = *s;
    }
    pos.security_level = pos.client_hello;
    if (auto n = r.integer(*ch, "security_level", &pos.security_level)) {
      if (*n < 0 || *n > 5)
        r.fail(pos.security_level, "security_level must be 0 to 5 (OpenSSL @SECLEVEL)");
      else
        p.security_level = static_cast<int>(*n);
    }
    p.sends_client_certificate = r.boolean(*ch, "sends_client_certificate").value_or(false);
  }

  // [validation]
  pos.trust_store = Pos{};
  if (const toml::table* val = r.table(root, "validation", nullptr)) {
    r.allow_keys(*val, {"trust_store", "default_mode"}, "in [validation]");
    if (auto s = r.string(*val, "trust_store", &pos.trust_store)) {
      p.trust_store = *s;
      if (!r.failed() && p.trust_store.empty())
        r.fail(pos.trust_store, "trust_store must be \"system\" or a path");
      if (!r.failed() && p.trust_store != "system" && fs::path(p.trust_store).is_relative())
        p.trust_store = (base_dir / p.trust_store).lexically_normal().string();
    }
    if (auto s = r.string(*val, "default_mode", &pos.default_mode)) {
      pos.has_default_mode = true;
      p.default_mode = *s;
    }
  }

  // [errors]
  pos.errors_table = Pos{};
  if (const toml::table* e = r.table(root, "errors", &pos.errors_table)) {
    pos.has_errors = true;
    r.errors(*e, "[errors]", p.errors, nullptr);
  }

  // [[modes]]
  if (const toml::node* n = root.get("modes")) {
    pos.modes_key = pos_of(n->source());
    const toml::array* a = n->as_array();
    if (!a) {
      r.fail(pos.modes_key, "'modes' must be an array of tables ([[modes]]), not " +
                                std::string(type_name(n->type())));
    } else {
      for (const toml::node& el : *a) {
        if (r.failed())
          break;
        const toml::table* t = el.as_table();
        if (!t) {
          r.fail(pos_of(el.source()),
                 "'modes' entries must be tables, not " + std::string(type_name(el.type())));
          break;
        }
        Mode m;
        ModePositions mp;
        read_mode(r, *t, pos_of(el.source()), m, mp);
        p.modes.push_back(std::move(m));
        pos.modes.push_back(std::move(mp));
      }
    }
  } else if (!r.failed()) {
    r.fail(Pos{}, "missing required [[modes]]: a profile needs at least one mode");
  }
  if (!r.failed() && p.default_mode.empty() && !p.modes.empty())
    p.default_mode = p.modes.front().name;

  if (!r.failed() && f2) {
    if (auto err = read_format2(root, origin, p, pos))
      return tl::unexpected(*err);
  }
  if (r.failed())
    return tl::unexpected(r.error());
  return out;
}

} // namespace detail

Result<Profile> parse_profile(std::string_view toml_text, std::string origin, std::string id) {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  auto parsed = detail::read_profile(toml_text, origin, id, cwd);
  if (!parsed)
    return tl::unexpected(parsed.error());
  if (auto err = detail::validate(*parsed, origin))
    return tl::unexpected(*err);
  if (auto err = detail::finish(*parsed, origin))
    return tl::unexpected(*err);
  parsed->profile.path = origin;
  return std::move(parsed->profile);
}

Result<Profile> load_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    return fail(ErrorCode::io, "is a directory, not a profile file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(ErrorCode::io, "cannot open profile file", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return fail(ErrorCode::io, "cannot read profile file", path);
  fs::path p(path);
  fs::path base = p.has_parent_path() ? p.parent_path() : fs::path(".");
  auto parsed = detail::read_profile(text.str(), path, p.stem().string(), base);
  if (!parsed)
    return tl::unexpected(parsed.error());
  if (auto err = detail::validate(*parsed, path))
    return tl::unexpected(*err);
  if (auto err = detail::finish(*parsed, path))
    return tl::unexpected(*err);
  parsed->profile.path = path;
  return std::move(parsed->profile);
}

Result<std::vector<Profile>> load_dir(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".toml")
      files.push_back(it->path());
  }
  if (ec)
    return fail(ErrorCode::io, "cannot read profile directory: " + ec.message(), dir);
  std::sort(files.begin(), files.end());
  std::vector<Profile> out;
  for (const auto& f : files) {
    auto p = load_file(f.string());
    if (!p)
      return tl::unexpected(p.error());
    out.push_back(std::move(*p));
  }
  return out;
}

} // namespace edgeshake::profiles
