// The origin demands a client certificate (Authenticated Origin Pulls / mTLS)
// and the edge sends none: either the handshake fails (OpenSSL/BoringSSL/Apache
// `SSLVerifyClient require`) or it completes and the server answers HTTP 400
// (nginx `ssl_verify_client on`). cdn-profiles.md §1.10.
#include "compare/rules/rule.hpp"

#include <fmt/format.h>

namespace edgeshake::compare::rules {

namespace {

std::vector<Fix> aop_fixes(const Context& ctx) {
  std::vector<Fix> fixes;
  if (ctx.cdn().id == "cloudflare") {
    fixes.push_back({"any", "Either enable Authenticated Origin Pulls for this hostname in "
                            "Cloudflare (SSL/TLS > Origin Server), so the edge presents its "
                            "client certificate, or stop requiring one at the origin."});
  } else {
    fixes.push_back({"any", fmt::format("{} does not send a client certificate in this profile: "
                                        "configure origin mTLS at the CDN if it supports it, or "
                                        "stop requiring one at the origin.",
                                        ctx.cdn_name())});
  }
  fixes.push_back({"nginx", "# accept the edge's certificate, or turn the requirement off:\n"
                            "ssl_client_certificate /etc/nginx/certs/edge-ca.pem;\n"
                            "ssl_verify_client on;   # 'off' while the edge sends none"});
  fixes.push_back({"apache", "SSLCACertificateFile /etc/ssl/edge-ca.pem\n"
                             "SSLVerifyClient require   # 'none' while the edge sends none"});
  fixes.push_back({"haproxy", "bind :443 ssl crt site.pem ca-file edge-ca.pem verify required  "
                              "# 'verify none' while the edge sends none"});
  fixes.push_back({"caddy", "tls {\n  client_auth {\n    mode require_and_verify\n"
                            "    trust_pool file edge-ca.pem\n  }\n}"});
  return fixes;
}

std::string ca_names(const ProbeResult& p) {
  if (p.client_ca_names.empty())
    return "";
  return fmt::format(" It accepts certificates issued by: {}.", fmt::join(p.client_ca_names, "; "));
}

} // namespace

std::optional<Finding> client_cert_required_handshake(const Context& ctx, const OriginView& o,
                                                      const std::vector<Finding>&) {
  const auto* p = o.get(probe_label::primary);
  if (!handshake_failed(p) || p->client_cert_sent)
    return std::nullopt;
  bool demanded =
      alert_is(p, 116) || (p->client_cert_requested &&
                           (alert_is(p, 40) || p->status != handshake::ProbeStatus::tls_alert));
  if (!demanded)
    return std::nullopt;
  auto f = make_finding("client_cert_required_handshake", &o,
                        ctx.predict_failure(FailureClass::handshake_failure));
  f.summary = fmt::format("{} requires a client certificate and the edge sends none", o.where());
  f.explanation = "The origin asked for a client certificate (mutual TLS, e.g. Authenticated "
                  "Origin Pulls) and aborted the handshake when none came." +
                  ca_names(*p);
  f.evidence.push_back(evidence(o, *p));
  f.fixes = aop_fixes(ctx);
  return f;
}

std::optional<Finding> client_cert_required_http(const Context& ctx, const OriginView& o,
                                                 const std::vector<Finding>&) {
  const auto* p = o.get(probe_label::primary);
  if (!handshake_ok(p) || !p->client_cert_requested || p->client_cert_sent)
    return std::nullopt;
  if (p->http.status != handshake::HttpStatus::ok)
    return std::nullopt;
  int code = p->http.code;
  if (code != 400 && code != 495 && code != 496)
    return std::nullopt;
  std::vector<ModeResult> predicted = ctx.predict_ok();
  for (auto& m : predicted) {
    if (m.result == "ok")
      m.result = std::to_string(code);
  }
  auto f = make_finding("client_cert_required_http", &o, std::move(predicted));
  f.summary =
      fmt::format("{} requires a client certificate: TLS completes, then HTTP {}", o.where(), code);
  f.explanation = "The origin asked for a client certificate but let the handshake finish "
                  "without one (nginx `ssl_verify_client on` does this); it then answers every "
                  "request with HTTP " +
                  std::to_string(code) +
                  " (\"No required SSL certificate was sent\"), which the CDN passes on to "
                  "visitors." +
                  ca_names(*p);
  f.evidence.push_back(evidence(o, *p));
  f.fixes = aop_fixes(ctx);
  return f;
}

} // namespace edgeshake::compare::rules
