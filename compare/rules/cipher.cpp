// Suites and groups. With a common version, the primary probe failed; the two
// swap probes isolate the part of the ClientHello the origin cannot accept:
//   profile_any_group  (CDN suites, every group) ok  => the groups
//   profile_any_cipher (every suite, CDN groups) ok  => the suites
#include "compare/rules/rule.hpp"

#include "common/tls_registry.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace edgeshake::compare::rules {

namespace {

struct Swap {
  const ProbeResult* primary = nullptr;
  const ProbeResult* any_group = nullptr;
  const ProbeResult* any_cipher = nullptr;
};

// Preconditions shared by the rules here: every hello the edge may send fails
// (`primary` is then the first failed exact hello, else the OpenSSL primary).
std::optional<Swap> swap_evidence(const OriginView& o, const std::vector<Finding>& so_far) {
  Swap s{edge_failure(o), o.get(probe_label::profile_any_group),
         o.get(probe_label::profile_any_cipher)};
  if (!s.primary || !s.any_group || !s.any_cipher || has_failure(so_far, o) || !edge_all_failed(o))
    return std::nullopt;
  using handshake::ProbeStatus;
  if (s.primary->status != ProbeStatus::tls_alert && s.primary->status != ProbeStatus::eof &&
      s.primary->status != ProbeStatus::reset && s.primary->status != ProbeStatus::protocol_error) {
    return std::nullopt;
  }
  return s;
}

// The suites the edge offers, by name: the wire hello's (which may hold suites
// OpenSSL cannot offer), else the OpenSSL list.
std::vector<std::string> offered_suites(const Context& ctx) {
  if (ctx.cdn().hellos.empty())
    return ctx.cdn().ciphers;
  std::vector<std::string> out;
  for (auto c : ctx.cdn().hellos.front().cipher_suites)
    if (tls::find_cipher_suite(c) != nullptr &&
        (tls::version_bit(TlsVersion::tls1_3) & tls::find_cipher_suite(c)->versions) == 0)
      out.emplace_back(tls::display_name(c));
  return out;
}

// When the edge offers the suite the origin picks, but not at that version
// (Cloudflare: DES-CBC3-SHA at TLS 1.0 only): the versions it accepts it at.
std::optional<std::vector<TlsVersion>> restricted_versions(const Context& ctx,
                                                           const ProbeResult& any_cipher) {
  if (ctx.cdn().hellos.empty() || any_cipher.wire.cipher_suite == 0)
    return std::nullopt;
  const auto& h = ctx.cdn().hellos.front();
  auto it = h.suite_versions.find(any_cipher.wire.cipher_suite);
  if (it == h.suite_versions.end() || !any_cipher.version ||
      std::find(it->second.begin(), it->second.end(), *any_cipher.version) != it->second.end())
    return std::nullopt;
  return it->second;
}

// Suites that exist only in TLS 1.2 (AEAD or SHA-2 MAC), by OpenSSL name.
bool tls12_only(const std::string& name) {
  return name.find("GCM") != std::string::npos || name.find("CHACHA20") != std::string::npos ||
         name.find("CCM") != std::string::npos || name.ends_with("SHA256") ||
         name.ends_with("SHA384");
}

std::string ciphers_line(const profiles::Profile& p) {
  return fmt::format("{}", fmt::join(p.ciphers, ":"));
}

std::vector<std::string> group_names(const Context& ctx) {
  if (ctx.cdn().hellos.empty())
    return ctx.cdn().groups;
  std::vector<std::string> out;
  for (auto g : ctx.cdn().hellos.front().groups)
    if (!tls::is_grease(g) && g != profiles::k_grease) {
      const auto* info = tls::find_group(g);
      out.emplace_back(info ? std::string(info->name) : fmt::format("0x{:04X}", g));
    }
  return out;
}

std::vector<Fix> cipher_fixes(const Context& ctx) {
  std::string list = ciphers_line(ctx.cdn());
  return {{"nginx", "ssl_ciphers " + list + ";"},
          {"apache", "SSLCipherSuite " + list},
          {"haproxy", "ssl-default-bind-ciphers " + list},
          {"caddy", "Remove the custom `ciphers` list from the tls directive: Go's defaults "
                    "include the ECDHE-AES-GCM suites CDNs offer."}};
}

} // namespace

