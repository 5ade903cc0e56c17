// Profiles: what one provider's edge sends to an origin (its ClientHello) and how
// it judges the origin (validation and error codes per SSL mode). Loaded from
// TOML (docs/profiles.md), validated against the linked OpenSSL at load time.
// Plain values only: no toml++ or OpenSSL types cross this header.
#pragma once

#include "common/result.hpp"
#include "common/tls.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeshake::profiles {

// Which server name the edge puts in the ClientHello.
enum class SniPolicy {
  request_host, // the visitor's Host (Cloudflare, Akamai, CloudFront origin domain)
  none,         // no server_name extension (nginx proxy_pass default, ALB as reported)
  fixed,        // a configured name (Profile::sni_name)
};

// How a mode talks to the origin.
enum class Transport { tls, plaintext };

// What a mode checks of the origin certificate.
enum class Verify {
  none,           // any certificate is accepted (Cloudflare Full, ALB, nginx default)
  chain,          // chain must verify to the trust store, name not checked
  chain_and_name, // chain + hostname (Full strict, CloudFront, AFD, Fastly default)
};

// Failure classes a mode maps to an edge error (e.g. handshake_failure -> "525").
enum class FailureClass {
  connection_refused,
  connect_timeout,
  handshake_failure,
  handshake_timeout,
  certificate_invalid,
  response_timeout,
  http_error, // TLS fine, origin answered with an error (e.g. nginx 400 for missing client cert)
  origin_unresolvable,
};

inline constexpr FailureClass k_all_failure_classes[] = {
    FailureClass::connection_refused,  FailureClass::connect_timeout,
    FailureClass::handshake_failure,   FailureClass::handshake_timeout,
    FailureClass::certificate_invalid, FailureClass::response_timeout,
    FailureClass::http_error,          FailureClass::origin_unresolvable};

// Names accepted in Mode::extra_trust.
inline constexpr std::string_view k_extra_trust_cloudflare_origin_ca = "cloudflare_origin_ca";
inline constexpr std::string_view k_extra_trust_names[] = {k_extra_trust_cloudflare_origin_ca};

struct Mode {
  std::string name;  // "strict" (stable id, used by --mode)
  std::string label; // "Full (strict)"
  Transport transport = Transport::tls;
  Verify verify = Verify::none;
  // Origin port this mode connects to; 0 = the port the visitor used (Cloudflare
  // Flexible: 80).
  std::uint16_t port = 0;
  // Extra trust anchors this mode accepts beyond the profile's trust store,
  // by name: "cloudflare_origin_ca" (Cloudflare Origin CA, matched by issuer DN).
  std::vector<std::string> extra_trust;
  // Edge result per failure class; a class missing here falls back to Profile::errors.
  std::map<FailureClass, std::string> errors;
  bool operator==(const Mode&) const = default;
};

// A documented entry the linked OpenSSL cannot offer (e.g. RC4-MD5 in CloudFront's
// table): kept in the profile with the reason instead of being dropped silently.
struct NotOffered {
  std::string name;
  std::string reason;
  bool operator==(const NotOffered&) const = default;
};

struct Profile {
  std::string id;       // file stem: "cloudflare"
  std::string name;     // "Cloudflare"
  std::string provider; // "Cloudflare, Inc."
  std::string description;
  std::vector<std::string> sources; // URLs the facts come from
  // Where the provider documents nothing, the profile says so and states its assumption.
  std::vector<std::string> assumptions;
  std::string path; // file it was loaded from ("<bundled>/cloudflare.toml")

  // --- the ClientHello ---
  std::vector<TlsVersion> versions;            // contiguous, ascending
  std::vector<std::string> ciphers;            // TLS <= 1.2 suites, OpenSSL names, in order
  std::vector<NotOffered> ciphers_not_offered; // documented, but OpenSSL 3 cannot offer them
  std::vector<std::string> tls13_ciphersuites; // TLS 1.3 suites, in order
  // supported_groups, OpenSSL names, in order. OpenSSL 3.0 sends a key share for
  // the first group only (the rest are advertised; a server may ask by HRR).
  std::vector<std::string> groups;
  std::vector<NotOffered> groups_not_offered;    // documented, but OpenSSL 3.0 cannot offer them
  std::vector<std::string> signature_algorithms; // OpenSSL sigalg names; empty = OpenSSL default
  std::vector<std::string> alpn;                 // e.g. {"h2", "http/1.1"}; empty = no ALPN
  SniPolicy sni = SniPolicy::request_host;
  std::string sni_name;                  // for SniPolicy::fixed
  int security_level = 0;                // OpenSSL @SECLEVEL needed to offer the list
  bool sends_client_certificate = false; // can be configured to (AOP, origin mTLS)

  // --- how the origin is judged ---
  std::string trust_store = "system";         // "system" (Debian ca-certificates) or a path
  std::vector<Mode> modes;                    // at least one
  std::string default_mode;                   // a Mode::name
  std::map<FailureClass, std::string> errors; // default edge result per failure class

  bool operator==(const Profile&) const = default;

  const Mode* find_mode(std::string_view mode_name) const;
  // Edge result for a failure in a mode: mode override, then profile default, then "error".
  std::string error_for(const Mode& mode, FailureClass c) const;
};

// Whether a failure class can happen in a mode at all: a plaintext mode has no
// handshake, and a mode with verify = none never rejects a certificate.
bool can_fail_with(const Mode& mode, FailureClass c);

std::string_view to_string(SniPolicy);
std::string_view to_string(Transport);
std::string_view to_string(Verify);
std::string_view to_string(FailureClass);
std::optional<FailureClass> parse_failure_class(std::string_view);
std::optional<SniPolicy> parse_sni_policy(std::string_view);
std::optional<Transport> parse_transport(std::string_view);
std::optional<Verify> parse_verify(std::string_view);

// Parse and validate one profile from TOML text. `origin` names the source in
// errors ("cloudflare.toml"); errors carry "origin:line:col".
Result<Profile> parse_profile(std::string_view toml_text, std::string origin, std::string id);

// Load one profile file (id = file stem unless the file sets `id`; a relative
// trust_store is resolved against the file's directory).
Result<Profile> load_file(const std::string& path);

// Load every *.toml in a directory, sorted by file name.
Result<std::vector<Profile>> load_dir(const std::string& dir);

// The bundled profiles (profiles/providers/*.toml, compiled into the binary).
const std::vector<Profile>& bundled();

// A bundled id ("cloudflare") or a path to a .toml file (anything containing '/'
// or ending in ".toml").
Result<Profile> find(std::string_view name_or_path);

} // namespace edgeshake::profiles
