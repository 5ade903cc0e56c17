// Hand-built wire hellos for tests that must not depend on the bundled profile
// files: what a BoringSSL client configured like Cloudflare's open-source
// origin connector sends (shared/reference/cloudflare-origin-hello.md §1, §2).
#pragma once

#include "profiles/profiles.hpp"

namespace edgeshake::testing {

inline profiles::WireHello pingora_hello(bool post_quantum) {
  profiles::WireHello h;
  h.label = post_quantum ? "post_quantum" : "classical";
  h.versions = {TlsVersion::tls1_0, TlsVersion::tls1_1, TlsVersion::tls1_2, TlsVersion::tls1_3};
  h.cipher_suites = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xc02f, 0xc030,
                     0xc013, 0x009c, 0x009d, 0x002f, 0x0035, 0x000a};
  h.extensions = {0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0x0023,
                  0x0010, 0x000d, 0x0033, 0x002d, 0x002b};
  h.groups = {29, 23, 24, 25};
  h.key_shares = {29};
  if (post_quantum) {
    h.groups = {0x11ec, 29, 23, 24, 25};
    h.key_shares = {0x11ec, 29};
  }
  h.ec_point_formats = {0};
  h.signature_algorithms = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805,
                            0x0501, 0x0806, 0x0601, 0x0201, 0x0603};
  h.alpn = {"h2", "http/1.1"};
  h.psk_key_exchange_modes = {1};
  return h;
}

} // namespace edgeshake::testing
