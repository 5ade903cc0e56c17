// What the wire probes show that the OpenSSL probes cannot: a certificate the
// edge's signature algorithms cannot use, a hello split over two TCP segments
// that a middlebox drops, a post-quantum key share the origin refuses, a
// HelloRetryRequest the origin then fails, and an origin that accepts the
// edge's hello with something OpenSSL 3.0 cannot complete (so the certificate
// comes from elsewhere, or not at all).
#include "compare/rules/rule.hpp"

#include "common/tls_registry.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace edgeshake::compare::rules {

using handshake::ProbeStatus;

namespace {

bool is_post_quantum(std::uint16_t group) {
  const auto* g = tls::find_group(group);
  return g != nullptr && (std::string_view(g->name).find("MLKEM") != std::string_view::npos ||
                          std::string_view(g->name).find("Kyber") != std::string_view::npos);
}

std::string group_text(std::uint16_t group) {
  const auto* g = tls::find_group(group);
  return g ? std::string(g->name) : fmt::format("0x{:04X}", group);
}

// The hello a wire probe sent (nullptr when the profile has no such hello).
const profiles::WireHello* hello_of(const Context& ctx, const ProbeResult& r) {
  const auto& hellos = ctx.cdn().hellos;
  return r.spec.hello < hellos.size() ? &hellos[r.spec.hello] : nullptr;
}

std::string hello_name(const ProbeResult& r) {
  return r.wire.hello_label.empty() ? std::string("the ClientHello")
                                    : fmt::format("the '{}' ClientHello", r.wire.hello_label);
}

// "alert 40 handshake_failure", "a reset", "no answer within 10 s" ...
std::string outcome_text(const ProbeResult& r) {
  if (r.alert && r.alert->received)
    return fmt::format("alert {} {}", r.alert->code, r.alert->name);
  switch (r.status) {
  case ProbeStatus::reset:
    return "a TCP reset";
  case ProbeStatus::eof:
    return "the connection closed without an answer";
  case ProbeStatus::handshake_timeout:
    return "no answer in time";
  default:
    return !r.wire.refusal.empty() ? "the server " + r.wire.refusal
                                   : std::string(to_string(r.status));
  }
}

bool silent_drop(const ProbeResult& r) {
  return r.status == ProbeStatus::reset || r.status == ProbeStatus::eof ||
         r.status == ProbeStatus::handshake_timeout;
}

FailureClass failure_class(const ProbeResult& r) {
  return r.status == ProbeStatus::handshake_timeout ? FailureClass::handshake_timeout
                                                    : FailureClass::handshake_failure;
}

const ProbeResult* one_segment_twin(const OriginView& o, const ProbeResult& r) {
  return o.get(r.spec.label + "/" + probe_label::one_segment);
}

std::vector<Fix> pq_setting_fixes(const Context& ctx) {
  if (ctx.cdn().id != "cloudflare")
    return {};
  return {{"cloudflare",
           "# Until the origin side is fixed, make Cloudflare send a classical key share first\n"
           "# (turn off SSL/TLS > Origin connection > Automatic key exchange, or set):\n"
           "curl -X PUT https://api.cloudflare.com/client/v4/zones/$ZONE_ID/cache/"
           "origin_post_quantum_encryption \\\n  -H \"Authorization: Bearer $TOKEN\" "
           "-H \"Content-Type: application/json\" --data '{\"value\":\"supported\"}'"}};
}

} // namespace