std::optional<Finding> no_group_overlap(const Context& ctx, const OriginView& o,
                                        const std::vector<Finding>& so_far) {
  auto s = swap_evidence(o, so_far);
  if (!s || !handshake_ok(s->any_group) || handshake_ok(s->any_cipher))
    return std::nullopt;
  auto f =
      make_finding("no_group_overlap", &o, ctx.predict_failure(FailureClass::handshake_failure));
  const auto groups = group_names(ctx);
  f.summary = fmt::format("no common key-exchange group: origin uses {}, {} offers {}",
                          s->any_group->group.empty() ? "another group" : s->any_group->group,
                          ctx.cdn_name(), fmt::join(groups, ", "));
  f.explanation = fmt::format(
      "With {}'s own suites but every group offered, the handshake succeeds using {}; with its "
      "groups ({}) it fails. The origin's ssl_ecdh_curve (or equivalent) allows no group the CDN "
      "offers.",
      ctx.cdn_name(), s->any_group->group.empty() ? "another group" : s->any_group->group,
      fmt::join(groups, ", "));
  f.evidence = {evidence(o, *s->primary), evidence(o, *s->any_group), evidence(o, *s->any_cipher)};
  f.fixes = {{"nginx", "ssl_ecdh_curve X25519:prime256v1:secp384r1;"},
             {"apache", "SSLOpenSSLConfCmd Curves X25519:prime256v1:secp384r1"},
             {"haproxy", "ssl-default-bind-curves X25519:P-256:P-384"},
             {"caddy", "tls {\n    curves x25519 secp256r1 secp384r1\n}"}};
  f.depends_on = {"groups", "key_shares"};
  return f;
}

std::optional<Finding> no_tls13_cipher_overlap(const Context& ctx, const OriginView& o,
                                               const std::vector<Finding>& so_far) {
  auto s = swap_evidence(o, so_far);
  if (!s || !handshake_ok(s->any_cipher) || handshake_ok(s->any_group) ||
      s->any_cipher->version != TlsVersion::tls1_3) {
    return std::nullopt;
  }
  auto f = make_finding("no_tls13_cipher_overlap", &o,
                        ctx.predict_failure(FailureClass::handshake_failure));
  f.summary =
      fmt::format("no common TLS 1.3 suite: origin picks {}, {} offers {}", s->any_cipher->cipher,
                  ctx.cdn_name(), fmt::join(ctx.cdn().tls13_ciphersuites, ", "));
  f.explanation = fmt::format(
      "Both sides speak TLS 1.3, but the origin's TLS 1.3 suites (it chose {} when offered "
      "everything) include none of {}'s. A TLS 1.3 server does not fall back to TLS 1.2 for "
      "this, so the handshake fails.",
      s->any_cipher->cipher, ctx.cdn_name());
  f.evidence = {evidence(o, *s->primary), evidence(o, *s->any_cipher), evidence(o, *s->any_group)};
  std::string suites = fmt::format("{}", fmt::join(ctx.cdn().tls13_ciphersuites, ":"));
  f.fixes = {{"nginx", "ssl_conf_command Ciphersuites " + suites + ";"},
             {"apache", "SSLCipherSuite TLSv1.3 " + suites},
             {"haproxy", "ssl-default-bind-ciphersuites " + suites},
             {"caddy", "Remove the custom TLS 1.3 `ciphers`: Go always enables the standard "
                       "TLS 1.3 suites."}};
  f.depends_on = {"cipher_suites"};
  return f;
}

std::optional<Finding> cert_type_cipher_mismatch(const Context& ctx, const OriginView& o,
                                                 const std::vector<Finding>& so_far) {
  auto s = swap_evidence(o, so_far);
  if (!s || !handshake_ok(s->any_cipher) || handshake_ok(s->any_group) ||
      s->any_cipher->version == TlsVersion::tls1_3 || s->any_cipher->chain.empty()) {
    return std::nullopt;
  }
  const auto& leaf = s->any_cipher->chain.front();
  bool ec = leaf.key_type == "EC";
  bool v12 = s->any_cipher->version == TlsVersion::tls1_2;
  // Suites the CDN offers that authenticate with this key type at this version.
  const auto suites = offered_suites(ctx);
  bool usable = std::any_of(suites.begin(), suites.end(), [&](const auto& c) {
    bool ecdsa = c.find("ECDSA") != std::string::npos;
    return ecdsa == ec && (v12 || !tls12_only(c));
  });
  if (usable)
    return std::nullopt;
  auto f = make_finding("cert_type_cipher_mismatch", &o,
                        ctx.predict_failure(FailureClass::handshake_failure));
  std::string version(to_string(*s->any_cipher->version));
  f.summary = fmt::format("{} certificate, but {} offers no {} suite for {}", ec ? "ECDSA" : "RSA",
                          ctx.cdn_name(), ec ? "ECDSA" : "RSA", version);
  f.explanation = fmt::format(
      "The origin's certificate has an {} key and the handshake runs at {}. Every suite {} "
      "offers there authenticates with {} keys, so the origin has no suite it can use with its "
      "certificate.",
      ec ? "ECDSA" : "RSA", version, ctx.cdn_name(), ec ? "RSA" : "ECDSA");
  f.evidence = {evidence(o, *s->primary), evidence(o, *s->any_cipher)};
  f.fixes = {{"nginx", "# enable TLS 1.2 (where the CDN offers ECDSA suites), or add an RSA "
                       "certificate next to the ECDSA one:\nssl_protocols TLSv1.2 TLSv1.3;\n"
                       "ssl_certificate /etc/ssl/site-rsa.crt;\nssl_certificate_key "
                       "/etc/ssl/site-rsa.key;"},
             {"apache", "SSLProtocol -all +TLSv1.2 +TLSv1.3\n# or a second SSLCertificateFile "
                        "with an RSA key"},
             {"haproxy", "ssl-default-bind-options ssl-min-ver TLSv1.2"},
             {"caddy", "Caddy negotiates TLS 1.2+ by default; remove a `protocols` limit."}};
  f.depends_on = {"cipher_suites"};
  return f;
}

