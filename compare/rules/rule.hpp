// The rule interface (private to compare/). One rule = one finding id; the
// registry (registry.cpp) lists them in evaluation order. A rule is a pure
// function of the evidence; it reads probes by label and may look at the
// findings earlier rules produced for the same origin (so a catch-all rule
// stays silent when a specific cause already explains a failure).
#pragma once

#include "compare/compare.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeshake::compare::rules {

using profiles::FailureClass;

struct OriginView {
  const OriginTarget* target = nullptr;
  std::vector<const ProbeResult*> probes;
  const ProbeResult* get(std::string_view label) const;
  std::string where() const { return target->endpoint.to_string(); }
};

struct Context {
  const DiagnoseInput* in = nullptr;
  std::vector<const profiles::Mode*> modes; // the selected modes
  std::vector<OriginView> origins;
  const ProbeResult* edge = nullptr;

  const profiles::Profile& cdn() const { return in->cdn; }
  std::string cdn_name() const { return in->cdn.name; }
  // Per selected mode: plaintext modes "untested", else the profile's result for `c`.
  std::vector<ModeResult> predict_failure(FailureClass c) const;
  // Per selected mode: "ok" (plaintext modes "untested").
  std::vector<ModeResult> predict_ok() const;
  // Certificate problems: modes that verify (chain, or chain_and_name when
  // `name_only`) fail with certificate_invalid; others are ok.
  std::vector<ModeResult> predict_certificate(bool name_only) const;
};

using OriginRule = std::optional<Finding> (*)(const Context&, const OriginView&,
                                              const std::vector<Finding>& so_far);
using GlobalRule = std::vector<Finding> (*)(const Context&, const std::vector<Finding>& so_far);

struct Rule {
  std::string_view id;
  OriginRule origin = nullptr; // evaluated once per origin address
  GlobalRule global = nullptr; // evaluated once per run, after the origin rules
};

const std::vector<Rule>& registry();

// ---- helpers shared by rules ----

// Severity from predictions: failure when any mode gets an error.
Severity severity_of(const std::vector<ModeResult>& predicted);
bool is_failure_result(std::string_view result);

// One line describing what a probe offered and what came back.
std::string describe(const ProbeResult& r);
EvidenceItem evidence(const OriginView& o, const ProbeResult& r);
EvidenceItem evidence(const ProbeResult& r);

bool handshake_ok(const ProbeResult* r);
bool handshake_failed(const ProbeResult* r); // got past TCP, failed in TLS

// The judge: the wire probes that send exactly a hello the edge may send
// ("wire", "wire/<label>"; not the one_segment twins or the swaps), in the
// profile's hello order. Without wire probes (hand-built profiles) the primary
// probe stands in for them.
bool is_exact_hello(const ProbeResult& r);
std::vector<const ProbeResult*> exact_hellos(const OriginView& o);
bool edge_any_failed(const OriginView& o); // the origin fails some hello the edge may send
bool edge_all_failed(const OriginView& o); // ... every one
bool edge_accepted(const OriginView& o);   // wire probes exist and every one was accepted
// The first failed exact hello (else the primary, when it failed), or nullptr.
const ProbeResult* edge_failure(const OriginView& o);
// The probe whose certificate chain stands for the origin's: the primary when it
// completed; when the edge's hellos are accepted but OpenSSL could not complete
// the primary (a group or suite beyond OpenSSL 3.0), the closest probe that has
// the chain (permissive, else a TLS <= 1.2 wire probe, which reads it in clear).
const ProbeResult* certificate_source(const OriginView& o);

// Every hello field the profile has provenance for (for findings that rest on
// the whole hello: "no problem found", the catch-alls).
std::vector<std::string> whole_hello(const Context& ctx);
bool alert_is(const ProbeResult* r, int code);
bool has_failure(const std::vector<Finding>& so_far, const OriginView& o);
bool has_id(const std::vector<Finding>& so_far, const OriginView& o, std::string_view id);

// Versions the origin accepted in the version/<v> probes.
std::vector<TlsVersion> accepted_versions(const OriginView& o);
std::string join_versions(const std::vector<TlsVersion>& v);
std::string human_age(std::chrono::seconds s); // "12 days", "3 hours"

Finding make_finding(std::string_view id, const OriginView* o, std::vector<ModeResult> predicted);

// Rule entry points (one per finding id), grouped by file.
// rules/connect.cpp
std::optional<Finding> connection_refused(const Context&, const OriginView&,
                                          const std::vector<Finding>&);