std::optional<Finding> cert_signature_scheme_unsupported(const Context& ctx, const OriginView& o,
                                                         const std::vector<Finding>& so_far) {
  const auto* failed = edge_failure(o);
  const auto* permissive = o.get(probe_label::permissive);
  if (!failed || has_failure(so_far, o) || !handshake_ok(permissive) || permissive->chain.empty())
    return std::nullopt;
  if (!failed->alert || failed->alert->code != 40)
    return std::nullopt; // the server finds no signature scheme: handshake_failure
  const auto& key = permissive->chain.front().key_type;
  // The schemes a key of this type signs with (RFC 8446 4.2.3, RFC 8410).
  std::vector<std::uint16_t> needs;
  std::string kind;
  if (key == "ED25519") {
    needs = {0x0807};
    kind = "Ed25519";
  } else if (key == "ED448") {
    needs = {0x0808};
    kind = "Ed448";
  } else if (key == "RSA-PSS") {
    needs = {0x0809, 0x080a, 0x080b};
    kind = "RSA-PSS (id-RSASSA-PSS)";
  } else {
    return std::nullopt;
  }
  std::vector<std::uint16_t> offered;
  if (!ctx.cdn().hellos.empty())
    offered = ctx.cdn().hellos.front().signature_algorithms;
  else
    for (const auto& name : ctx.cdn().signature_algorithms)
      if (auto code = tls::signature_scheme_by_name(name))
        offered.push_back(*code);
  if (!ctx.cdn().hellos.empty() || !offered.empty()) {
    const bool usable = std::any_of(needs.begin(), needs.end(), [&](std::uint16_t n) {
      return std::find(offered.begin(), offered.end(), n) != offered.end();
    });
    if (usable)
      return std::nullopt;
  }
  auto f = make_finding("cert_signature_scheme_unsupported", &o,
                        ctx.predict_failure(FailureClass::handshake_failure));
  std::vector<std::string> names;
  for (auto n : needs)
    names.push_back(tls::signature_scheme_name(n));
  f.summary = fmt::format("the origin's certificate has an {} key, and {} offers no signature "
                          "scheme for it",
                          kind, ctx.cdn_name());
  f.explanation = fmt::format(
      "A server proves it holds its certificate's key by signing with one of the signature "
      "schemes the client offers. The certificate's key is {} ({} needed), but {}'s ClientHello "
      "offers only RSA (PKCS#1 and PSS with an rsaEncryption key) and ECDSA schemes, so the "
      "origin cannot sign and refuses the handshake. A client that offers {} (here: the "
      "permissive probe) connects.",
      kind, fmt::join(names, " or "), ctx.cdn_name(), fmt::join(names, ", "));
  f.evidence = {evidence(o, *failed), evidence(o, *permissive)};
  f.fixes = {{"nginx", "# an ECDSA P-256 (or RSA) certificate next to the current one:\n"
                       "ssl_certificate     /etc/ssl/site-ecdsa.crt;\n"
                       "ssl_certificate_key /etc/ssl/site-ecdsa.key;"},
             {"apache", "SSLCertificateFile    /etc/ssl/site-ecdsa.crt\n"
                        "SSLCertificateKeyFile /etc/ssl/site-ecdsa.key"},
             {"haproxy",
              "# give HAProxy an ECDSA or RSA certificate as well (same name, "
              "site.pem.ecdsa / site.pem.rsa):\nbind :443 ssl crt /etc/haproxy/certs/site.pem"},
             {"caddy", "tls {\n    key_type p256\n}"},
             {"any", "Issue the certificate for an ECDSA P-256 or RSA key (e.g. certbot "
                     "--key-type ecdsa)."}};
  f.depends_on = {"signature_algorithms"};
  return f;
}

std::optional<Finding> split_client_hello_dropped(const Context& ctx, const OriginView& o,
                                                  const std::vector<Finding>& so_far) {
  if (has_failure(so_far, o))
    return std::nullopt;
  for (const auto* r : exact_hellos(o)) {
    const auto* twin = one_segment_twin(o, *r);
    if (r->wire.segments < 2 || !silent_drop(*r) || !handshake_ok(twin))
      continue;
    auto f = make_finding("split_client_hello_dropped", &o, ctx.predict_failure(failure_class(*r)));
    f.summary = fmt::format(
        "{} drops the {}-byte ClientHello {} sends in {} TCP segments ({}); in one segment it "
        "works",
        o.where(), r->wire.hello_bytes, ctx.cdn_name(), r->wire.segments, hello_name(*r));
    f.explanation = fmt::format(
        "{} sends {} of {} bytes, which leaves its network in {} TCP segments. The origin (or a "
        "firewall, IPS or load balancer in front of it) answers with {}; the very same bytes "
        "written as one segment are accepted. Something on the path inspects only the first "
        "packet of a ClientHello, or cannot reassemble one that spans several. Post-quantum key "
        "shares make ClientHellos this large, and {} warns that such hellos are 'typically split "
        "across two packets'.",
        ctx.cdn_name(), hello_name(*r), r->wire.hello_bytes, r->wire.segments, outcome_text(*r),
        ctx.cdn_name());
    f.evidence = {evidence(o, *r), evidence(o, *twin)};
    f.fixes = {{"any", "Update or reconfigure the middlebox in front of the origin (firewall, IPS, "
                       "DDoS filter, load balancer) so that it reassembles TLS ClientHellos that "
                       "span several TCP segments; test with `edgeshake probe ORIGIN --profile " +
                           ctx.cdn().id + "`."}};
    auto pq = pq_setting_fixes(ctx);
    f.fixes.insert(f.fixes.end(), pq.begin(), pq.end());
    f.depends_on = {"tcp_max_segment", "key_shares"};
    return f;
  }
  return std::nullopt;
}

