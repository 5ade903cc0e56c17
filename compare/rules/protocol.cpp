// Protocol versions: the version/<v> probes say which versions the origin
// accepts; the profile says which the CDN offers.
#include "compare/rules/rule.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace edgeshake::compare::rules {

namespace {

std::vector<TlsVersion> common_versions(const Context& ctx, const std::vector<TlsVersion>& origin) {
  std::vector<TlsVersion> out;
  for (TlsVersion v : origin) {
    if (std::find(ctx.cdn().versions.begin(), ctx.cdn().versions.end(), v) !=
        ctx.cdn().versions.end()) {
      out.push_back(v);
    }
  }
  return out;
}

std::vector<Fix> protocol_fixes(const Context& ctx) {
  bool has13 = std::find(ctx.cdn().versions.begin(), ctx.cdn().versions.end(),
                         TlsVersion::tls1_3) != ctx.cdn().versions.end();
  bool has12 = std::find(ctx.cdn().versions.begin(), ctx.cdn().versions.end(),
                         TlsVersion::tls1_2) != ctx.cdn().versions.end();
  std::string nginx = has12 && has13 ? "TLSv1.2 TLSv1.3" : has12 ? "TLSv1.2" : "TLSv1.3";
  std::string apache = has12 && has13 ? "-all +TLSv1.2 +TLSv1.3"
                       : has12        ? "-all +TLSv1.2"
                                      : "-all +TLSv1.3";
  std::string caddy = has12 && has13 ? "tls1.2 tls1.3" : has12 ? "tls1.2 tls1.2" : "tls1.3 tls1.3";
  return {{"nginx", "ssl_protocols " + nginx + ";"},
          {"apache", "SSLProtocol " + apache},
          {"haproxy", has12 ? "ssl-default-bind-options ssl-min-ver TLSv1.2"
                            : "ssl-default-bind-options ssl-min-ver TLSv1.3"},
          {"caddy", "tls {\n    protocols " + caddy + "\n}"}};
}

} // namespace

std::optional<Finding> legacy_protocol_only(const Context& ctx, const OriginView& o,
                                            const std::vector<Finding>& so_far) {
  auto accepted = accepted_versions(o);
  if (accepted.empty() || accepted.back() > TlsVersion::tls1_1 || has_failure(so_far, o)) {
    return std::nullopt;
  }
  auto common = common_versions(ctx, accepted);
  const auto* primary = o.get(probe_label::primary);
  std::optional<Finding> f;
  if (common.empty()) {
    if (!edge_all_failed(o))
      return std::nullopt; // contradicting evidence: stay silent
    f = make_finding("legacy_protocol_only", &o,
                     ctx.predict_failure(FailureClass::handshake_failure));
    f->summary = fmt::format("{} speaks only {}, which {} does not offer", o.where(),
                             join_versions(accepted), ctx.cdn_name());
  } else {
    f = make_finding("legacy_protocol_only", &o, ctx.predict_ok());
    f->severity = Severity::warning;
    f->summary = fmt::format("{} speaks only {} (deprecated; {} still accepts it)", o.where(),
                             join_versions(accepted), ctx.cdn_name());
  }
  f->explanation = fmt::format(
      "The origin accepts only {}: TLS 1.2 and 1.3 are refused. {} offers {}. TLS 1.0 and 1.1 "
      "are deprecated (RFC 8996); many CDNs and load balancers no longer offer them.",
      join_versions(accepted), ctx.cdn_name(), join_versions(ctx.cdn().versions));
  for (TlsVersion v : k_all_tls_versions) {
    if (const auto* r =
            o.get(std::string(probe_label::version) + "/" + std::string(to_string(v)))) {
      f->evidence.push_back(evidence(o, *r));
    }
  }
  if (primary)
    f->evidence.push_back(evidence(o, *primary));
  f->fixes = protocol_fixes(ctx);
  f->depends_on = {"versions"};
  return f;
}

std::optional<Finding> protocol_mismatch(const Context& ctx, const OriginView& o,
                                         const std::vector<Finding>& so_far) {
  auto accepted = accepted_versions(o);
  const auto* primary = o.get(probe_label::primary);
  if (accepted.empty() || !common_versions(ctx, accepted).empty() || has_failure(so_far, o) ||
      !edge_all_failed(o)) {
    return std::nullopt;
  }
  auto f =
      make_finding("protocol_mismatch", &o, ctx.predict_failure(FailureClass::handshake_failure));
  f.summary = fmt::format("no common TLS version: origin {} vs {} {}", join_versions(accepted),
                          ctx.cdn_name(), join_versions(ctx.cdn().versions));
  f.explanation =
      fmt::format("The origin accepts {}, and {} offers {}: there is no version both speak, so the "
                  "handshake fails before ciphers are even considered.",
                  join_versions(accepted), ctx.cdn_name(), join_versions(ctx.cdn().versions));
  for (TlsVersion v : k_all_tls_versions) {
    if (const auto* r =
            o.get(std::string(probe_label::version) + "/" + std::string(to_string(v)))) {
      f.evidence.push_back(evidence(o, *r));
    }
  }
  f.evidence.push_back(evidence(o, *primary));
  if (const auto* judged = edge_failure(o); judged && judged != primary)
    f.evidence.push_back(evidence(o, *judged));
  f.fixes = protocol_fixes(ctx);
  f.depends_on = {"versions"};
  return f;
}

} // namespace edgeshake::compare::rules
