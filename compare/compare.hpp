// compare: turns probe results into findings. Pure: no network, no OpenSSL.
//   plan()      which probes a diagnosis needs (all run concurrently)
//   diagnose()  findings with the predicted CDN result per SSL mode, evidence
//               and fixes, and the verdict per mode
// See docs/rules.md for every finding id.
#pragma once

#include "common/endpoint.hpp"
#include "handshake/handshake.hpp"
#include "profiles/profiles.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace edgeshake::compare {

using handshake::ProbeResult;
using handshake::ProbeSpec;

// Probe labels (the evidence names). Per-version probes append "/TLSv1.2".
namespace probe_label {
inline constexpr const char* edge = "edge";
inline constexpr const char* primary = "primary";   // exactly what the CDN sends
inline constexpr const char* no_sni = "no_sni";     // primary without SNI
inline constexpr const char* with_sni = "with_sni"; // primary with SNI (profiles that send none)
inline constexpr const char* permissive = "permissive"; // everything OpenSSL can offer
inline constexpr const char* version = "version";       // permissive, one version: "version/TLSv1"
inline constexpr const char* profile_version =
    "profile"; // the profile, one version: "profile/TLSv1"
// The wire probes (Engine::wire): the profile's exact ClientHello, one per hello
// the edge may send: "wire" when there is one, else "wire/<label>"
// ("wire/classical", "wire/post_quantum"); a hello larger than one TCP segment
// also goes out in one segment ("wire/post_quantum/one_segment") to tell a
// middlebox that drops split hellos from an origin that refuses the hello.
inline constexpr const char* wire = "wire";
inline constexpr const char* one_segment = "one_segment";
// Swap probes, on the wire so they can offer what OpenSSL cannot:
inline constexpr const char* profile_any_group = "profile_any_group"; // profile suites, all groups
inline constexpr const char* profile_any_cipher =
    "profile_any_cipher"; // all suites, profile groups
} // namespace probe_label

// "wire" or "wire/<label>" for hello `index` of `cdn`.
std::string wire_label(const profiles::Profile& cdn, std::size_t index);

struct OriginTarget {
  std::string name;  // as the user gave it ("origin.example" or the IP)
  Endpoint endpoint; // one resolved address
  bool operator==(const OriginTarget&) const = default;
};

struct PlanSpec {
  std::string host;             // the site's hostname (what visitors ask for)
  profiles::Profile cdn;        // the CDN's origin-facing profile
  profiles::Profile browser;    // for the edge probe
  std::optional<Endpoint> edge; // where visitors connect (nullopt: no edge probe)
  std::vector<OriginTarget> origins;
  std::optional<std::string> sni_override; // --sni: model an SNI override rule
  std::optional<handshake::ClientCertificate> client_cert;
  std::string trust_store;      // --trust-store ("" = profile's)
  std::string edge_trust_store; // the edge probe's ("" = the system store)
  std::chrono::milliseconds timeout{10000};
};

// The probes for a diagnosis, labelled; each origin's probes carry its endpoint.
std::vector<ProbeSpec> plan(const PlanSpec& spec);

// The SNI the CDN sends to the origin for `host` (nullopt = none).
std::optional<std::string> cdn_sni(const profiles::Profile& cdn, const std::string& host,
                                   const std::optional<std::string>& sni_override);

enum class Severity { info, warning, failure };
std::string_view to_string(Severity);

struct ModeResult {
  std::string mode;   // "strict"
  std::string label;  // "Full (strict)"
  std::string result; // "ok", "525", "526", "untested" ...
  bool operator==(const ModeResult&) const = default;
};

struct EvidenceItem {
  std::string probe;  // probe label, e.g. "primary" or "version/TLSv1.2"
  std::string target; // "127.0.0.1:8443"
  std::string what;   // "offered TLSv1.2 with 9 suites, got alert 40 handshake_failure"
  bool operator==(const EvidenceItem&) const = default;
};

struct Fix {
  std::string server; // "nginx", "apache", "haproxy", "caddy", "any"
  std::string lines;
  bool operator==(const Fix&) const = default;
};

// A profile field a conclusion rests on that the provider does not document:
// the profile assumes its value (docs/profiles.md, provenance).
struct AssumedField {
  std::string field; // "tcp_max_segment"
  std::string note;  // the assumption, from the profile
  bool operator==(const AssumedField&) const = default;
};

struct Finding {
  std::string id; // stable: "cert_expired"
  Severity severity = Severity::info;
  std::string target;      // origin endpoint, "edge", or "all origins"
  std::string summary;     // one line: "origin certificate expired 12 days ago"
  std::string explanation; // plain words
  std::vector<ModeResult> predicted;
  std::vector<EvidenceItem> evidence;
  std::vector<Fix> fixes;
  // The ClientHello fields the conclusion rests on (profiles::hello_field_names()),
  // and those of them the profile marks assumed.
  std::vector<std::string> depends_on;
  std::vector<AssumedField> assumed;
  bool operator==(const Finding&) const = default;
};

struct ModeVerdict {
  std::string mode;
  std::string label;
  std::string result;                // worst over all findings and origins
  std::string cause;                 // finding id that decided it ("none" when ok)
  std::string summary;               // that finding's summary
  std::vector<AssumedField> assumed; // that finding's assumed fields
  bool operator==(const ModeVerdict&) const = default;
};

// What an origin accepts, from the enumerate engine (handshake/enumerate):
// asked for only when a cipher, group or protocol finding needs explaining.
struct OriginCapabilities {
  Endpoint endpoint;
  std::vector<std::pair<TlsVersion, std::vector<std::string>>> suites; // accepted, per version
  std::vector<std::string> groups; // key-exchange groups accepted (TLS 1.3, else TLS 1.2)
  std::size_t connections = 0;
  bool operator==(const OriginCapabilities&) const = default;
};

struct DiagnoseInput {
  std::string host;
  profiles::Profile cdn;
  std::vector<std::string> modes; // selected mode names (empty = all)
  std::vector<OriginTarget> origins;
  std::vector<ProbeResult> probes; // everything plan() asked for, any order
  std::optional<std::string> sni_override;
  std::vector<OriginCapabilities> capabilities; // optional second phase
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

struct Diagnosis {
  std::vector<Finding> findings;     // failures first, then warnings, then info
  std::vector<ModeVerdict> verdicts; // one per selected mode
  bool ok() const;                   // no selected mode fails ("ok" or "untested")
  // A mode that uses TLS to the origin could not be tested (a finding made it
  // "untested": e.g. a certificate OpenSSL 3.0 cannot fetch).
  bool untested() const;
  bool operator==(const Diagnosis&) const = default;
};

Diagnosis diagnose(const DiagnoseInput& input);

// Origins whose findings an enumeration of accepted suites and groups would
// explain: the second, optional phase. Without `also_explained`, only those
// whose handshake failure no rule explained (tls_handshake_failed); the wire
// swaps of the first batch already name what the others pick, so they are
// enumerated only on request (diagnose --capabilities).
std::vector<Endpoint> wants_capabilities(const Diagnosis& diagnosis,
                                         const std::vector<OriginTarget>& origins,
                                         bool also_explained = true);

// Every finding id a rule can produce, in evaluation order (docs/rules.md).
const std::vector<std::string>& finding_ids();

} // namespace edgeshake::compare
