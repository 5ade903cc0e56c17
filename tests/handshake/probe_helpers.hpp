// Shared by the handshake tests: hand-built profiles (so the tests do not
// depend on the bundled TOML files) and one helper that runs rows of
// (server setup, profile, expected status and facts).
#pragma once

#include "handshake/handshake.hpp"
#include "tests/support/certs.hpp"

#include <functional>
#include <memory>
#include <string>

namespace edgeshake::testing {

// A client close to OpenSSL's defaults: TLS 1.2-1.3, default lists, SNI =
// request host, verifies chain and name.
inline profiles::Profile default_client_profile() {
  profiles::Profile p;
  p.id = "test-default";
  p.name = "test default client";
  p.versions = {TlsVersion::tls1_2, TlsVersion::tls1_3};
  p.sni = profiles::SniPolicy::request_host;
  p.security_level = 1;
  profiles::Mode strict;
  strict.name = "strict";
  strict.verify = profiles::Verify::chain_and_name;
  p.modes = {strict};
  p.default_mode = "strict";
  return p;
}

// Cloudflare's documented origin ClientHello (cipher table order), TLS 1.0-1.3.
inline profiles::Profile cloudflare_like_profile() {
  profiles::Profile p = default_client_profile();
  p.id = "test-cloudflare";
  p.name = "Cloudflare-like";
  p.versions = {TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2, TlsVersion::tls1_3};
  p.ciphers = {"ECDHE-ECDSA-AES128-GCM-SHA256",
               "ECDHE-RSA-AES128-GCM-SHA256",
               "ECDHE-RSA-AES128-SHA",
               "AES128-GCM-SHA256",
               "AES128-SHA",
               "ECDHE-ECDSA-AES256-GCM-SHA384",
               "ECDHE-RSA-AES256-GCM-SHA384",
               "ECDHE-RSA-AES256-SHA384",
               "AES256-SHA"};
  p.tls13_ciphersuites = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                          "TLS_CHACHA20_POLY1305_SHA256"};
  p.groups = {"X25519", "P-256", "P-384"};
  p.alpn = {"h2", "http/1.1"};
  p.security_level = 0;
  return p;
}

// A probe spec for 127.0.0.1:port verified against the test CA.
inline handshake::ProbeSpec loopback_spec(std::uint16_t port, const profiles::Profile& profile,
                                          const CertCatalogue& certs,
                                          std::optional<std::string> sni) {
  handshake::ProbeSpec s;
  s.label = "test";
  s.target = {"127.0.0.1", port};
  s.host = certs.host;
  s.sni = std::move(sni);
  s.profile = profile;
  s.trust_store = certs.ca_file.string();
  s.timeout = std::chrono::milliseconds(5000);
  return s;
}

} // namespace edgeshake::testing
