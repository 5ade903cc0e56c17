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

// ---------------------------------------------------------------- format 2
// The whole ClientHello as data (docs/profiles.md, "Format 2"). Code points are
// wire values; names are resolved through common/tls_registry.hpp at load time.

// Where a profile field's value comes from.
enum class SourceKind {
  documented, // the provider's own documentation says so (reference: a URL)
  inferred,   // read from the provider's open-source code (reference: owner/repo@commit:path)
  assumed,    // nobody says; the profile's guess (reference: empty, the note says why)
};

struct Provenance {
  SourceKind kind = SourceKind::assumed;
  std::string reference; // URL (documented) or "owner/repo@commit:path" (inferred)
  std::string note;      // one sentence: what exactly the source says, or the assumption
  bool operator==(const Provenance&) const = default;
};

// A GREASE placeholder in a code list (RFC 8701): a fresh 0x?A?A value per connection.
inline constexpr std::uint16_t k_grease = 0x0a0a;

// One ClientHello, field by field, in wire order where order exists.
struct WireHello {
  std::string label; // names this hello among the alternatives ("classical"); "" when alone
  std::uint16_t record_version = 0x0301; // record layer version of the first ClientHello
  std::uint16_t legacy_version = 0x0303; // ClientHello.legacy_version
  std::vector<TlsVersion> versions;      // ascending, contiguous: what the client accepts
  // supported_versions on the wire, in order (may hold k_grease); empty = versions, descending.
  std::vector<std::uint16_t> supported_versions;
  std::vector<std::uint16_t> cipher_suites;   // wire order; may hold k_grease, 0x00ff (SCSV)
  std::vector<std::uint16_t> extensions;      // extension types, wire order; may hold k_grease
  std::vector<std::uint16_t> groups;          // supported_groups, wire order
  std::vector<std::uint16_t> key_shares;      // groups with a share in the first hello, in order
  std::vector<std::uint8_t> ec_point_formats; // 0 uncompressed, 1 ansiX962_prime, 2 ansiX962_char2
  std::vector<std::uint16_t> signature_algorithms;      // SignatureScheme values, in order
  std::vector<std::uint16_t> signature_algorithms_cert; // (extension 0x0032), when sent
  std::vector<std::string> alpn;
  std::vector<std::uint8_t> psk_key_exchange_modes; // 1 = psk_dhe_ke
  std::vector<std::uint16_t> compress_certificate;  // RFC 8879 algorithms (2 = brotli)
  // The TCP segment size the edge's kernel writes with (its MSS): a hello larger
  // than this leaves in several segments. 0 = one segment whatever the size.
  std::uint16_t tcp_max_segment = 0;
  // Cipher suites the client accepts only at some versions (a documented table
  // per version): suite -> versions. A suite not listed is accepted at every
  // version it is defined for (common/tls_registry.hpp).
  std::map<std::uint16_t, std::vector<TlsVersion>> suite_versions;
  bool operator==(const WireHello&) const = default;

  bool has_extension(std::uint16_t type) const;
};

// The size of this hello on the wire (record headers included) with a server
// name of `sni_length` bytes (0: none), as handshake/enumerate/wire.cpp writes
// it; `retry_group`: the second ClientHello after a HelloRetryRequest for that
// group (without a cookie). A test checks it against the writer.
std::size_t encoded_size(const WireHello& hello, std::size_t sni_length,
                         std::optional<std::uint16_t> retry_group = std::nullopt);

// A named provider option ("pq", "compliance", "http2"): each value edits the
// hello, and may stand for several hellos the edge chooses between (Cloudflare's
// Automatic key exchange sends either a classical or a post-quantum key share).
struct HelloEdit {
  std::string label; // the resulting hello's label ("post_quantum"); "" keeps the current one
  std::optional<std::vector<TlsVersion>> versions;
  std::optional<std::vector<std::uint16_t>> cipher_suites;
  std::optional<std::vector<std::uint16_t>> extensions;
  std::optional<std::vector<std::uint16_t>> groups;
  std::optional<std::vector<std::uint16_t>> key_shares;
  std::optional<std::vector<std::uint16_t>> signature_algorithms;
  std::optional<std::vector<std::string>> alpn;
  bool operator==(const HelloEdit&) const = default;
};

struct VariantValue {
  std::string name;        // "preferred"
  std::string description; // one sentence
  // The hellos this value stands for: empty = the hello as it is; one = an edit;
  // several = the edge may send any of them (each is probed).
  std::vector<HelloEdit> hellos;
  std::optional<Provenance> provenance; // else the variant's
  bool operator==(const VariantValue&) const = default;
};

struct Variant {
  std::string name;        // "pq" (--variant pq=preferred)
  std::string description; // one sentence
  std::string default_value;
  std::vector<VariantValue> values;
  Provenance provenance;
  bool operator==(const Variant&) const = default;

  const VariantValue* find(std::string_view value) const;
};

// How the OpenSSL probes (certificate, HTTP) approximate the hello: what
// OpenSSL 3.0 can be told to leave out. Derived from the hello at load time.
struct OpensslHello {
  bool status_request = true;         // SSL_set_tlsext_status_type (OCSP stapling request)
  bool session_ticket = true;         // else SSL_OP_NO_TICKET
  bool encrypt_then_mac = true;       // else SSL_OP_NO_ENCRYPT_THEN_MAC
  bool extended_master_secret = true; // else SSL_OP_NO_EXTENDED_MASTER_SECRET
  bool padding = false;               // SSL_OP_TLSEXT_PADDING
  // What the OpenSSL probes send differently from the profile's hello, one line
  // each ("extension order: OpenSSL's own", "ec_point_formats [0,1,2] instead of [0]").
  std::vector<std::string> deviations;
  bool operator==(const OpensslHello&) const = default;
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

  // --- format 2: the wire ClientHello (format 1 files get the hello OpenSSL 3.0 sends) ---
  int format = 1;
  WireHello hello;                              // the base hello, before variants
  std::map<std::string, Provenance> provenance; // per hello field ("cipher_suites", "groups" ...)
  std::vector<Variant> variants;
  // After select_variants (load applies the defaults): the value chosen per
  // variant, in the profile's variant order, and the hellos the edge may send
  // (at least one; the OpenSSL fields above are derived from hellos.front()).
  std::vector<std::pair<std::string, std::string>> variant_choice;
  std::vector<WireHello> hellos;
  OpensslHello openssl;

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

// Apply variant choices ("pq" -> "preferred"): unknown variants or values, and
// combinations that leave an invalid hello (no key agreement in common, a key
// share not in supported_groups ...), are usage errors naming the choice.
// Variants not named take their default. Re-derives hellos, the OpenSSL fields
// and `openssl` from the result. Idempotent on the same choices.
Result<Profile> select_variants(Profile profile,
                                const std::vector<std::pair<std::string, std::string>>& choices);

// "pq=preferred" -> {"pq", "preferred"}; an error names the text.
Result<std::pair<std::string, std::string>> parse_variant_choice(std::string_view text);

std::string_view to_string(SourceKind);
std::optional<SourceKind> parse_source_kind(std::string_view);
// Which fields of the hello a provenance entry exists for, in display order.
const std::vector<std::string_view>& hello_field_names();

// The bundled profiles (profiles/providers/*.toml, compiled into the binary).
const std::vector<Profile>& bundled();

// A bundled id ("cloudflare") or a path to a .toml file (anything containing '/'
// or ending in ".toml").
Result<Profile> find(std::string_view name_or_path);

} // namespace edgeshake::profiles