std::optional<Finding> post_quantum_key_share_rejected(const Context& ctx, const OriginView& o,
                                                       const std::vector<Finding>& so_far) {
  if (has_failure(so_far, o))
    return std::nullopt;
  const auto hellos = exact_hellos(o);
  const bool some_accepted = std::any_of(hellos.begin(), hellos.end(),
                                         [](const ProbeResult* r) { return handshake_ok(r); });
  if (!some_accepted)
    return std::nullopt;
  for (const auto* r : hellos) {
    const auto* h = hello_of(ctx, *r);
    if (handshake_ok(r) || h == nullptr || r->wire.second_hello)
      continue;
    auto pq = std::find_if(h->key_shares.begin(), h->key_shares.end(), is_post_quantum);
    if (pq == h->key_shares.end())
      continue;
    auto f =
        make_finding("post_quantum_key_share_rejected", &o, ctx.predict_failure(failure_class(*r)));
    f.summary = fmt::format("{} refuses {} with the {} key share: {}", o.where(), hello_name(*r),
                            group_text(*pq), outcome_text(*r));
    f.explanation = fmt::format(
        "{} may send a ClientHello with a {} (post-quantum hybrid) key share. The origin answers "
        "it with {}, while it accepts {}'s classical hello. A server that does not know the group "
        "should ignore the share and pick a classical one (RFC 8446 4.2.8); this one fails "
        "instead, which points at an old or buggy TLS stack (or a middlebox that inspects the "
        "key shares).",
        ctx.cdn_name(), group_text(*pq), outcome_text(*r), ctx.cdn_name());
    f.evidence.push_back(evidence(o, *r));
    if (const auto* twin = one_segment_twin(o, *r))
      f.evidence.push_back(evidence(o, *twin));
    for (const auto* ok : hellos)
      if (handshake_ok(ok)) {
        f.evidence.push_back(evidence(o, *ok));
        break;
      }
    f.fixes = {{"any", "Upgrade the origin's TLS library to one that supports or at least "
                       "tolerates X25519MLKEM768 (OpenSSL 3.5+, BoringSSL, Go 1.24+, "
                       "rustls 0.23.19+), and check any TLS-inspecting middlebox in front of it."},
               {"nginx", "# nginx built with OpenSSL 3.5 or later:\n"
                         "ssl_ecdh_curve X25519MLKEM768:X25519:prime256v1:secp384r1;"}};
    auto pqfix = pq_setting_fixes(ctx);
    f.fixes.insert(f.fixes.end(), pqfix.begin(), pqfix.end());
    f.depends_on = {"key_shares", "groups"};
    return f;
  }
  return std::nullopt;
}

std::optional<Finding> hello_retry_failed(const Context& ctx, const OriginView& o,
                                          const std::vector<Finding>& so_far) {
  if (has_failure(so_far, o))
    return std::nullopt;
  for (const auto* r : exact_hellos(o)) {
    if (handshake_ok(r) || !r->wire.hrr_group)
      continue;
    auto f = make_finding("hello_retry_failed", &o, ctx.predict_failure(failure_class(*r)));
    const auto group = group_text(*r->wire.hrr_group);
    f.summary = r->wire.second_hello
                    ? fmt::format("{} asks for a {} key share (HelloRetryRequest), then fails the "
                                  "second ClientHello: {}",
                                  o.where(), group, outcome_text(*r))
                    : fmt::format("{} answers {} with a HelloRetryRequest the edge refuses: {}",
                                  o.where(), hello_name(*r), outcome_text(*r));
    f.explanation = fmt::format(
        "The origin did not take a key share of {} but asked for one for {} with a "
        "HelloRetryRequest. {} answers as RFC 8446 4.1.2 says (the same ClientHello with one "
        "key share for {}, after a ChangeCipherSpec); {}. The retry path of the origin's TLS "
        "stack is broken, or a middlebox does not expect a second ClientHello.",
        hello_name(*r), group, ctx.cdn_name(), group,
        r->wire.second_hello ? "the origin then fails with " + outcome_text(*r)
                             : "here the retry request itself is invalid: " + r->wire.refusal);
    f.evidence.push_back(evidence(o, *r));
    f.fixes = {{"any", "Upgrade the origin's TLS library, or configure it to prefer a group the "
                       "edge sends a key share for (" +
                           ctx.cdn_name() + ": X25519)."},
               {"nginx", "ssl_ecdh_curve X25519:prime256v1:secp384r1;"}};
    if (is_post_quantum(*r->wire.hrr_group)) {
      auto pq = pq_setting_fixes(ctx);
      f.fixes.insert(f.fixes.end(), pq.begin(), pq.end());
    }
    f.depends_on = {"key_shares", "groups"};
    return f;
  }
  return std::nullopt;
}

