// The wire hello and its OpenSSL approximation, each derived from the other:
// a format-1 profile's hello is what OpenSSL 3.0 sends for its settings; a
// format-2 profile's OpenSSL settings are what OpenSSL 3.0 can offer of its hello.
// The rules of OpenSSL 3.0's ClientHello (ssl/statem/extensions_clnt.c,
// ssl/t1_lib.c) are checked against its real bytes by tests/handshake/test_client_hello.cpp.
#include "profiles/derive.hpp"

#include "common/tls_registry.hpp"
#include "profiles/openssl_names.hpp"

#include <algorithm>

namespace edgeshake::profiles::detail {

namespace {

constexpr std::uint16_t k_scsv = 0x00ff;

bool grease(std::uint16_t v) {
  return v == k_grease || tls::is_grease(v);
}

template <typename T, typename V>
bool contains(const T& list, const V& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// OpenSSL 3.0's default signature algorithms (ssl/t1_lib.c tls12_sigalgs), in order.
constexpr std::uint16_t k_openssl_sigalgs[] = {
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804, 0x0805, 0x0806, 0x0401,
    0x0501, 0x0601, 0x0303, 0x0203, 0x0301, 0x0201, 0x0302, 0x0202, 0x0402, 0x0502, 0x0602};

bool sha1_scheme(std::uint16_t s) {
  return (s >> 8) == 0x02 && (s & 0xff) <= 0x03;
}
bool sha224_scheme(std::uint16_t s) {
  return (s >> 8) == 0x03;
}
bool dsa_scheme(std::uint16_t s) {
  return (s & 0xff) == 0x02 && (s >> 8) >= 0x02 && (s >> 8) <= 0x06;
}

// Whether OpenSSL 3.0 puts a scheme into its ClientHello at this security level
// (tls12_sigalg_allowed: SHA-1 counts as 64 bits, SHA-224 as 112) and minimum
// version (a TLS 1.3-only client leaves out DSA, SHA-1 and SHA-224).
bool sigalg_sent(std::uint16_t s, int level, TlsVersion min) {
  if (sha1_scheme(s) && level >= 1)
    return false;
  if (sha224_scheme(s) && level >= 3)
    return false;
  if (min >= TlsVersion::tls1_3 && (dsa_scheme(s) || sha1_scheme(s) || sha224_scheme(s)))
    return false;
  return true;
}

std::string group_openssl_name(std::uint16_t g) {
  switch (g) {
  case 29:
    return "X25519";
  case 30:
    return "X448";
  case 23:
    return "P-256";
  case 24:
    return "P-384";
  case 25:
    return "P-521";
  default:
    break;
  }
  const auto* info = tls::find_group(g);
  return info ? std::string(info->name) : std::string();
}

std::string group_label(std::uint16_t g) {
  if (grease(g))
    return "GREASE";
  auto n = group_openssl_name(g);
  return n.empty() ? "0x" + std::to_string(g) : n;
}

// Whether OpenSSL's default security callback lets a group through at this
// level (its security bits against 80/112/128/192/256 for levels 1-5).
bool group_allowed(std::uint16_t g, int level) {
  static constexpr int k_min_bits[] = {0, 80, 112, 128, 192, 256};
  int bits = 128;
  switch (g) {
  case 24:
    bits = 192;
    break;
  case 25:
    bits = 256;
    break;
  case 30:
    bits = 224;
    break;
  case 0x0100:
    bits = 112;
    break;
  case 0x0102:
    bits = 152;
    break;
  case 0x0103:
    bits = 176;
    break;
  case 0x0104:
    bits = 192;
    break;
  default:
    break;
  }
  return bits >= k_min_bits[std::clamp(level, 0, 5)];
}

bool ecdhe_group(std::uint16_t g) {
  const auto* info = tls::find_group(g);
  return info && (info->versions & tls::k_tls1_2) != 0;
}

std::string join_names(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> group_names(const std::vector<std::uint16_t>& v) {
  std::vector<std::string> out;
  for (auto g : v)
    out.push_back(group_label(g));
  return out;
}

std::vector<std::string> extension_names(const std::vector<std::uint16_t>& v) {
  std::vector<std::string> out;
  for (auto e : v)
    out.push_back(grease(e) ? "GREASE" : tls::extension_name(e));
  return out;
}

std::string point_formats(const std::vector<std::uint8_t>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i)
    out += (i ? "," : "") + std::to_string(v[i]);
  return out + "]";
}

} // namespace

WireHello openssl_wire_hello(const Profile& p) {
  WireHello h;
  h.label = "";
  OpensslNames names;
  std::vector<TlsVersion> versions;
  for (auto v : p.versions)
    if (OpensslNames::version_supported(v))
      versions.push_back(v);
  if (versions.empty())
    return h;
  const TlsVersion min = versions.front(), max = versions.back();
  const bool tls13 = max == TlsVersion::tls1_3;
  const int level = min < TlsVersion::tls1_2 ? 0 : std::max(0, p.security_level);
  h.versions = versions;
  h.record_version = 0x0301;
  h.legacy_version = static_cast<std::uint16_t>(wire_version(std::min(max, TlsVersion::tls1_2)));

  // Suites: SSL_get1_supported_ciphers (TLS 1.3 first), then the SCSV.
  bool ecc_suite = false;
  if (auto offered =
          names.offered_ciphers(min, max, p.ciphers, p.tls13_ciphersuites, p.security_level)) {
    for (const auto& name : *offered) {
      auto code = tls::cipher_suite_by_name(name);
      if (!code)
        continue;
      h.cipher_suites.push_back(*code);
      const auto* info = tls::find_cipher_suite(*code);
      if (name.find("ECDHE") != std::string::npos || name.find("ECDSA") != std::string::npos ||
          (info && info->versions == tls::k_tls1_3))
        ecc_suite = true;
    }
  }
  h.cipher_suites.push_back(k_scsv);

  // supported_groups: the groups valid in [min, max] (before TLS 1.3 only ECDHE curves).
  for (const auto& name : p.groups) {
    auto code = tls::group_by_name(name);
    if (!code)
      continue;
    if ((!tls13 && !ecdhe_group(*code)) || !group_allowed(*code, level))
      continue;
    h.groups.push_back(*code);
  }
  const bool ecc =
      ecc_suite && (!tls13 || std::any_of(h.groups.begin(), h.groups.end(),
                                          [](std::uint16_t g) { return ecdhe_group(g); }));
  if (!ecc && !tls13)
    h.groups.clear();
  if (tls13) {
    for (auto g : h.groups) {
      const auto* info = tls::find_group(g);
      if (info && (info->versions & tls::k_tls1_3) != 0) {
        h.key_shares = {g};
        break;
      }
    }
  }
  if (max >= TlsVersion::tls1_2) {
    std::vector<std::uint16_t> wanted;
    if (p.signature_algorithms.empty()) {
      wanted.assign(std::begin(k_openssl_sigalgs), std::end(k_openssl_sigalgs));
    } else {
      for (const auto& name : p.signature_algorithms)
        if (auto s = tls::signature_scheme_by_name(name))
          wanted.push_back(*s);
    }
    for (auto s : wanted)
      if (sigalg_sent(s, level, min))
        h.signature_algorithms.push_back(s);
  }
  h.alpn = p.alpn;

  // Extensions in OpenSSL 3.0's order (ssl/statem/extensions.c ext_defs).
  h.extensions.push_back(0x0000);
  if (ecc) {
    h.extensions.push_back(0x000b);
    h.ec_point_formats = {0, 1, 2};
  }
  if (!h.groups.empty())
    h.extensions.push_back(0x000a);
  // SSL_SECOP_TICKET: the default callback refuses tickets from level 3.
  if (p.openssl.session_ticket && level < 3)
    h.extensions.push_back(0x0023);
  if (p.openssl.status_request)
    h.extensions.push_back(0x0005);
  if (!h.alpn.empty())
    h.extensions.push_back(0x0010);
  if (p.openssl.encrypt_then_mac)
    h.extensions.push_back(0x0016);
  if (p.openssl.extended_master_secret)
    h.extensions.push_back(0x0017);
  if (!h.signature_algorithms.empty())
    h.extensions.push_back(0x000d);
  if (tls13) {
    h.extensions.push_back(0x002b);
    h.extensions.push_back(0x002d);
    h.psk_key_exchange_modes = {1};
    h.extensions.push_back(0x0033);
  }
  if (p.openssl.padding)
    h.extensions.push_back(0x0015);
  return h;
}

void derive_openssl(Profile& p) {
  if (p.hellos.empty())
    return;
  const WireHello& h = p.hellos.front();
  OpensslNames names;
  p.versions.clear();
  for (auto v : h.versions)
    if (OpensslNames::version_supported(v))
      p.versions.push_back(v);
  p.ciphers.clear();
  p.tls13_ciphersuites.clear();
  p.ciphers_not_offered.clear();
  p.groups.clear();
  p.groups_not_offered.clear();
  p.signature_algorithms.clear();
  p.alpn = h.alpn;
  OpensslHello& o = p.openssl;
  o = OpensslHello{};
  o.status_request = h.has_extension(0x0005);
  o.session_ticket = h.has_extension(0x0023);
  o.encrypt_then_mac = h.has_extension(0x0016);
  o.extended_master_secret = h.has_extension(0x0017);
  o.padding = h.has_extension(0x0015);

  // Suites: split by kind, then keep what the linked OpenSSL would really put
  // in its ClientHello at these versions and this security level.
  std::vector<std::string> tls12, tls13;
  for (auto c : h.cipher_suites) {
    if (grease(c) || c == k_scsv)
      continue;
    const auto* info = tls::find_cipher_suite(c);
    const std::string display(tls::display_name(c));
    if (!info || info->openssl_name.empty()) {
      p.ciphers_not_offered.push_back({display, "the linked OpenSSL has no such suite"});
      continue;
    }
    const std::string name(info->openssl_name);
    if (info->versions == tls::k_tls1_3) {
      if (names.tls13_suite(name).status == NameStatus::ok)
        tls13.push_back(name);
      else
        p.ciphers_not_offered.push_back(
            {name, "the linked OpenSSL cannot offer this TLS 1.3 suite"});
    } else if (names.cipher(name).status == NameStatus::ok) {
      tls12.push_back(name);
    } else {
      p.ciphers_not_offered.push_back(
          {name, "the linked OpenSSL cannot offer it (Debian's OpenSSL 3 has no 3DES, RC4 or "
                 "export suites)"});
    }
  }
  if (!p.versions.empty()) {
    auto offered = names.offered_ciphers(p.versions.front(), p.versions.back(), tls12, tls13,
                                         p.security_level);
    for (const auto& list : {&tls12, &tls13}) {
      for (const auto& name : *list) {
        if (offered && contains(*offered, name))
          (list == &tls12 ? p.ciphers : p.tls13_ciphersuites).push_back(name);
        else
          p.ciphers_not_offered.push_back(
              {name, "the linked OpenSSL does not offer it at these versions and security_level " +
                         std::to_string(p.security_level)});
      }
    }
  }
  for (auto g : h.groups) {
    if (grease(g))
      continue;
    const std::string name = group_openssl_name(g);
    if (!name.empty() && names.group(name).status == NameStatus::ok)
      p.groups.push_back(name);
    else
      p.groups_not_offered.push_back(
          {name.empty() ? "0x" + std::to_string(g) : name, "OpenSSL 3.0 has no such group"});
  }
  std::vector<std::string> sigalgs_missing;
  for (auto s : h.signature_algorithms) {
    const std::string name(tls::openssl_sigalg_name(s));
    if (!name.empty() && names.sigalg(name).status == NameStatus::ok)
      p.signature_algorithms.push_back(name);
    else
      sigalgs_missing.push_back(tls::signature_scheme_name(s));
  }

  // What the OpenSSL probes send differently, one line each.
  const WireHello o_hello = openssl_wire_hello(p);
  auto& d = o.deviations;
  auto real = [](const std::vector<std::uint16_t>& v) {
    std::vector<std::uint16_t> out;
    for (auto x : v)
      if (!grease(x) && x != k_scsv)
        out.push_back(x);
    return out;
  };
  if (std::any_of(h.cipher_suites.begin(), h.cipher_suites.end(), grease) ||
      std::any_of(h.extensions.begin(), h.extensions.end(), grease) ||
      std::any_of(h.groups.begin(), h.groups.end(), grease))
    d.push_back("no GREASE values");
  if (real(h.cipher_suites) != real(o_hello.cipher_suites)) {
    std::vector<std::string> missing;
    for (const auto& n : p.ciphers_not_offered)
      missing.push_back(n.name);
    d.push_back(missing.empty() ? std::string("cipher suite order: TLS 1.3 suites first, then the "
                                              "others in the profile's order")
                                : "cipher suites without " + join_names(missing));
  }
  const bool reneg_ext = h.has_extension(0xff01);
  if (reneg_ext)
    d.push_back("the renegotiation SCSV (0x00ff) instead of the renegotiation_info extension");
  else if (!contains(h.cipher_suites, k_scsv))
    d.push_back("the renegotiation SCSV (0x00ff) after the suites");
  std::vector<std::uint16_t> only_profile, only_openssl, common_p, common_o;
  for (auto e : real(h.extensions)) {
    if (contains(o_hello.extensions, e))
      common_p.push_back(e);
    else if (e != 0xff01)
      only_profile.push_back(e);
  }
  for (auto e : o_hello.extensions) {
    if (contains(h.extensions, e))
      common_o.push_back(e);
    else
      only_openssl.push_back(e);
  }
  if (!only_profile.empty())
    d.push_back("no " + join_names(extension_names(only_profile)));
  if (!only_openssl.empty())
    d.push_back(join_names(extension_names(only_openssl)) + " too");
  if (common_p != common_o)
    d.push_back("extension order: OpenSSL's own (" + join_names(extension_names(common_o)) + ")");
  if (h.has_extension(0x000b) && o_hello.ec_point_formats != h.ec_point_formats &&
      !o_hello.ec_point_formats.empty())
    d.push_back("ec_point_formats " + point_formats(o_hello.ec_point_formats) + " instead of " +
                point_formats(h.ec_point_formats));
  if (real(h.groups) != o_hello.groups)
    d.push_back("supported_groups " + join_names(group_names(o_hello.groups)) + " instead of " +
                join_names(group_names(real(h.groups))));
  if (real(h.key_shares) != o_hello.key_shares && h.has_extension(0x0033))
    d.push_back("key share " + join_names(group_names(o_hello.key_shares)) + " instead of " +
                join_names(group_names(real(h.key_shares))));
  if (!sigalgs_missing.empty())
    d.push_back("signature_algorithms without " + join_names(sigalgs_missing));
  if (!h.suite_versions.empty()) {
    for (const auto& [suite, vs] : h.suite_versions) {
      (void)vs;
      if (contains(p.ciphers, std::string(tls::display_name(suite))))
        d.push_back(std::string(tls::display_name(suite)) +
                    " offered at every version (OpenSSL cannot limit a suite to some versions)");
    }
  }
  if (h.tcp_max_segment > 0)
    d.push_back("the kernel's segment size, not " + std::to_string(h.tcp_max_segment) + " bytes");
}

std::optional<std::string> hello_problem(const WireHello& h) {
  if (h.versions.empty())
    return std::string("no TLS version left");
  for (std::size_t i = 1; i < h.versions.size(); ++i)
    if (static_cast<int>(h.versions[i]) != static_cast<int>(h.versions[i - 1]) + 1)
      return std::string("versions are not contiguous and ascending");
  std::uint8_t offered = 0;
  for (auto v : h.versions)
    offered |= tls::version_bit(v);
  bool usable = false;
  for (auto c : h.cipher_suites) {
    const auto* info = grease(c) || c == k_scsv ? nullptr : tls::find_cipher_suite(c);
    if (info && (info->versions & offered) != 0)
      usable = true;
  }
  if (!usable)
    return std::string("no cipher suite usable at the offered versions");
  std::size_t last = 0;
  for (auto g : h.key_shares) {
    auto it = std::find(h.groups.begin(), h.groups.end(), g);
    if (it == h.groups.end())
      return "key share " + group_label(g) + " is not in supported_groups";
    auto at = static_cast<std::size_t>(it - h.groups.begin());
    if (at < last)
      return std::string("key shares are not in the order of supported_groups");
    last = at;
  }
  for (std::size_t i = 0; i < h.extensions.size(); ++i)
    if (!grease(h.extensions[i]) &&
        std::find(h.extensions.begin() + static_cast<std::ptrdiff_t>(i) + 1, h.extensions.end(),
                  h.extensions[i]) != h.extensions.end())
      return "duplicate extension " + tls::extension_name(h.extensions[i]);
  if (!h.groups.empty() != h.has_extension(0x000a))
    return std::string("supported_groups and the groups disagree");
  if (!h.alpn.empty() != h.has_extension(0x0010))
    return std::string("the ALPN extension and the protocols disagree");
  if (!h.signature_algorithms.empty() != h.has_extension(0x000d))
    return std::string("signature_algorithms and its extension disagree");
  if (!h.key_shares.empty() && !h.has_extension(0x0033))
    return std::string("key shares without the key_share extension");
  if (offered & tls::k_tls1_3) {
    if (!h.has_extension(0x002b) || !h.has_extension(0x0033))
      return std::string("TLSv1.3 without supported_versions or key_share");
    if (h.groups.empty())
      return std::string("TLSv1.3 without any group");
  }
  return std::nullopt;
}

} // namespace edgeshake::profiles::detail
