// Private to profiles/: between the wire hello and the OpenSSL approximation
// (docs/profiles.md, "Derivation").
#pragma once

#include "profiles/profiles.hpp"

#include <optional>
#include <string>

namespace edgeshake::profiles::detail {

// What OpenSSL 3.0 sends for the profile's OpenSSL fields (versions, ciphers,
// tls13_ciphersuites, groups, signature_algorithms, alpn, security_level and
// the `openssl` flags): its extension order, its default signature algorithms
// when the profile lists none, one key share for the first TLS 1.3 group,
// ec_point_formats [0,1,2] and the renegotiation SCSV after the suites.
// server_name is listed; the writer leaves it out when there is no name.
WireHello openssl_wire_hello(const Profile& p);

// Format 2: the OpenSSL fields and `openssl` from p.hellos.front() (what the
// linked OpenSSL cannot offer goes to *_not_offered or `openssl.deviations`).
void derive_openssl(Profile& p);

// What makes a hello (after variant edits) impossible to send, or nullopt.
std::optional<std::string> hello_problem(const WireHello& h);

} // namespace edgeshake::profiles::detail
