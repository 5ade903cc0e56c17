// Rendering of probe results (handshake::ProbeResult) as text and as JSON
// (docs/probe.md). Shared by `probe` and `diagnose`.
#pragma once

#include "cmd/command.hpp"
#include "handshake/handshake.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace edgeshake::cmd {

// "2026-11-25T12:00:00Z"
std::string iso8601(handshake::SysSeconds t);

// One certificate: {"subject","issuer","dns_names","ip_addresses","not_before","not_after",
// "key_type","key_bits","curve","signature_algorithm","sha256","serial","is_ca","self_issued"}
nlohmann::json to_json(const handshake::CertificateInfo& c);
// One probe (docs/probe.md, "Probe object"). `verbose` adds the OpenSSL error
// queue and the HTTP body excerpt.
nlohmann::json to_json(const handshake::ProbeResult& r, bool verbose);

// The "profile" member of probe's JSON: id, name, mode, verify, the variant
// chosen per provider option and the labels of the hellos the edge may send.
nlohmann::json profile_json(const profiles::Profile& p, profiles::Verify verify);

// A wire probe's sub-object ("wire": null for OpenSSL probes).
nlohmann::json wire_to_json(const handshake::WireResult& w);

// The verdict words used by `probe` (and its exit code): "ok",
// "handshake_failed", "verification_failed", "certificate_unavailable". `wire`:
// the wire probes of the same address (the edge's exact hellos), which judge
// the handshake: any refused is "handshake_failed"; all accepted while the
// OpenSSL probe `r` failed is decided by the chain a wire probe read, else
// "certificate_unavailable" when the mode verifies.
std::string_view probe_verdict(const handshake::ProbeResult& r, profiles::Verify verify,
                               const std::vector<const handshake::ProbeResult*>& wire = {});
// What a profile's default mode checks (Verify::none when it has no such mode).
profiles::Verify default_verify(const profiles::Profile& p);

// One probe as text: target, status, TLS parameters, client-certificate
// request, chain, verification, HTTP. Lines are "label    value".
std::string probe_text(const handshake::ProbeResult& r, const Style& style, bool verbose,
                       profiles::Verify verify,
                       const std::vector<const handshake::ProbeResult*>& wire = {});
// One wire probe as a "wire" line: which hello, accepted or refused, the retry.
std::string wire_text(const handshake::ProbeResult& r, const Style& style);
// A certificate chain as text (leaf first), indented under a "chain" label.
std::string chain_text(const std::vector<handshake::CertificateInfo>& chain, const Style& style);

} // namespace edgeshake::cmd