std::optional<Finding> tcp_connect_timeout(const Context&, const OriginView&,
                                           const std::vector<Finding>&);
std::optional<Finding> not_tls(const Context&, const OriginView&, const std::vector<Finding>&);
std::optional<Finding> tls_handshake_timeout(const Context&, const OriginView&,
                                             const std::vector<Finding>&);
std::optional<Finding> connection_reset(const Context&, const OriginView&,
                                        const std::vector<Finding>&);
std::optional<Finding> tls_handshake_failed(const Context&, const OriginView&,
                                            const std::vector<Finding>&);
// rules/client_cert.cpp
std::optional<Finding> client_cert_required_handshake(const Context&, const OriginView&,
                                                      const std::vector<Finding>&);
std::optional<Finding> client_cert_required_http(const Context&, const OriginView&,
                                                 const std::vector<Finding>&);
// rules/sni.cpp
std::optional<Finding> sni_unknown_rejected(const Context&, const OriginView&,
                                            const std::vector<Finding>&);
std::optional<Finding> sni_required(const Context&, const OriginView&, const std::vector<Finding>&);
// rules/protocol.cpp
std::optional<Finding> legacy_protocol_only(const Context&, const OriginView&,
                                            const std::vector<Finding>&);
std::optional<Finding> protocol_mismatch(const Context&, const OriginView&,
                                         const std::vector<Finding>&);
// rules/cipher.cpp
std::optional<Finding> no_group_overlap(const Context&, const OriginView&,
                                        const std::vector<Finding>&);
std::optional<Finding> no_tls13_cipher_overlap(const Context&, const OriginView&,
                                               const std::vector<Finding>&);
std::optional<Finding> cert_type_cipher_mismatch(const Context&, const OriginView&,
                                                 const std::vector<Finding>&);
std::optional<Finding> origin_refuses_every_hello(const Context&, const OriginView&,
                                                  const std::vector<Finding>&);
std::optional<Finding> no_cipher_overlap(const Context&, const OriginView&,
                                         const std::vector<Finding>&);
// rules/certificate.cpp
std::optional<Finding> cf_origin_ca(const Context&, const OriginView&, const std::vector<Finding>&);
std::optional<Finding> cert_expired(const Context&, const OriginView&, const std::vector<Finding>&);
std::optional<Finding> cert_not_yet_valid(const Context&, const OriginView&,
                                          const std::vector<Finding>&);
std::optional<Finding> intermediate_expired(const Context&, const OriginView&,
                                            const std::vector<Finding>&);
std::optional<Finding> self_signed(const Context&, const OriginView&, const std::vector<Finding>&);
std::optional<Finding> incomplete_chain(const Context&, const OriginView&,
                                        const std::vector<Finding>&);
std::optional<Finding> untrusted_root(const Context&, const OriginView&,
                                      const std::vector<Finding>&);
std::optional<Finding> cert_verify_failed(const Context&, const OriginView&,
                                          const std::vector<Finding>&);
std::optional<Finding> hostname_mismatch(const Context&, const OriginView&,
                                         const std::vector<Finding>&);
std::optional<Finding> weak_key(const Context&, const OriginView&, const std::vector<Finding>&);
std::optional<Finding> weak_signature(const Context&, const OriginView&,
                                      const std::vector<Finding>&);
// rules/wire.cpp
std::optional<Finding> cert_signature_scheme_unsupported(const Context&, const OriginView&,
                                                         const std::vector<Finding>&);
std::optional<Finding> split_client_hello_dropped(const Context&, const OriginView&,
                                                  const std::vector<Finding>&);
std::optional<Finding> post_quantum_key_share_rejected(const Context&, const OriginView&,
                                                       const std::vector<Finding>&);
std::optional<Finding> hello_retry_failed(const Context&, const OriginView&,
                                          const std::vector<Finding>&);
std::optional<Finding> handshake_judged_on_wire(const Context&, const OriginView&,
                                                const std::vector<Finding>&);
// rules/http.cpp
std::optional<Finding> http_response_timeout(const Context&, const OriginView&,
                                             const std::vector<Finding>&);
// rules/global.cpp
std::vector<Finding> clock_skew(const Context&, const std::vector<Finding>&);
std::vector<Finding> tls_interception_suspected(const Context&, const std::vector<Finding>&);
std::vector<Finding> backends_differ(const Context&, const std::vector<Finding>&);

} // namespace edgeshake::compare::rules
