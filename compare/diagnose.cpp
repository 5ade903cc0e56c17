#include "compare/compare.hpp"
#include "compare/rules/rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace edgeshake::compare {

std::string_view to_string(Severity s) {
  switch (s) {
  case Severity::info:
    return "info";
  case Severity::warning:
    return "warning";
  case Severity::failure:
    return "failure";
  }
  return "?";
}

bool Diagnosis::ok() const {
  return std::none_of(verdicts.begin(), verdicts.end(),
                      [](const ModeVerdict& v) { return rules::is_failure_result(v.result); });
}

bool Diagnosis::untested() const {
  return std::any_of(verdicts.begin(), verdicts.end(), [](const ModeVerdict& v) {
    return v.result == "untested" && v.cause != "none";
  });
}

namespace {

// Findings that a list of what the origin accepts explains better.
bool explained_by_capabilities(const Finding& f) {
  static const char* ids[] = {"no_cipher_overlap",         "no_tls13_cipher_overlap",
                              "cert_type_cipher_mismatch", "no_group_overlap",
                              "protocol_mismatch",         "legacy_protocol_only",
                              "tls_handshake_failed"};
  return f.severity == Severity::failure &&
         std::any_of(std::begin(ids), std::end(ids), [&](const char* id) { return f.id == id; });
}

std::string capability_text(const OriginCapabilities& c) {
  std::vector<std::string> parts;
  for (const auto& [version, suites] : c.suites) {
    if (suites.empty())
      continue;
    parts.push_back(fmt::format("{}: {}", to_string(version), fmt::join(suites, ", ")));
  }
  std::string text = parts.empty() ? std::string("no suite at any version")
                                   : fmt::format("{}", fmt::join(parts, "; "));
  if (!c.groups.empty())
    text += fmt::format("; groups: {}", fmt::join(c.groups, ", "));
  return text;
}

void add_capabilities(Finding& f, const DiagnoseInput& input) {
  for (const auto& c : input.capabilities) {
    if (c.endpoint.to_string() != f.target)
      continue;
    std::string text = capability_text(c);
    f.explanation += c.suites.empty() && c.groups.empty()
                         ? std::string(" The enumeration found no suite the origin accepts.")
                         : fmt::format(" The origin accepts only {}.", text);
    f.evidence.push_back(
        {"enumerate", f.target,
         fmt::format("hand-built ClientHellos over {} connections: {}", c.connections, text)});
  }
}

} // namespace

std::vector<Endpoint> wants_capabilities(const Diagnosis& diagnosis,
                                         const std::vector<OriginTarget>& origins,
                                         bool also_explained) {
  std::vector<Endpoint> out;
  for (const auto& o : origins) {
    bool wanted =
        std::any_of(diagnosis.findings.begin(), diagnosis.findings.end(), [&](const Finding& f) {
          return f.target == o.endpoint.to_string() && explained_by_capabilities(f) &&
                 (also_explained || f.id == "tls_handshake_failed");
        });
    if (wanted && std::find(out.begin(), out.end(), o.endpoint) == out.end()) {
      out.push_back(o.endpoint);
    }
  }
  return out;
}

const std::vector<std::string>& finding_ids() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> out;
    for (const auto& r : rules::registry())
      out.emplace_back(r.id);
    out.emplace_back("none");
    return out;
  }();
  return ids;
}

Diagnosis diagnose(const DiagnoseInput& input) {
  rules::Context ctx;
  ctx.in = &input;
  for (const auto& m : input.cdn.modes) {
    if (input.modes.empty() ||
        std::find(input.modes.begin(), input.modes.end(), m.name) != input.modes.end()) {
      ctx.modes.push_back(&m);
    }
  }
  for (const auto& o : input.origins) {
    rules::OriginView view;
    view.target = &o;
    for (const auto& p : input.probes) {
      if (p.spec.label != probe_label::edge && p.spec.label != "edge_public" &&
          p.spec.target == o.endpoint) {
        view.probes.push_back(&p);
      }
    }
    ctx.origins.push_back(std::move(view));
  }
  for (const auto& p : input.probes) {
    if (p.spec.label == probe_label::edge)
      ctx.edge = &p;
  }

  Diagnosis d;
  for (const auto& rule : rules::registry()) {
    if (rule.origin) {
      for (const auto& o : ctx.origins) {
        if (auto f = rule.origin(ctx, o, d.findings))
          d.findings.push_back(std::move(*f));
      }
    } else if (rule.global) {
      for (auto& f : rule.global(ctx, d.findings))
        d.findings.push_back(std::move(f));
    }
  }
  for (auto& f : d.findings) {
    if (explained_by_capabilities(f))
      add_capabilities(f, input);
  }
  bool problem = std::any_of(d.findings.begin(), d.findings.end(),
                             [](const Finding& f) { return f.severity != Severity::info; });
  auto assumed_of = [&input](const std::vector<std::string>& fields) {
    std::vector<AssumedField> out;
    for (const auto& field : fields) {
      auto it = input.cdn.provenance.find(field);
      if (it != input.cdn.provenance.end() && it->second.kind == profiles::SourceKind::assumed)
        out.push_back({field, it->second.note});
    }
    return out;
  };
  if (!problem) {
    Finding none = rules::make_finding("none", nullptr, ctx.predict_ok());
    none.severity = Severity::info;
    none.summary = "no problem found: the origin accepts the CDN's handshake and certificate";
    none.explanation = "Every origin address completed the handshake with exactly the CDN's "
                       "ClientHello, and its certificate passes the checks of every selected "
                       "mode.";
    for (const auto& o : ctx.origins) {
      if (const auto* p = o.get(probe_label::primary)) {
        none.evidence.push_back(rules::evidence(o, *p));
      }
      for (const auto* p : rules::exact_hellos(o))
        none.evidence.push_back(rules::evidence(o, *p));
    }
    none.depends_on = rules::whole_hello(ctx);
    d.findings.push_back(std::move(none));
  }
  for (auto& f : d.findings)
    f.assumed = assumed_of(f.depends_on);
  std::stable_sort(d.findings.begin(), d.findings.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.severity) > static_cast<int>(b.severity);
  });

  for (std::size_t i = 0; i < ctx.modes.size(); ++i) {
    const auto* m = ctx.modes[i];
    const bool plaintext = m->transport == profiles::Transport::plaintext;
    ModeVerdict v{m->name,
                  m->label,
                  plaintext ? "untested" : "ok",
                  "none",
                  plaintext ? "plain HTTP to the origin's port 80, which edgeshake does not test"
                            : "no problem found",
                  {}};
    const Finding* decided = nullptr;
    for (const auto& f : d.findings) {
      if (i < f.predicted.size() && rules::is_failure_result(f.predicted[i].result)) {
        decided = &f;
        break;
      }
    }
    // No failure, but a finding could not test this mode (the certificate was
    // out of reach): the mode is untested, not ok.
    if (!decided && !plaintext)
      for (const auto& f : d.findings)
        if (i < f.predicted.size() && f.predicted[i].result == "untested") {
          decided = &f;
          break;
        }
    if (decided) {
      v.result = decided->predicted[i].result;
      v.cause = decided->id;
      v.summary = decided->summary;
      v.assumed = decided->assumed;
    } else if (!plaintext) {
      v.assumed = assumed_of(rules::whole_hello(ctx)); // "ok" rests on the whole hello
    }
    d.verdicts.push_back(std::move(v));
  }
  return d;
}

} // namespace edgeshake::compare
