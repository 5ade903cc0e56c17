// Causes visible before or instead of a TLS exchange, and the generic
// handshake catch-alls that speak only when no specific rule explained a failure.
#include "compare/rules/rule.hpp"

#include <fmt/format.h>

namespace edgeshake::compare::rules {

using handshake::ProbeStatus;

std::optional<Finding> connection_refused(const Context& ctx, const OriginView& o,
                                          const std::vector<Finding>&) {
  const auto* p = o.get(probe_label::primary);
  if (!p || p->status != ProbeStatus::tcp_refused)
    return std::nullopt;
  auto f =
      make_finding("connection_refused", &o, ctx.predict_failure(FailureClass::connection_refused));
  f.summary = fmt::format("nothing listens on {} (connection refused)", o.where());
  f.explanation =
      "The origin answered the TCP connection attempt with a reset: no server is listening on "
      "this address and port, or a firewall rejects the connection. The edge cannot even start "
      "the TLS handshake.";
  f.evidence.push_back(evidence(o, *p));
  f.fixes = {{"any", fmt::format("Start the web server and make it listen on port {} (check with "
                                 "`ss -ltnp | grep :{}`), and allow the CDN's address ranges in "
                                 "the firewall.",
                                 o.target->endpoint.port, o.target->endpoint.port)},
             {"nginx", fmt::format("listen {} ssl;", o.target->endpoint.port)},
             {"apache", fmt::format("Listen {} https", o.target->endpoint.port)},
             {"haproxy",
              fmt::format("bind :{} ssl crt /etc/haproxy/certs/site.pem", o.target->endpoint.port)},
             {"caddy", fmt::format("https://example.com:{} {{ ... }}", o.target->endpoint.port)}};
  return f;
}

std::optional<Finding> tcp_connect_timeout(const Context& ctx, const OriginView& o,
                                           const std::vector<Finding>&) {
  const auto* p = o.get(probe_label::primary);
  if (!p || (p->status != ProbeStatus::tcp_timeout && p->status != ProbeStatus::tcp_unreachable)) {
    return std::nullopt;
  }
  auto f =
      make_finding("tcp_connect_timeout", &o, ctx.predict_failure(FailureClass::connect_timeout));
  f.summary = p->status == ProbeStatus::tcp_unreachable
                  ? fmt::format("no route to {}", o.where())
                  : fmt::format("TCP connection to {} timed out", o.where());
  f.explanation =
      "The origin did not answer the TCP connection attempt in time: the address is wrong, the "
      "host is down, or a firewall silently drops the edge's packets (most often the CDN's "
      "address ranges are not allowed).";
  f.evidence.push_back(evidence(o, *p));
  f.fixes = {{"any", "Check that the origin address is right and the host is up, and allow the "
                     "CDN's published address ranges through every firewall in front of it."}};
  return f;
}

std::optional<Finding> not_tls(const Context& ctx, const OriginView& o,
                               const std::vector<Finding>&) {
  const auto* p = o.get(probe_label::primary);
  if (!p || p->status != ProbeStatus::not_tls)
    return std::nullopt;
  auto f = make_finding("not_tls", &o, ctx.predict_failure(FailureClass::handshake_failure));
  bool http = p->first_bytes.rfind("HTTP/", 0) == 0;
  f.summary = http ? fmt::format("{} speaks plain HTTP, not TLS", o.where())
                   : fmt::format("{} does not speak TLS", o.where());
  f.explanation =
      "The edge sent a TLS ClientHello and the origin answered with something that is not TLS" +
      std::string(http ? " (an HTTP response)" : "") +
      ". The port is served by a plain-HTTP server block or another protocol, so the handshake "
      "can never complete.";
  f.evidence.push_back(evidence(o, *p));
  auto port = o.target->endpoint.port;
  f.fixes = {{"nginx", fmt::format("listen {} ssl;\nssl_certificate     /etc/ssl/site.crt;\n"
                                   "ssl_certificate_key /etc/ssl/site.key;",
                                   port)},
             {"apache", "SSLEngine on\nSSLCertificateFile /etc/ssl/site.crt\n"
                        "SSLCertificateKeyFile /etc/ssl/site.key"},
             {"haproxy", fmt::format("bind :{} ssl crt /etc/haproxy/certs/site.pem", port)},
             {"caddy", "Serve the site with an https:// address (Caddy enables TLS itself)."}};
  return f;
}

std::optional<Finding> tls_handshake_timeout(const Context& ctx, const OriginView& o,
                                             const std::vector<Finding>&) {
  const auto* p = o.get(probe_label::primary);
  if (!p || p->status != ProbeStatus::handshake_timeout || edge_accepted(o))
    return std::nullopt;
  auto f = make_finding("tls_handshake_timeout", &o,
                        ctx.predict_failure(FailureClass::handshake_timeout));
  f.summary =
      fmt::format("{} accepted the connection but never completed the TLS handshake", o.where());
  f.explanation =
      "TCP connected, but the origin did not answer the ClientHello in time. Something accepts "
      "connections on this port without speaking TLS (a stuck process, a proxy waiting for "
      "another protocol, or a middlebox dropping large ClientHellos).";
  f.evidence.push_back(evidence(o, *p));
  f.fixes = {{"any", "Check what listens on the port (`ss -ltnp`), its error log, and whether a "
                     "firewall or IPS drops TLS ClientHellos split over two packets."}};
  return f;
}

std::optional<Finding> connection_reset(const Context& ctx, const OriginView& o,
                                        const std::vector<Finding>& so_far) {
  const auto* p = edge_failure(o);
  if (!p || p->status != ProbeStatus::reset || has_failure(so_far, o))
    return std::nullopt;
  auto f =
      make_finding("connection_reset", &o, ctx.predict_failure(FailureClass::handshake_failure));
  f.summary = fmt::format("{} reset the connection during the TLS handshake", o.where());
  f.explanation =
      "The origin (or a firewall in front of it) closed the connection with a reset in the "
      "middle of the handshake, without a TLS alert. The other probes did not isolate a "
      "protocol, cipher or SNI cause; check the origin's error log and any IPS/WAF in front of it.";
  f.evidence.push_back(evidence(o, *p));
  if (const auto* perm = o.get(probe_label::permissive))
    f.evidence.push_back(evidence(o, *perm));
  f.fixes = {{"any", "Look at the origin's TLS error log at the time of the probe; allow the "
                     "CDN's address ranges in any firewall or IPS."}};
  f.depends_on = whole_hello(ctx);
  return f;
}

std::optional<Finding> tls_handshake_failed(const Context& ctx, const OriginView& o,
                                            const std::vector<Finding>& so_far) {
  const auto* p = edge_failure(o);
  if (!p || has_failure(so_far, o))
    return std::nullopt;
  // A wire probe that failed in any way the earlier rules left unexplained
  // (a timeout or reset of one of several hellos included) is a failure the
  // edge meets; the OpenSSL primary's timeouts and resets have rules of their own.
  const bool wire = p->spec.engine == handshake::Engine::wire;
  if (!wire && p->status != ProbeStatus::tls_alert && p->status != ProbeStatus::eof &&
      p->status != ProbeStatus::protocol_error && p->status != ProbeStatus::client_error) {
    return std::nullopt;
  }
  auto f = make_finding("tls_handshake_failed", &o,
                        ctx.predict_failure(p->status == ProbeStatus::handshake_timeout
                                                ? FailureClass::handshake_timeout
                                                : FailureClass::handshake_failure));
  f.summary = fmt::format("the TLS handshake with {} failed ({})", o.where(),
                          p->alert                   ? p->alert->name
                          : !p->wire.refusal.empty() ? "the server " + p->wire.refusal
                                                     : std::string(to_string(p->status)));
  f.explanation =
      "The handshake with exactly the CDN's ClientHello failed, and none of the discriminating "
      "probes isolated a single cause. The evidence lists what each probe offered and got back.";
  f.evidence.push_back(evidence(o, *p));
  for (const char* label : {probe_label::primary, probe_label::permissive,
                            probe_label::profile_any_group, probe_label::profile_any_cipher}) {
    if (const auto* q = o.get(label); q && q != p)
      f.evidence.push_back(evidence(o, *q));
  }
  f.depends_on = whole_hello(ctx);
  f.fixes = {{"any", "Compare the origin's ssl_protocols/ssl_ciphers/ssl_ecdh_curve with the "
                     "profile (`edgeshake profiles show " +
                         ctx.cdn().id + "`) and read the origin's TLS error log."}};
  return f;
}

} // namespace edgeshake::compare::rules
