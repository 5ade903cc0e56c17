// The origin's certificate, from the primary probe: what it sent (chain facts)
// and how it verified against the CDN's trust store (OpenSSL verify code).
// Which modes care is the profile's business (Mode::verify).
#include "compare/rules/rule.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

namespace edgeshake::compare::rules {

namespace {

// OpenSSL X509_V_ERR_* codes (x509_vfy.h), copied so compare/ needs no OpenSSL.
constexpr int k_unable_to_get_issuer_cert = 2;
constexpr int k_cert_not_yet_valid = 9;
constexpr int k_cert_has_expired = 10;
constexpr int k_depth_zero_self_signed = 18;
constexpr int k_self_signed_in_chain = 19;
constexpr int k_unable_to_get_issuer_locally = 20;
constexpr int k_unable_to_verify_leaf_signature = 21;
constexpr int k_cert_untrusted = 27;

struct Cert {
  const ProbeResult* primary = nullptr;
  const handshake::CertificateInfo* leaf = nullptr;
};

// The chain the CDN would get: the primary's, or, when OpenSSL could not
// complete the primary although the edge's hellos are accepted, the closest
// probe's that has it (rules/helpers.cpp certificate_source).
std::optional<Cert> cert_of(const OriginView& o) {
  const auto* p = certificate_source(o);
  if (!p || p->chain.empty())
    return std::nullopt;
  return Cert{p, &p->chain.front()};
}

std::string date(std::chrono::sys_seconds t) {
  return fmt::format("{:%Y-%m-%d %H:%M UTC}", t);
}

bool is_cf_origin_ca(const handshake::CertificateInfo& c) {
  return c.issuer.find("CloudFlare Origin SSL") != std::string::npos;
}

std::vector<Fix> chain_fixes() {
  return {{"nginx", "# the certificate file must hold the leaf, then every intermediate:\n"
                    "# cat site.crt intermediate.crt > fullchain.pem\n"
                    "ssl_certificate /etc/ssl/fullchain.pem;"},
          {"apache", "SSLCertificateFile /etc/ssl/fullchain.pem   # leaf + intermediates "
                     "(2.4.8+; older: SSLCertificateChainFile)"},
          {"haproxy", "# site.pem = leaf + intermediates + key\nbind :443 ssl crt "
                      "/etc/haproxy/certs/site.pem"},
          {"caddy", "tls /etc/ssl/fullchain.pem /etc/ssl/site.key"}};
}

std::vector<Fix> replace_fixes(const std::string& why) {
  return {
      {"any", why + " Issue a certificate from a CA the CDN trusts (e.g. Let's Encrypt "
                    "with certbot/acme.sh, or the CDN's own origin CA), then reload."},
      {"nginx", "ssl_certificate     /etc/letsencrypt/live/example.com/fullchain.pem;\n"
                "ssl_certificate_key /etc/letsencrypt/live/example.com/privkey.pem;"},
      {"apache", "SSLCertificateFile    /etc/letsencrypt/live/example.com/fullchain.pem\n"
                 "SSLCertificateKeyFile /etc/letsencrypt/live/example.com/privkey.pem"},
      {"haproxy", "bind :443 ssl crt /etc/haproxy/certs/example.com.pem  # fullchain + key"},
      {"caddy", "example.com {\n    # Caddy obtains and renews a public certificate itself\n}"}};
}

// Certificate-invalid predictions, honouring modes that also trust the
// Cloudflare Origin CA when the leaf comes from it.
std::vector<ModeResult> predict_cert(const Context& ctx, const Cert& c, bool name_only) {
  auto predicted = ctx.predict_certificate(name_only);
  if (!name_only && is_cf_origin_ca(*c.leaf)) {
    for (std::size_t i = 0; i < predicted.size(); ++i) {
      const auto& extra = ctx.modes[i]->extra_trust;
      if (std::find(extra.begin(), extra.end(), "cloudflare_origin_ca") != extra.end()) {
        predicted[i].result = "ok";
      }
    }
  }
  return predicted;
}

Finding cert_finding(std::string_view id, const Context& ctx, const OriginView& o, const Cert& c,
                     bool name_only = false) {
  auto f = make_finding(id, &o, predict_cert(ctx, c, name_only));
  f.evidence.push_back(evidence(o, *c.primary));
  const auto& v = c.primary->verification;
  if (c.primary->spec.label != probe_label::primary)
    f.evidence.push_back(
        {c.primary->spec.label, o.where(),
         fmt::format("the certificate comes from this probe: the primary (OpenSSL) could not "
                     "complete the handshake the edge completes")});
  if (v.performed) {
    f.evidence.push_back({c.primary->spec.label, o.where(),
                          fmt::format("verification against {}: {} (code {}, depth {})",
                                      v.trust_store.empty() ? "the trust store" : v.trust_store,
                                      v.code == 0 ? "ok" : v.text, v.code, v.depth)});
  }
  return f;
}

bool verify_code_is(const Cert& c, std::initializer_list<int> codes) {
  const auto& v = c.primary->verification;
  return v.performed && !v.chain_ok && std::find(codes.begin(), codes.end(), v.code) != codes.end();
}

} // namespace

std::optional<Finding> cf_origin_ca(const Context& ctx, const OriginView& o,
                                    const std::vector<Finding>&) {
  auto c = cert_of(o);
  if (!c || !is_cf_origin_ca(*c->leaf))
    return std::nullopt;
  auto f = cert_finding("cf_origin_ca", ctx, o, *c);
  if (f.severity != Severity::failure)
    f.severity = Severity::info;
  f.summary = fmt::format("origin certificate is from the Cloudflare Origin CA ({})",
                          f.severity == Severity::failure ? "not trusted by " + ctx.cdn_name()
                                                          : "trusted only by Cloudflare");
  f.explanation =
      "Cloudflare Origin CA certificates are valid for Cloudflare's Full (strict) mode, but no "
      "browser, other CDN or load balancer trusts them. Pausing Cloudflare, or putting another "
      "provider in front, makes this origin certificate fail validation.";
  f.fixes = replace_fixes("Outside Cloudflare, use a publicly trusted certificate.");
  return f;
}

std::optional<Finding> cert_expired(const Context& ctx, const OriginView& o,
                                    const std::vector<Finding>&) {
  auto c = cert_of(o);
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(ctx.in->now);
  if (!c || c->leaf->not_after >= now)
    return std::nullopt;
  auto f = cert_finding("cert_expired", ctx, o, *c);
  f.summary = fmt::format("origin certificate expired {} ago ({})",
                          human_age(now - c->leaf->not_after), date(c->leaf->not_after));
  f.explanation = fmt::format(
      "The certificate for {} was valid until {}. Modes that validate the certificate reject "
      "it; modes that do not validate still connect.",
      c->leaf->subject, date(c->leaf->not_after));
  f.fixes = replace_fixes("Renew the certificate and reload the server; check that automatic "
                          "renewal (certbot timer, cron) runs and reloads it.");
  return f;
}

std::optional<Finding> cert_not_yet_valid(const Context& ctx, const OriginView& o,
                                          const std::vector<Finding>&) {
  auto c = cert_of(o);
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(ctx.in->now);
  if (!c || c->leaf->not_before <= now)
    return std::nullopt;
  auto f = cert_finding("cert_not_yet_valid", ctx, o, *c);
  f.summary = fmt::format("origin certificate is not valid until {} ({} from now)",
                          date(c->leaf->not_before), human_age(c->leaf->not_before - now));
  f.explanation =
      "The certificate's validity starts in the future. Either it was issued with a wrong start "
      "date, or a clock is wrong (the issuing machine's, or this one's: see clock_skew).";
  f.fixes = replace_fixes("Reissue the certificate with a correct start date and check the "
                          "clocks (NTP) of the issuing machine and the origin.");
  return f;
}

std::optional<Finding> intermediate_expired(const Context& ctx, const OriginView& o,
                                            const std::vector<Finding>&) {
  auto c = cert_of(o);
  if (!c)
    return std::nullopt;
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(ctx.in->now);
  const auto& chain = c->primary->chain;
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (chain[i].not_after < now) {
      auto f = cert_finding("intermediate_expired", ctx, o, *c);
      f.summary = fmt::format("the chain's certificate #{} ({}) expired {} ago", i,
                              chain[i].subject, human_age(now - chain[i].not_after));
      f.explanation = "The origin sends an expired intermediate CA certificate. Clients that "
                      "build the chain through it reject the certificate even though the leaf "
                      "is still valid.";
      f.fixes = chain_fixes();
      f.fixes.insert(f.fixes.begin(),
                     {"any", "Download the current intermediate from your CA and rebuild the "
                             "chain file (leaf first, then the current intermediates)."});
      return f;
    }
  }
  return std::nullopt;
}