std::optional<Finding> handshake_judged_on_wire(const Context& ctx, const OriginView& o,
                                                const std::vector<Finding>& so_far) {
  const auto* primary = o.get(probe_label::primary);
  if (!edge_accepted(o) || !primary || handshake_ok(primary) || has_failure(so_far, o))
    return std::nullopt;
  const auto hellos = exact_hellos(o);
  const auto* judge = hellos.front();
  // Why OpenSSL could not: what the origin chose that OpenSSL 3.0 lacks, else
  // the ways OpenSSL's hello differs from the profile's.
  std::string why;
  const auto& cdn = ctx.cdn();
  auto listed = [](const std::vector<profiles::NotOffered>& list, const std::string& name) {
    return std::any_of(list.begin(), list.end(), [&](const auto& n) { return n.name == name; });
  };
  const std::string group = judge->wire.group ? group_text(*judge->wire.group) : "";
  if (judge->wire.group &&
      (listed(cdn.groups_not_offered, group) || is_post_quantum(*judge->wire.group)))
    why = fmt::format("the origin chose the {} key exchange, which this build's OpenSSL 3.0 "
                      "cannot do",
                      group);
  else if (listed(cdn.ciphers_not_offered, judge->cipher))
    why = fmt::format("the origin chose {}, a suite this build's OpenSSL 3.0 cannot negotiate",
                      judge->cipher);
  else if (judge->wire.dh_bits && *judge->wire.dh_bits < 1024)
    why = fmt::format("the origin chose a {}-bit DH group, which OpenSSL 3.0 refuses",
                      *judge->wire.dh_bits);
  else
    why = fmt::format("OpenSSL 3.0 cannot send the profile's hello exactly ({}) and the origin "
                      "refuses what it sends instead ({})",
                      cdn.openssl.deviations.empty()
                          ? std::string("its own extension order and contents")
                          : fmt::format("{}", fmt::join(cdn.openssl.deviations, "; ")),
                      describe(*primary));
  const auto* source = certificate_source(o);
  std::vector<ModeResult> predicted = ctx.predict_ok();
  if (!source) {
    for (std::size_t i = 0; i < predicted.size(); ++i)
      if (ctx.modes[i]->verify != profiles::Verify::none &&
          ctx.modes[i]->transport == profiles::Transport::tls)
        predicted[i].result = "untested";
  }
  auto f = make_finding("handshake_judged_on_wire", &o, std::move(predicted));
  f.severity = source ? Severity::info : Severity::warning;
  f.summary =
      source ? fmt::format("{} accepts {}'s hello ({} {}{}); the certificate comes from the {} "
                           "probe, as OpenSSL cannot complete that handshake",
                           o.where(), ctx.cdn_name(),
                           judge->version ? to_string(*judge->version) : "?", judge->cipher,
                           group.empty() ? "" : " " + group, source->spec.label)
             : fmt::format("{} accepts {}'s hello ({} {}{}), but its certificate could not be "
                           "fetched: certificate checks untested",
                           o.where(), ctx.cdn_name(),
                           judge->version ? to_string(*judge->version) : "?", judge->cipher,
                           group.empty() ? "" : " " + group);
  f.explanation = fmt::format(
      "The hand-built ClientHello that is exactly {}'s got a ServerHello the edge accepts, so the "
      "handshake is judged to succeed. edgeshake completes handshakes (for the certificate and "
      "the HTTP request) with OpenSSL, and here it cannot: {}. {}",
      ctx.cdn_name(), why,
      source ? fmt::format("The certificate checks use the chain the {} probe received.",
                           source->spec.label)
             : std::string("TLS 1.3 encrypts the certificate, and no hello OpenSSL can complete "
                           "is accepted, so the modes that verify the certificate stay untested."));
  for (const auto* r : hellos)
    f.evidence.push_back(evidence(o, *r));
  f.evidence.push_back(evidence(o, *primary));
  if (source && source != judge)
    f.evidence.push_back(evidence(o, *source));
  f.depends_on = whole_hello(ctx);
  return f;
}

} // namespace edgeshake::compare::rules
