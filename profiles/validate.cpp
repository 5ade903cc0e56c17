// The rules of docs/profiles.md "Validation": names against the linked OpenSSL,
// one entry at a time, and the contradictions between entries.
#include "profiles/openssl_names.hpp"
#include "profiles/parsed.hpp"

#include <algorithm>
#include <set>

namespace edgeshake::profiles::detail {

namespace {

std::string version_name(TlsVersion v) {
  return std::string(edgeshake::to_string(v));
}

bool valid_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253)
    return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok)
      return false;
  }
  return s.front() != '.' && s.front() != '-';
}

bool valid_mode_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

Pos at(const std::vector<Pos>& v, std::size_t i, Pos fallback) {
  return i < v.size() ? v[i] : fallback;
}

class Validator {
public:
  Validator(const Parsed& parsed, const std::string& origin)
      : m_p(parsed.profile), m_pos(parsed.pos), m_origin(origin) {}

  std::optional<Error> run() {
    if (m_p.format == 2) {
      // The hello was checked where it was read (load_hello.cpp); its OpenSSL
      // approximation is derived from it (derive.cpp).
      sources();
      sni();
      modes();
      errors();
      trust_store();
      return m_error;
    }
    sources();
    versions();
    ciphers();
    tls13();
    groups();
    sigalgs();
    alpn();
    sni();
    offered();
    modes();
    errors();
    trust_store();
    return m_error;
  }

private:
  bool fail(Pos p, std::string message) {
    if (!m_error)
      m_error = Error(ErrorCode::profile, std::move(message), where(m_origin, p));
    return false;
  }
  bool ok() const { return !m_error; }

  void sources() {
    for (std::size_t i = 0; i < m_p.sources.size() && ok(); ++i) {
      const auto& s = m_p.sources[i];
      if (s.rfind("https://", 0) != 0 && s.rfind("http://", 0) != 0)
        fail(at(m_pos.sources, i, m_pos.root),
             "source " + quote(s) + " must be a URL (http:// or https://)");
    }
  }

  void versions() {
    const auto& v = m_p.versions;
    for (std::size_t i = 0; i < v.size() && ok(); ++i) {
      Pos p = at(m_pos.versions, i, m_pos.client_hello);
      if (!OpensslNames::version_supported(v[i])) {
        fail(p, version_name(v[i]) + " is not supported by the linked OpenSSL");
        return;
      }
      if (i == 0)
        continue;
      if (v[i] == v[i - 1]) {
        fail(p, "duplicate TLS version " + quote(version_name(v[i])));
      } else if (v[i] < v[i - 1]) {
        fail(p, "versions must be in ascending order: " + quote(version_name(v[i])) + " after " +
                    quote(version_name(v[i - 1])));
      } else if (static_cast<int>(v[i]) != static_cast<int>(v[i - 1]) + 1) {
        auto missing = static_cast<TlsVersion>(static_cast<int>(v[i - 1]) + 1);
        fail(p, "versions must be contiguous: " + quote(version_name(v[i])) + " follows " +
                    quote(version_name(v[i - 1])) + " without " + quote(version_name(missing)));
      }
    }
    if (!ok() || v.empty())
      return;
    // OpenSSL 3 rates the MD5+SHA-1 signature of TLS 1.0/1.1 (EC)DHE key exchange
    // at 67 bits, so it refuses such handshakes above security level 0 ("legacy
    // sigalg disallowed or unsupported", measured with 3.0.19).
    if (v.front() < TlsVersion::tls1_2 && m_p.security_level > 0) {
      fail(m_pos.security_level,
           "security_level " + std::to_string(m_p.security_level) + " cannot negotiate " +
               version_name(v.front()) +
               ": OpenSSL 3 refuses TLS 1.0/1.1 signatures above level 0 (set security_level = 0)");
    }
  }