std::optional<Finding> self_signed(const Context& ctx, const OriginView& o,
                                   const std::vector<Finding>&) {
  auto c = cert_of(o);
  if (!c || !verify_code_is(*c, {k_depth_zero_self_signed}))
    return std::nullopt;
  auto f = cert_finding("self_signed", ctx, o, *c);
  f.summary = "origin certificate is self-signed";
  f.explanation = fmt::format(
      "The certificate ({}) is signed by its own key, so it cannot chain to a CA the CDN trusts. "
      "It works only in modes that do not validate the certificate.",
      c->leaf->subject);
  f.fixes = replace_fixes("Replace the self-signed certificate.");
  return f;
}

std::optional<Finding> incomplete_chain(const Context& ctx, const OriginView& o,
                                        const std::vector<Finding>& so_far) {
  auto c = cert_of(o);
  if (!c || has_id(so_far, o, "cf_origin_ca"))
    return std::nullopt;
  bool leaf_only = c->primary->chain.size() == 1 && !c->leaf->self_issued;
  if (!verify_code_is(*c, {k_unable_to_verify_leaf_signature}) &&
      !(leaf_only &&
        verify_code_is(*c, {k_unable_to_get_issuer_locally, k_unable_to_get_issuer_cert}))) {
    return std::nullopt;
  }
  auto f = cert_finding("incomplete_chain", ctx, o, *c);
  f.summary = fmt::format("origin sends only its own certificate, without the intermediate ({})",
                          c->leaf->issuer);
  f.explanation = fmt::format(
      "The origin sends {} certificate(s); the issuer '{}' is neither sent nor in the trust "
      "store. Browsers often repair this from their caches, CDNs do not: the chain file must "
      "contain the intermediate CA certificate(s). (If '{}' is a private root, see "
      "untrusted_root and --trust-store.)",
      c->primary->chain.size(), c->leaf->issuer, c->leaf->issuer);
  f.fixes = chain_fixes();
  return f;
}

