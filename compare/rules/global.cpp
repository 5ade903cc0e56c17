// Run-wide rules: the local clock, TLS interception on the visitor's side, and
// differences between several origin addresses.
#include "compare/rules/rule.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace edgeshake::compare::rules {

namespace {
constexpr std::chrono::seconds k_max_skew{300};
}

std::vector<Finding> clock_skew(const Context& ctx, const std::vector<Finding>&) {
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(ctx.in->now);
  for (const auto& p : ctx.in->probes) {
    if (!p.http.date)
      continue;
    auto diff = now - *p.http.date;
    if (diff < k_max_skew && diff > -k_max_skew)
      continue;
    Finding f = make_finding("clock_skew", nullptr, ctx.predict_ok());
    f.target = p.spec.label == probe_label::edge ? "edge" : p.spec.target.to_string();
    f.severity = Severity::warning;
    f.summary = fmt::format("this machine's clock is {} {} than {}'s", human_age(diff),
                            diff.count() > 0 ? "ahead" : "behind", f.target);
    f.explanation = fmt::format(
        "The server's Date header says {:%Y-%m-%d %H:%M:%S} UTC; this machine says "
        "{:%Y-%m-%d %H:%M:%S} UTC. A wrong clock makes valid certificates look expired or not "
        "yet valid: on a visitor's machine that breaks HTTPS to the edge, and here it skews "
        "edgeshake's own expiry verdicts. If the server's clock is the wrong one, certificates it "
        "issues and logs it writes are off too.",
        *p.http.date, now);
    f.evidence.push_back(evidence(p));
    f.fixes = {{"any", "Synchronise the clock with NTP (`timedatectl set-ntp true`, chrony or "
                       "systemd-timesyncd) on whichever machine is wrong."}};
    return {f};
  }
  return {};
}

std::vector<Finding> tls_interception_suspected(const Context& ctx, const std::vector<Finding>&) {
  // The edge probe verified with the system store (which may hold locally added
  // roots) and the edge_public probe with the public roots only.
  const auto* edge = ctx.edge;
  const ProbeResult* pub = nullptr;
  for (const auto& p : ctx.in->probes) {
    if (p.spec.label == "edge_public")
      pub = &p;
  }
  if (!handshake_ok(edge) || !handshake_ok(pub) || !edge->verification.chain_ok ||
      pub->verification.chain_ok || edge->chain.empty()) {
    return {};
  }
  Finding f = make_finding("tls_interception_suspected", nullptr, ctx.predict_ok());
  f.target = "edge";
  f.severity = Severity::warning;
  const auto& top = edge->chain.back();
  f.summary = fmt::format("the edge certificate chains to a locally added root ({})",
                          top.self_issued ? top.subject : top.issuer);
  f.explanation =
      "From this machine the edge presents a certificate that verifies only because of a root "
      "CA added to the local trust store, not one of the public roots. A TLS-intercepting proxy "
      "or security product sits between this machine and the edge: what you see here is not "
      "what visitors see, and 525 pages seen here may come from the interceptor.";
  f.evidence = {evidence(*edge), evidence(*pub)};
  f.fixes = {{"any", "Run edgeshake from a network without the intercepting proxy, or exempt "
                     "the site from TLS inspection."}};
  return {f};
}

std::vector<Finding> backends_differ(const Context& ctx, const std::vector<Finding>& so_far) {
  if (ctx.origins.size() < 2)
    return {};
  struct Facts {
    std::string outcome, version, cipher, leaf, verify;
  };
  std::vector<std::pair<std::string, Facts>> facts;
  for (const auto& o : ctx.origins) {
    const auto* p = o.get(probe_label::primary);
    if (!p)
      continue;
    Facts x;
    x.outcome = p->alert ? fmt::format("{} {}", to_string(p->status), p->alert->name)
                         : std::string(to_string(p->status));
    x.version = p->version ? std::string(to_string(*p->version)) : "-";
    x.cipher = p->cipher.empty() ? "-" : p->cipher;
    x.leaf = p->chain.empty() ? "-" : p->chain.front().sha256.substr(0, 23);
    x.verify = !p->verification.performed                                ? "-"
               : p->verification.chain_ok && p->verification.hostname_ok ? "ok"
                                                                         : p->verification.text;
    facts.emplace_back(o.where(), x);
  }
  std::vector<std::string> diffs;
  auto check = [&](const char* what, std::string Facts::*field) {
    std::set<std::string> values;
    for (const auto& [_, x] : facts)
      values.insert(x.*field);
    if (values.size() < 2)
      return;
    std::vector<std::string> parts;
    for (const auto& [where, x] : facts)
      parts.push_back(where + " " + x.*field);
    diffs.push_back(fmt::format("{}: {}", what, fmt::join(parts, "; ")));
  };
  check("handshake", &Facts::outcome);
  check("version", &Facts::version);
  check("cipher", &Facts::cipher);
  check("certificate", &Facts::leaf);
  check("verification", &Facts::verify);
  if (diffs.empty())
    return {};

  // Per mode: the worst result any origin gets, when the origins disagree.
  auto predicted = ctx.predict_ok();
  bool outcomes_differ = false;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    std::set<std::string> per_origin;
    for (const auto& o : ctx.origins) {
      std::string r = predicted[i].result;
      for (const auto& f : so_far) {
        if (f.target == o.where() && f.severity == Severity::failure &&
            is_failure_result(f.predicted[i].result)) {
          r = f.predicted[i].result;
          break;
        }
      }
      per_origin.insert(r);
    }
    if (per_origin.size() > 1) {
      outcomes_differ = true;
      for (const auto& r : per_origin) {
        if (is_failure_result(r))
          predicted[i].result = r;
      }
    }
  }
  Finding f = make_finding("backends_differ", nullptr, predicted);
  f.severity = outcomes_differ ? Severity::failure : Severity::warning;
  f.summary = fmt::format("the {} origin addresses do not present the same TLS{}", facts.size(),
                          outcomes_differ ? ": some fail, some work" : "");
  f.explanation = "Requests are spread over these addresses, so visitors see different results "
                  "depending on which one the edge picks (intermittent errors). Differences: " +
                  fmt::format("{}", fmt::join(diffs, " | "));
  for (const auto& o : ctx.origins) {
    if (const auto* p = o.get(probe_label::primary))
      f.evidence.push_back(evidence(o, *p));
  }
  f.fixes = {{"any", "Deploy the same certificate and TLS configuration to every backend "
                     "(configuration management), and renew certificates on all of them."}};
  return {f};
}

} // namespace edgeshake::compare::rules
