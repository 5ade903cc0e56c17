// The enumerator's names for the TLS registry (common/tls_registry.hpp), which
// profiles/ validates against too.
#pragma once

#include "common/tls_registry.hpp"

namespace edgeshake::handshake::enumerate {

using tls::alpn_candidates;
using tls::candidate_groups;
using tls::candidate_suites;
using tls::cipher_suite_by_name;
using tls::cipher_suites;
using tls::CipherSuiteInfo;
using tls::display_name;
using tls::find_cipher_suite;
using tls::find_group;
using tls::GroupInfo;
using tls::k_ssl3;
using tls::k_tls1_0;
using tls::k_tls1_1;
using tls::k_tls1_2;
using tls::k_tls1_3;
using tls::named_groups;
using tls::signature_scheme_name;
using tls::signature_schemes;
using tls::version_bit;

} // namespace edgeshake::handshake::enumerate