std::optional<Finding> untrusted_root(const Context& ctx, const OriginView& o,
                                      const std::vector<Finding>& so_far) {
  auto c = cert_of(o);
  if (!c || has_id(so_far, o, "cf_origin_ca") || has_id(so_far, o, "incomplete_chain") ||
      has_id(so_far, o, "self_signed")) {
    return std::nullopt;
  }
  if (!verify_code_is(*c, {k_self_signed_in_chain, k_unable_to_get_issuer_locally,
                           k_unable_to_get_issuer_cert, k_cert_untrusted})) {
    return std::nullopt;
  }
  auto f = cert_finding("untrusted_root", ctx, o, *c);
  const auto& top = c->primary->chain.back();
  f.summary = fmt::format("origin certificate chains to an untrusted CA ({})",
                          top.self_issued ? top.subject : top.issuer);
  f.explanation = fmt::format(
      "The chain the origin sends ends at '{}', which is not in {}'s trust store (a private or "
      "internal CA). Modes that validate reject it; upload the CA to the CDN (e.g. Cloudflare's "
      "Custom Origin Trust Store) or use a publicly trusted certificate.",
      top.self_issued ? top.subject : top.issuer, ctx.cdn_name());
  f.fixes = replace_fixes("Use a publicly trusted certificate, or make the CDN trust your CA.");
  return f;
}

std::optional<Finding> cert_verify_failed(const Context& ctx, const OriginView& o,
                                          const std::vector<Finding>& so_far) {
  auto c = cert_of(o);
  if (!c)
    return std::nullopt;
  const auto& v = c->primary->verification;
  if (!v.performed || v.chain_ok || v.code == k_cert_has_expired ||
      v.code == k_cert_not_yet_valid) {
    return std::nullopt;
  }
  for (const char* id : {"cf_origin_ca", "self_signed", "incomplete_chain", "untrusted_root",
                         "intermediate_expired", "cert_expired", "cert_not_yet_valid"}) {
    if (has_id(so_far, o, id))
      return std::nullopt;
  }
  auto f = cert_finding("cert_verify_failed", ctx, o, *c);
  f.summary = fmt::format("origin certificate does not verify: {}", v.text);
  f.explanation = fmt::format("OpenSSL rejected the chain at depth {} with error {} ({}).", v.depth,
                              v.code, v.text);
  f.fixes = replace_fixes("Fix or replace the certificate chain.");
  return f;
}

