// Which probes a diagnosis needs. Every probe has one job, named by its label:
//   primary              exactly what the CDN sends (its verdict is the CDN's)
//   no_sni / with_sni    the same with SNI flipped: does the origin need SNI?
//   permissive           everything OpenSSL can offer: can the origin do TLS at all?
//   version/<v>          permissive, one version alone: which versions it accepts
//   profile/<v>          the CDN's profile, one version alone
//   profile_any_group    the CDN's suites with every group: is it the groups?
//   profile_any_cipher   every suite with the CDN's groups: is it the suites?
//   wire[/<label>]       the CDN's exact ClientHello, one per hello it may send,
//                        judged at the ServerHello: does the origin accept it?
//   wire/<label>/one_segment   a hello larger than one TCP segment, in one
// The wire probes and the two swaps are hand-built hellos (Engine::wire), so
// they offer exactly what the CDN offers, also what OpenSSL 3.0 cannot (ML-KEM,
// 3DES, RC4); the others are OpenSSL handshakes, which also fetch the
// certificate and send the HTTP request.
// They are independent, so all of them run at once: a diagnosis costs about one
// connection's worth of round trips, not one per probe.
#include "compare/compare.hpp"

namespace edgeshake::compare {

namespace {

// What a permissive client offers: every version from TLS 1.0, every suite
// the linked OpenSSL knows at security level 0, every group.
profiles::Profile permissive_profile(const profiles::Profile& base) {
  profiles::Profile p;
  p.id = "permissive";
  p.name = "Permissive client";
  p.description = "Everything OpenSSL can offer (used to isolate causes)";
  p.versions = {TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2, TlsVersion::tls1_3};
  p.ciphers = {"ALL", "COMPLEMENTOFALL"};
  p.tls13_ciphersuites = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                          "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                          "TLS_AES_128_CCM_8_SHA256"};
  p.groups = {"X25519", "P-256", "P-384", "P-521", "X448", "ffdhe2048", "ffdhe3072", "ffdhe4096"};
  p.alpn = base.alpn;
  p.security_level = 0;
  p.sni = base.sni;
  p.sni_name = base.sni_name;
  p.trust_store = base.trust_store;
  p.modes = base.modes;
  p.default_mode = base.default_mode;
  p.errors = base.errors;
  return p;
}

} // namespace

std::optional<std::string> cdn_sni(const profiles::Profile& cdn, const std::string& host,
                                   const std::optional<std::string>& sni_override) {
  if (sni_override)
    return sni_override;
  switch (cdn.sni) {
  case profiles::SniPolicy::request_host:
    return host;
  case profiles::SniPolicy::fixed:
    return cdn.sni_name;
  case profiles::SniPolicy::none:
    return std::nullopt;
  }
  return std::nullopt;
}

std::string wire_label(const profiles::Profile& cdn, std::size_t index) {
  if (cdn.hellos.size() <= 1 || index >= cdn.hellos.size() || cdn.hellos[index].label.empty())
    return cdn.hellos.size() <= 1 ? std::string(probe_label::wire)
                                  : std::string(probe_label::wire) + "/" + std::to_string(index);
  return std::string(probe_label::wire) + "/" + cdn.hellos[index].label;
}

std::vector<ProbeSpec> plan(const PlanSpec& spec) {
  std::vector<ProbeSpec> out;
  if (spec.edge) {
    ProbeSpec e;
    e.label = probe_label::edge;
    e.target = *spec.edge;
    e.host = spec.host;
    e.sni = spec.host;
    e.profile = handshake::SharedProfile(spec.browser);
    e.http = true;
    e.http_host = spec.host;
    e.trust_store = spec.edge_trust_store;
    e.timeout = spec.timeout;
    out.push_back(std::move(e));
  }
  const auto sni = cdn_sni(spec.cdn, spec.host, spec.sni_override);
  const auto permissive = permissive_profile(spec.cdn);
  // One shared copy of each profile for every probe of the plan.
  const handshake::SharedProfile cdn_shared(spec.cdn);
  const handshake::SharedProfile permissive_shared(permissive);
  for (const auto& origin : spec.origins) {
    ProbeSpec base;
    base.target = origin.endpoint;
    // The name the CDN checks the certificate against: the SNI it sends, else the host.
    base.host = sni.value_or(spec.host);
    base.sni = sni;
    base.profile = cdn_shared;
    base.client_cert = spec.client_cert;
    base.trust_store = spec.trust_store;
    base.timeout = spec.timeout;

    auto add = [&](std::string label, auto&& tweak) {
      ProbeSpec s = base;
      s.label = std::move(label);
      tweak(s);
      out.push_back(std::move(s));
    };
    add(probe_label::primary, [&](ProbeSpec& s) {
      s.http = true;
      s.http_host = spec.host;
    });
    if (sni) {
      add(probe_label::no_sni, [](ProbeSpec& s) { s.sni.reset(); });
    } else {
      add(probe_label::with_sni, [&](ProbeSpec& s) { s.sni = spec.host; });
    }
    add(probe_label::permissive, [&](ProbeSpec& s) { s.profile = permissive_shared; });
    for (TlsVersion v :
         {TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2, TlsVersion::tls1_3}) {
      add(std::string(probe_label::version) + "/" + std::string(to_string(v)), [&](ProbeSpec& s) {
        s.profile = permissive_shared;
        s.overrides.only_version = v;
      });
    }
    for (TlsVersion v : spec.cdn.versions) {
      if (v == TlsVersion::ssl3)
        continue; // OpenSSL 3 cannot offer it
      add(std::string(probe_label::profile_version) + "/" + std::string(to_string(v)),
          [&](ProbeSpec& s) { s.overrides.only_version = v; });
    }
    if (spec.cdn.hellos.empty()) {
      // A profile without a wire hello (built by hand in tests): OpenSSL swaps.
      add(probe_label::profile_any_group,
          [&](ProbeSpec& s) { s.overrides.groups = permissive.groups; });
      add(probe_label::profile_any_cipher, [&](ProbeSpec& s) {
        s.overrides.ciphers = permissive.ciphers;
        s.overrides.tls13_ciphersuites = permissive.tls13_ciphersuites;
        // Keep the CDN's versions, but let the security level admit every suite.
        s.profile.edit().security_level = 0;
      });
      continue;
    }
    auto wire = [&](std::string label, std::size_t hello, handshake::WireOverrides o) {
      add(std::move(label), [&](ProbeSpec& s) {
        s.engine = handshake::Engine::wire;
        s.hello = hello;
        s.wire = o;
      });
    };
    wire(probe_label::profile_any_group, 0, {.every_group = true});
    wire(probe_label::profile_any_cipher, 0, {.every_suite = true});
    for (std::size_t i = 0; i < spec.cdn.hellos.size(); ++i) {
      const auto label = wire_label(spec.cdn, i);
      wire(label, i, {});
      // A hello the edge's kernel sends in several segments, once more in one:
      // the pair tells a middlebox that drops split hellos from an origin that
      // refuses this hello.
      const auto& h = spec.cdn.hellos[i];
      if (h.tcp_max_segment > 0 &&
          profiles::encoded_size(h, sni ? sni->size() : 0) > h.tcp_max_segment)
        wire(label + "/" + probe_label::one_segment, i, {.one_segment = true});
    }
  }
  return out;
}

} // namespace edgeshake::compare
