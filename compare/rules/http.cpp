// After the handshake: the origin's HTTP answer to the edge's request.
#include "compare/rules/rule.hpp"

#include <fmt/format.h>

namespace edgeshake::compare::rules {

std::optional<Finding> http_response_timeout(const Context& ctx, const OriginView& o,
                                             const std::vector<Finding>&) {
  const auto* p = o.get(probe_label::primary);
  if (!handshake_ok(p) || p->http.status != handshake::HttpStatus::timeout)
    return std::nullopt;
  auto f = make_finding("http_response_timeout", &o,
                        ctx.predict_failure(FailureClass::response_timeout));
  f.summary = fmt::format("{} completed TLS but sent no HTTP response in time", o.where());
  f.explanation = fmt::format(
      "The handshake succeeded, but the origin did not answer `GET /` within {} ms. The CDN "
      "waits longer (Cloudflare: 120 s) and then gives up; a slow application, an exhausted "
      "worker pool or a stuck upstream behind the origin is the usual cause.",
      p->spec.timeout.count());
  f.evidence.push_back(evidence(o, *p));
  f.fixes = {{"any", "Check the application's latency and the origin's upstream timeouts "
                     "(nginx proxy_read_timeout, PHP-FPM pool size)."}};
  return f;
}

} // namespace edgeshake::compare::rules
