// SNI: the origin rejects the name the edge sends (alert 112 unrecognized_name,
// nginx `ssl_reject_handshake`), or needs SNI at all. cdn-profiles.md §5.7, §6.
#include "compare/rules/rule.hpp"

#include <fmt/format.h>

namespace edgeshake::compare::rules {

namespace {

std::vector<Fix> server_block_fixes(const std::string& name) {
  return {{"nginx", fmt::format("server {{\n    listen 443 ssl;\n    server_name {};\n"
                                "    ssl_certificate     /etc/ssl/{}.crt;\n"
                                "    ssl_certificate_key /etc/ssl/{}.key;\n}}",
                                name, name, name)},
          {"apache", fmt::format("<VirtualHost *:443>\n    ServerName {}\n    SSLEngine on\n"
                                 "    SSLCertificateFile /etc/ssl/{}.crt\n"
                                 "    SSLCertificateKeyFile /etc/ssl/{}.key\n</VirtualHost>",
                                 name, name, name)},
          {"haproxy",
           fmt::format("bind :443 ssl crt /etc/haproxy/certs/  # with a {}.pem inside", name)},
          {"caddy",
           fmt::format("{} {{\n    tls /etc/ssl/{}.crt /etc/ssl/{}.key\n}}", name, name, name)}};
}

} // namespace

std::optional<Finding> sni_unknown_rejected(const Context& ctx, const OriginView& o,
                                            const std::vector<Finding>&) {
  const auto* p = o.get(probe_label::primary);
  if (!p || !p->spec.sni || !alert_is(p, 112))
    return std::nullopt;
  auto f = make_finding("sni_unknown_rejected", &o,
                        ctx.predict_failure(FailureClass::handshake_failure));
  const std::string& name = *p->spec.sni;
  f.summary = fmt::format("{} does not know the name '{}' the edge sends", o.where(), name);
  f.explanation = fmt::format(
      "The edge sends SNI '{}', and the origin answered with alert 112 unrecognized_name: no "
      "server block on the origin is configured for that name and the default one refuses "
      "unknown names (nginx `ssl_reject_handshake on`). Either the origin is missing the site, or "
      "the CDN sends a different name than the origin expects (an SNI or Host override).",
      name);
  f.evidence.push_back(evidence(o, *p));
  f.fixes = server_block_fixes(name);
  f.depends_on = {"sni"};
  return f;
}

std::optional<Finding> sni_required(const Context& ctx, const OriginView& o,
                                    const std::vector<Finding>& so_far) {
  const auto* primary = o.get(probe_label::primary);
  if (!primary)
    return std::nullopt;
  if (const auto* with = o.get(probe_label::with_sni)) {
    // The CDN sends no SNI: a failure when the same hello with SNI works.
    if (!edge_all_failed(o) || !handshake_ok(with) || has_failure(so_far, o)) {
      return std::nullopt;
    }
    auto f = make_finding("sni_required", &o, ctx.predict_failure(FailureClass::handshake_failure));
    f.summary = fmt::format("{} requires SNI and {} sends none", o.where(), ctx.cdn_name());
    f.explanation = fmt::format(
        "{} connects without a server_name extension, and the origin refuses ClientHellos "
        "without one{}; the same ClientHello with SNI '{}' succeeds.",
        ctx.cdn_name(),
        primary->alert
            ? " (alert " + std::to_string(primary->alert->code) + " " + primary->alert->name + ")"
            : "",
        *with->spec.sni);
    f.evidence = {evidence(o, *primary), evidence(o, *with)};
    f.fixes = {{"nginx", "# on the proxy in front of the origin:\nproxy_ssl_server_name on;\n"
                         "proxy_ssl_name $host;"},
               {"haproxy", "server origin 192.0.2.10:443 ssl sni req.hdr(host) verify required "
                           "ca-file /etc/ssl/certs/ca-certificates.crt"},
               {"any", "Or give the origin a default server that accepts handshakes without SNI "
                       "(nginx: a `default_server` block with a certificate instead of "
                       "`ssl_reject_handshake on`)."}};
    f.depends_on = {"sni"};
    return f;
  }
  // The CDN sends SNI: needing SNI only bites other clients, a warning.
  const auto* none = o.get(probe_label::no_sni);
  if (!none || !handshake_ok(primary) || !handshake_failed(none))
    return std::nullopt;
  auto predicted = ctx.predict_ok();
  auto f = make_finding("sni_required", &o, predicted);
  f.severity = Severity::warning;
  f.summary =
      fmt::format("{} requires SNI (fine for {}, which sends it)", o.where(), ctx.cdn_name());
  f.explanation = fmt::format(
      "Without a server_name the origin refuses the handshake{}. {} always sends SNI, so this "
      "does not break it, but clients that send none (an nginx proxy without "
      "`proxy_ssl_server_name on`, some load-balancer health checks, old clients) will fail.",
      none->alert ? " (alert " + std::to_string(none->alert->code) + " " + none->alert->name + ")"
                  : "",
      ctx.cdn_name());
  f.evidence = {evidence(o, *none), evidence(o, *primary)};
  f.fixes = {{"nginx", "# only if SNI-less clients must work: a default server with a certificate\n"
                       "server {\n    listen 443 ssl default_server;\n"
                       "    ssl_certificate     /etc/ssl/site.crt;\n"
                       "    ssl_certificate_key /etc/ssl/site.key;\n}"}};
  f.depends_on = {"sni"};
  return f;
}

} // namespace edgeshake::compare::rules