std::optional<Finding> origin_refuses_every_hello(const Context& ctx, const OriginView& o,
                                                  const std::vector<Finding>& so_far) {
  auto s = swap_evidence(o, so_far);
  const auto* permissive = o.get(probe_label::permissive);
  if (!s || !permissive || handshake_ok(s->any_group) || handshake_ok(s->any_cipher) ||
      !alert_is(s->any_cipher, 40) || !alert_is(s->any_group, 40) || !alert_is(permissive, 40))
    return std::nullopt;
  auto f = make_finding("origin_refuses_every_hello", &o,
                        ctx.predict_failure(FailureClass::handshake_failure));
  f.summary = fmt::format("{} refuses every ClientHello, with every cipher suite and group any "
                          "client can offer (alert 40): its own TLS configuration cannot work",
                          o.where());
  f.explanation = fmt::format(
      "Not only {}'s hello fails: a hello with every cipher suite (on the wire, including suites "
      "OpenSSL cannot negotiate), one with every group, and OpenSSL's most permissive hello all "
      "get alert 40 handshake_failure. No client can connect, so the cause is on the origin: "
      "most often a certificate whose key type fits none of the suites the origin enables (an "
      "ECDSA certificate with only RSA suites in ssl_ciphers, or the reverse), or a cipher list "
      "that matches nothing its TLS library supports. The origin's TLS error log names it "
      "(OpenSSL: 'no shared cipher').",
      ctx.cdn_name());
  f.evidence = {evidence(o, *s->primary), evidence(o, *s->any_cipher), evidence(o, *s->any_group),
                evidence(o, *permissive)};
  f.fixes = {{"nginx", "# suites for the certificate's key type (ECDSA and RSA shown):\n"
                       "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                       "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384;"},
             {"apache", "SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-"
                        "SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"},
             {"haproxy", "ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-"
                         "AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"},
             {"caddy", "# Caddy picks suites that fit its certificate; check its log"},
             {"any", "Check that the certificate's key type (openssl x509 -noout -text | grep "
                     "'Public Key Algorithm') has suites enabled for it, and read the origin's "
                     "TLS error log."}};
  f.depends_on = {"cipher_suites", "groups"};
  return f;
}

std::optional<Finding> no_cipher_overlap(const Context& ctx, const OriginView& o,
                                         const std::vector<Finding>& so_far) {
  auto s = swap_evidence(o, so_far);
  if (!s || !handshake_ok(s->any_cipher) || handshake_ok(s->any_group))
    return std::nullopt;
  auto f =
      make_finding("no_cipher_overlap", &o, ctx.predict_failure(FailureClass::handshake_failure));
  std::string version =
      s->any_cipher->version ? std::string(to_string(*s->any_cipher->version)) : "?";
  const auto suites = offered_suites(ctx);
  if (auto only = restricted_versions(ctx, *s->any_cipher)) {
    f.summary = fmt::format("no common cipher suite: origin picks {} at {}, which {} accepts only "
                            "at {}",
                            s->any_cipher->cipher, version, ctx.cdn_name(), join_versions(*only));
    f.explanation = fmt::format(
        "Offered every suite, the origin chose {} at {}. {} offers that suite, but only with {}; "
        "the other suites it offers at {} ({}) the origin refuses.",
        s->any_cipher->cipher, version, ctx.cdn_name(), join_versions(*only), version,
        fmt::join(suites, ", "));
    f.depends_on = {"cipher_suites", "suite_versions"};
  } else {
    f.summary =
        fmt::format("no common cipher suite: origin picks {} ({}), {} offers none it accepts",
                    s->any_cipher->cipher, version, ctx.cdn_name());
    f.explanation = fmt::format(
        "Offered every suite, the origin chose {} at {}; offered {}'s {} suites ({}), it refused "
        "the handshake. The origin's cipher list and the CDN's have nothing in common.",
        s->any_cipher->cipher, version, ctx.cdn_name(), suites.size(), fmt::join(suites, ", "));
    f.depends_on = {"cipher_suites"};
  }
  f.evidence = {evidence(o, *s->primary), evidence(o, *s->any_cipher), evidence(o, *s->any_group)};
  f.fixes = cipher_fixes(ctx);
  return f;
}

} // namespace edgeshake::compare::rules