  bool offers_below_13() const {
    return !m_p.versions.empty() && m_p.versions.front() < TlsVersion::tls1_3;
  }
  bool offers_13() const {
    return !m_p.versions.empty() && m_p.versions.back() == TlsVersion::tls1_3;
  }
  Pos version_pos(TlsVersion wanted) const {
    for (std::size_t i = 0; i < m_p.versions.size(); ++i) {
      if (m_p.versions[i] == wanted)
        return at(m_pos.versions, i, m_pos.client_hello);
    }
    return m_pos.client_hello;
  }

  void ciphers() {
    if (!ok())
      return;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < m_p.ciphers.size() && ok(); ++i) {
      const auto& c = m_p.ciphers[i];
      Pos p = at(m_pos.ciphers, i, m_pos.ciphers_key);
      auto check = m_names.cipher(c);
      switch (check.status) {
      case NameStatus::ok:
        break;
      case NameStatus::unknown:
        fail(p, "unknown TLS 1.2 cipher " + quote(c));
        break;
      case NameStatus::alias:
        fail(p, "unknown TLS 1.2 cipher " + quote(c) + ": a cipher string selecting " +
                    std::to_string(check.matches) + " suites, not one OpenSSL cipher name");
        break;
      case NameStatus::other_kind:
        fail(p, "unknown TLS 1.2 cipher " + quote(c) +
                    ": it is a TLS 1.3 suite (list it in tls13_ciphersuites)");
        break;
      }
      if (ok() && !seen.insert(c).second)
        fail(p, "duplicate TLS 1.2 cipher " + quote(c));
    }
    for (std::size_t i = 0; i < m_p.ciphers_not_offered.size() && ok(); ++i) {
      const auto& name = m_p.ciphers_not_offered[i].name;
      if (seen.count(name))
        fail(at(m_pos.ciphers_not_offered, i, m_pos.client_hello),
             "cipher " + quote(name) + " is in both ciphers and ciphers_not_offered");
    }
    if (!ok())
      return;
    if (offers_below_13() && m_p.ciphers.empty()) {
      auto v = m_p.versions.front();
      fail(version_pos(v),
           version_name(v) + " is offered but ciphers (TLS <= 1.2 suites) is empty");
    } else if (!offers_below_13() && !m_p.ciphers.empty()) {
      fail(m_pos.ciphers_key, "ciphers are listed but no version below TLSv1.3 is offered");
    }
  }

  void tls13() {
    if (!ok())
      return;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < m_p.tls13_ciphersuites.size() && ok(); ++i) {
      const auto& c = m_p.tls13_ciphersuites[i];
      Pos p = at(m_pos.tls13_ciphersuites, i, m_pos.tls13_key);
      auto check = m_names.tls13_suite(c);
      if (check.status == NameStatus::other_kind)
        fail(p, "unknown TLS 1.3 ciphersuite " + quote(c) +
                    ": it is a TLS 1.2 cipher (list it in ciphers)");
      else if (check.status != NameStatus::ok)
        fail(p, "unknown TLS 1.3 ciphersuite " + quote(c));
      else if (!seen.insert(c).second)
        fail(p, "duplicate TLS 1.3 ciphersuite " + quote(c));
    }
    if (!ok())
      return;
    if (offers_13() && m_p.tls13_ciphersuites.empty())
      fail(version_pos(TlsVersion::tls1_3), "TLSv1.3 is offered but tls13_ciphersuites is empty");
    else if (!offers_13() && !m_p.tls13_ciphersuites.empty())
      fail(m_pos.tls13_key, "tls13_ciphersuites are listed but TLSv1.3 is not in versions");
  }

  void groups() {
    if (!ok())
      return;
    if (m_p.groups.empty()) {
      fail(m_pos.groups_key, "groups must list at least one group (supported_groups)");
      return;
    }
    for (std::size_t i = 0; i < m_p.groups.size() && ok(); ++i) {
      if (m_names.group(m_p.groups[i]).status != NameStatus::ok)
        fail(at(m_pos.groups, i, m_pos.groups_key), "unknown group " + quote(m_p.groups[i]));
    }
    if (!ok())
      return;
    if (auto bad = m_names.first_rejected_group(m_p.groups))
      fail(at(m_pos.groups, *bad, m_pos.groups_key),
           "duplicate group " + quote(m_p.groups[*bad]) + " (the same group is listed earlier)");
    for (std::size_t i = 0; i < m_p.groups_not_offered.size() && ok(); ++i) {
      const auto& name = m_p.groups_not_offered[i].name;
      if (std::find(m_p.groups.begin(), m_p.groups.end(), name) != m_p.groups.end())
        fail(at(m_pos.groups_not_offered, i, m_pos.client_hello),
             "group " + quote(name) + " is in both groups and groups_not_offered");
    }
  }

  void sigalgs() {
    if (!ok())
      return;
    const auto& s = m_p.signature_algorithms;
    for (std::size_t i = 0; i < s.size() && ok(); ++i) {
      if (m_names.sigalg(s[i]).status != NameStatus::ok)
        fail(at(m_pos.signature_algorithms, i, m_pos.client_hello),
             "unknown signature algorithm " + quote(s[i]));
    }
    if (!ok() || s.empty())
      return;
    if (auto bad = m_names.first_rejected_sigalg(s))
      fail(at(m_pos.signature_algorithms, *bad, m_pos.client_hello),
           "duplicate signature algorithm " + quote(s[*bad]) +
               " (the same algorithm is listed earlier)");
  }

  void alpn() {
    if (!ok())
      return;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < m_p.alpn.size() && ok(); ++i) {
      const auto& a = m_p.alpn[i];
      Pos p = at(m_pos.alpn, i, m_pos.client_hello);
      if (a.empty() || a.size() > 255)
        fail(p, "ALPN protocol names must be 1 to 255 bytes");
      else if (!seen.insert(a).second)
        fail(p, "duplicate ALPN protocol " + quote(a));
    }
  }

  void sni() {
    if (!ok())
      return;
    if (m_p.sni == SniPolicy::fixed) {
      if (!m_pos.has_sni_name || m_p.sni_name.empty())
        fail(m_pos.sni, "sni = \"fixed\" needs sni_name");
      else if (!valid_dns_name(m_p.sni_name))
        fail(m_pos.sni_name, "sni_name " + quote(m_p.sni_name) + " is not a DNS host name");
    } else if (m_pos.has_sni_name) {
      fail(m_pos.sni_name,
           "sni_name is set but sni is " + quote(to_string(m_p.sni)) + " (use sni = \"fixed\")");
    }
  }

  // Everything listed must really reach the ClientHello: a suite whose
  // versions are not offered (e.g. a GCM suite with TLS 1.0 only) or that the
  // security level filters out is a contradiction.
  void offered() {
    if (!ok() || m_p.versions.empty())
      return;
    auto list = m_names.offered_ciphers(m_p.versions.front(), m_p.versions.back(), m_p.ciphers,
                                        m_p.tls13_ciphersuites, m_p.security_level);
    if (!list) {
      fail(m_pos.client_hello, "the linked OpenSSL rejects these ClientHello settings as a whole");
      return;
    }
    auto range = version_name(m_p.versions.front()) +
                 (m_p.versions.size() > 1 ? ".." + version_name(m_p.versions.back()) : "");
    auto offered = [&](const std::string& name) {
      return std::find(list->begin(), list->end(), name) != list->end();
    };
    for (std::size_t i = 0; i < m_p.ciphers.size() && ok(); ++i) {
      if (!offered(m_p.ciphers[i]))
        fail(at(m_pos.ciphers, i, m_pos.ciphers_key),
             "TLS 1.2 cipher " + quote(m_p.ciphers[i]) + " would not be offered with versions " +
                 range + " at security_level " + std::to_string(m_p.security_level));
    }
    for (std::size_t i = 0; i < m_p.tls13_ciphersuites.size() && ok(); ++i) {
      if (!offered(m_p.tls13_ciphersuites[i]))
        fail(at(m_pos.tls13_ciphersuites, i, m_pos.tls13_key),
             "TLS 1.3 ciphersuite " + quote(m_p.tls13_ciphersuites[i]) +
                 " would not be offered at security_level " + std::to_string(m_p.security_level));
    }
  }

  void modes() {
    if (!ok())
      return;
    if (m_p.modes.empty()) {
      fail(m_pos.modes_key, "modes must not be empty: a profile needs at least one mode");
      return;
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < m_p.modes.size() && ok(); ++i) {
      const Mode& m = m_p.modes[i];
      const ModePositions& mp = m_pos.modes[i];
      if (!valid_mode_name(m.name)) {
        fail(mp.name,
             "mode name " + quote(m.name) + " must be lower-case letters, digits, '-' or '_'");
        return;
      }
      if (!names.insert(m.name).second) {
        fail(mp.name, "duplicate mode name " + quote(m.name));
        return;
      }
      if (m.transport == Transport::tls && !mp.has_verify) {
        fail(mp.table, "mode " + quote(m.name) +
                           " needs verify (none, chain or chain_and_name) for transport 'tls'");
        return;
      }
      if (m.transport == Transport::plaintext && m.verify != Verify::none) {
        fail(mp.verify, "mode " + quote(m.name) + " is plaintext but verify is " +
                            quote(to_string(m.verify)) + " (no certificate to check)");
        return;
      }
      for (std::size_t j = 0; j < m.extra_trust.size(); ++j) {
        const auto& t = m.extra_trust[j];
        Pos p = at(mp.extra_trust, j, mp.table);
        bool known = std::find(std::begin(k_extra_trust_names), std::end(k_extra_trust_names), t) !=
                     std::end(k_extra_trust_names);
        if (!known)
          fail(p, "unknown extra_trust " + quote(t) + " (expected cloudflare_origin_ca)");
        else if (m.verify == Verify::none)
          fail(p, "extra_trust " + quote(t) + " in mode " + quote(m.name) +
                      " has no effect with verify = 'none'");
        else if (std::count(m.extra_trust.begin(), m.extra_trust.end(), t) > 1)
          fail(p, "duplicate extra_trust " + quote(t));
        if (!ok())
          return;
      }
    }
    if (m_pos.has_default_mode && !m_p.find_mode(m_p.default_mode)) {
      std::string known;
      for (const auto& m : m_p.modes)
        known += (known.empty() ? "" : ", ") + m.name;
      fail(m_pos.default_mode,
           "default_mode " + quote(m_p.default_mode) + " is not a mode (modes: " + known + ")");
    }
  }

  // Every mode needs an edge result for every failure class it can have
  // (can_fail_with), its own or the profile's [errors].
  void errors() {
    if (!ok())
      return;
    for (std::size_t i = 0; i < m_p.modes.size() && ok(); ++i) {
      const Mode& m = m_p.modes[i];
      std::string missing;
      for (auto c : k_all_failure_classes) {
        if (can_fail_with(m, c) && !m.errors.count(c) && !m_p.errors.count(c))
          missing += (missing.empty() ? "" : ", ") + std::string(to_string(c));
      }
      if (!missing.empty())
        fail(m_pos.has_errors ? m_pos.errors_table : m_pos.modes[i].table,
             "mode " + quote(m.name) + " has no edge result for " + missing +
                 " (add them to [errors])");
    }
  }

  void trust_store() {
    if (!ok() || m_p.trust_store == "system")
      return;
    std::error_code ec;
    if (!std::filesystem::exists(m_p.trust_store, ec))
      fail(m_pos.trust_store, "trust store " + quote(m_p.trust_store) + " does not exist");
  }

  const Profile& m_p;
  const ProfilePositions& m_pos;
  const std::string& m_origin;
  OpensslNames m_names;
  std::optional<Error> m_error;
};

} // namespace

std::optional<Error> validate(const Parsed& parsed, const std::string& origin) {
  return Validator(parsed, origin).run();
}

} // namespace edgeshake::profiles::detail