std::optional<Finding> hostname_mismatch(const Context& ctx, const OriginView& o,
                                         const std::vector<Finding>&) {
  auto c = cert_of(o);
  if (!c || !c->primary->verification.performed || c->primary->verification.hostname_ok ||
      c->primary->spec.host.empty()) {
    return std::nullopt;
  }
  auto f = cert_finding("hostname_mismatch", ctx, o, *c, /*name_only=*/true);
  const std::string& host = c->primary->spec.host;
  std::vector<std::string> names = c->leaf->dns_names;
  names.insert(names.end(), c->leaf->ip_addresses.begin(), c->leaf->ip_addresses.end());
  f.summary =
      fmt::format("origin certificate does not cover '{}' (it names {})", host,
                  names.empty() ? c->leaf->subject : fmt::format("{}", fmt::join(names, ", ")));
  f.explanation = fmt::format(
      "{} checks the origin certificate against '{}' (the name it sends as SNI), but the "
      "certificate is for {}. The origin may be serving its default certificate because it has "
      "no server block for this name.",
      ctx.cdn_name(), host,
      names.empty() ? c->leaf->subject : fmt::format("{}", fmt::join(names, ", ")));
  f.fixes =
      replace_fixes(fmt::format("Serve a certificate whose subjectAltName includes {}.", host));
  return f;
}

std::optional<Finding> weak_key(const Context& ctx, const OriginView& o,
                                const std::vector<Finding>&) {
  auto c = cert_of(o);
  if (!c)
    return std::nullopt;
  for (const auto& cert : c->primary->chain) {
    if (cert.self_issued && &cert != c->leaf)
      continue; // a root's key is the trust store's business
    bool weak = (cert.key_type == "RSA" || cert.key_type == "DSA") ? cert.key_bits < 2048
                : cert.key_type == "EC"                            ? cert.key_bits < 224
                                                                   : false;
    if (!weak)
      continue;
    auto f = make_finding("weak_key", &o, ctx.predict_ok());
    f.severity = Severity::warning;
    f.summary =
        fmt::format("{} has a weak {} {}-bit key", cert.subject, cert.key_type, cert.key_bits);
    f.explanation = "Keys below 2048 bits (RSA) or 224 bits (EC) are refused by current browsers "
                    "and by OpenSSL's default security level; providers do not document whether "
                    "their edges accept them, so expect failures as they tighten.";
    f.evidence.push_back(evidence(o, *c->primary));
    f.fixes = {{"any", "openssl req -new -newkey rsa:2048 ... (or -newkey ec "
                       "-pkeyopt ec_paramgen_curve:P-256), then reissue the certificate."}};
    return f;
  }
  return std::nullopt;
}

std::optional<Finding> weak_signature(const Context& ctx, const OriginView& o,
                                      const std::vector<Finding>&) {
  auto c = cert_of(o);
  if (!c)
    return std::nullopt;
  for (const auto& cert : c->primary->chain) {
    if (cert.self_issued && &cert != c->leaf)
      continue; // a root's self-signature is not checked
    std::string alg = cert.signature_algorithm;
    std::transform(alg.begin(), alg.end(), alg.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (alg.find("sha1") == std::string::npos && alg.find("md5") == std::string::npos)
      continue;
    auto f = make_finding("weak_signature", &o, ctx.predict_ok());
    f.severity = Severity::warning;
    f.summary = fmt::format("{} is signed with {}", cert.subject, cert.signature_algorithm);
    f.explanation = "SHA-1 and MD5 certificate signatures are broken and refused by browsers; "
                    "providers do not document whether their edges still accept them.";
    f.evidence.push_back(evidence(o, *c->primary));
    f.fixes = {{"any", "Reissue the certificate with a SHA-256 (or better) signature."}};
    return f;
  }
  return std::nullopt;
}

} // namespace edgeshake::compare::rules
