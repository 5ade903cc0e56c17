// The explicit rule registry, in evaluation order: connection problems, then
// handshake causes (specific before generic), then the certificate, then HTTP,
// then run-wide rules. Adding a cause: one function, one line here, one entry
// in docs/rules.md, one test (tests/compare and tests/e2e).
#include "compare/rules/rule.hpp"

namespace edgeshake::compare::rules {

const std::vector<Rule>& registry() {
  static const std::vector<Rule> k_rules = {
      {"connection_refused", connection_refused, nullptr},
      {"tcp_connect_timeout", tcp_connect_timeout, nullptr},
      {"not_tls", not_tls, nullptr},
      {"tls_handshake_timeout", tls_handshake_timeout, nullptr},
      {"client_cert_required_handshake", client_cert_required_handshake, nullptr},
      {"sni_unknown_rejected", sni_unknown_rejected, nullptr},
      {"sni_required", sni_required, nullptr},
      {"legacy_protocol_only", legacy_protocol_only, nullptr},
      {"protocol_mismatch", protocol_mismatch, nullptr},
      {"no_group_overlap", no_group_overlap, nullptr},
      {"no_tls13_cipher_overlap", no_tls13_cipher_overlap, nullptr},
      {"cert_type_cipher_mismatch", cert_type_cipher_mismatch, nullptr},
      {"no_cipher_overlap", no_cipher_overlap, nullptr},
      {"origin_refuses_every_hello", origin_refuses_every_hello, nullptr},
      {"cert_signature_scheme_unsupported", cert_signature_scheme_unsupported, nullptr},
      {"split_client_hello_dropped", split_client_hello_dropped, nullptr},
      {"post_quantum_key_share_rejected", post_quantum_key_share_rejected, nullptr},
      {"hello_retry_failed", hello_retry_failed, nullptr},
      {"connection_reset", connection_reset, nullptr},
      {"tls_handshake_failed", tls_handshake_failed, nullptr},
      {"handshake_judged_on_wire", handshake_judged_on_wire, nullptr},
      {"cf_origin_ca", cf_origin_ca, nullptr},
      {"cert_expired", cert_expired, nullptr},
      {"cert_not_yet_valid", cert_not_yet_valid, nullptr},
      {"intermediate_expired", intermediate_expired, nullptr},
      {"self_signed", self_signed, nullptr},
      {"incomplete_chain", incomplete_chain, nullptr},
      {"untrusted_root", untrusted_root, nullptr},
      {"cert_verify_failed", cert_verify_failed, nullptr},
      {"hostname_mismatch", hostname_mismatch, nullptr},
      {"weak_key", weak_key, nullptr},
      {"weak_signature", weak_signature, nullptr},
      {"client_cert_required_http", client_cert_required_http, nullptr},
      {"http_response_timeout", http_response_timeout, nullptr},
      {"clock_skew", nullptr, clock_skew},
      {"tls_interception_suspected", nullptr, tls_interception_suspected},
      {"backends_differ", nullptr, backends_differ},
  };
  return k_rules;
}

} // namespace edgeshake::compare::rules
