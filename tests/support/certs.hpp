// Certificate catalogue generated at test time (OpenSSL C API), so nothing
// expires in the repository and "expired" / "not yet valid" are relative to
// the run. Tests assert against the returned facts, never hard-coded strings.
//
// Usage:
//   const auto& c = edgeshake::testing::shared_catalogue(); // once per process
//   nginx.cert = c.leaf_ecdsa.chain; nginx.key = c.leaf_ecdsa.key;
//   spec.trust_store = c.ca_file.string(); spec.host = c.host;
//   EXPECT_EQ(result.chain[0].sha256, c.leaf_ecdsa.sha256);
// or build your own with CertFactory:
//   CertFactory f(dir.path());
//   auto ca = f.root("Test Root");
//   auto leaf = f.issue(ca, {.common_name = "x.test", .dns_names = {"x.test"}});
//
// Every IssuedCert has `cert` (this certificate alone), `key`, and `chain`
// (this certificate followed by its issuers up to, but excluding, the root:
// what a correctly configured server sends). `cert` used as a server's
// certificate file is the "leaf only / missing intermediate" case.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace edgeshake::testing {

namespace fs = std::filesystem;

struct KeySpec {
  enum class Type { rsa, ec, ed25519, rsa_pss }; // rsa_pss: an id-RSASSA-PSS key (rsa_bits)
  Type type = Type::ec;
  int rsa_bits = 2048;
  std::string curve = "prime256v1"; // OpenSSL curve name for Type::ec
  static KeySpec rsa(int bits) { return {Type::rsa, bits, {}}; }
  static KeySpec ec(std::string curve_name) { return {Type::ec, 0, std::move(curve_name)}; }
  static KeySpec ed25519() { return {Type::ed25519, 0, {}}; }
  static KeySpec rsa_pss(int bits) { return {Type::rsa_pss, bits, {}}; }
};

struct CertOptions {
  std::string common_name{};
  std::vector<std::string> dns_names{};    // subjectAltName DNS entries
  std::vector<std::string> ip_addresses{}; // subjectAltName IP entries
  KeySpec key{};
  // Validity relative to now (may be negative: expired / not yet valid).
  std::chrono::seconds not_before{-3600};
  std::chrono::seconds not_after{std::chrono::hours(24 * 30)};
  std::string digest = "sha256"; // signature digest: "sha256", "sha1", "sha384"...
  bool is_ca = false;
  bool client_auth = false; // extendedKeyUsage clientAuth instead of serverAuth
};

struct IssuedCert {
  std::string name; // file stem inside the directory
  fs::path cert;    // PEM, this certificate only
  fs::path key;     // PEM, unencrypted private key
  fs::path chain;   // PEM, this certificate + intermediates (not the root)
  // Facts, computed from the generated certificate:
  std::string subject; // one-line DN, RFC 2253 ("CN=origin.test,O=edgeshake tests")
  std::string issuer;
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::chrono::sys_seconds not_before{};
  std::chrono::sys_seconds not_after{};
  std::string sha256;   // upper-case hex, colon-separated ("AB:CD:...")
  std::string serial;   // upper-case hex
  std::string key_type; // "RSA", "EC", "ED25519", "RSA-PSS"
  int key_bits = 0;
  std::string curve;               // EC only
  std::string signature_algorithm; // "sha256WithRSAEncryption", "ecdsa-with-SHA256"...
  bool is_ca = false;
};

class CertFactory {
public:
  explicit CertFactory(fs::path dir);
  // Self-signed CA certificate.
  IssuedCert root(const std::string& name, CertOptions opts = {});
  // A certificate signed by `issuer` (whose `chain` is appended to this chain
  // unless the issuer is self-signed).
  IssuedCert issue(const IssuedCert& issuer, const std::string& name, CertOptions opts);
  // A self-signed end-entity certificate.
  IssuedCert self_signed(const std::string& name, CertOptions opts);
  const fs::path& dir() const { return m_dir; }

private:
  IssuedCert make(const IssuedCert* issuer, const std::string& name, CertOptions opts);
  fs::path m_dir;
  long m_serial = 0x1000;
};

// The standard catalogue. Hosts: `host` ("origin.test") is on every "good"
// leaf; `other_host` is what the wrong-host leaf carries.
struct CertCatalogue {
  fs::path dir;
  std::string host = "origin.test";
  std::string other_host = "elsewhere.test";
  IssuedCert ca;            // root "edgeshake test root CA"
  IssuedCert intermediate;  // signed by ca
  fs::path ca_file;         // == ca.cert: use as trust store
  IssuedCert leaf_rsa;      // RSA 2048, SAN host + www.host + 127.0.0.1, by intermediate
  IssuedCert leaf_ecdsa;    // P-256, SAN host + 127.0.0.1, by intermediate
  IssuedCert leaf_second;   // P-256, SAN "second.test" (a second virtual host)
  IssuedCert self_signed;   // P-256, SAN host, self-signed
  IssuedCert expired;       // notAfter one day ago
  IssuedCert not_yet_valid; // notBefore in one day
  IssuedCert wrong_host;    // SAN other_host only
  IssuedCert no_san;        // CN=host, no subjectAltName
  IssuedCert wildcard;      // SAN *.host
  IssuedCert weak_rsa;      // RSA 1024 (servers need @SECLEVEL=0 to load it)
  IssuedCert sha1_signed;   // RSA 2048 signed with SHA-1
  IssuedCert client;        // client certificate (clientAuth), by intermediate

  static CertCatalogue generate(const fs::path& dir);
};

// One catalogue per test process, generated lazily into its own temp dir
// (removed at exit). Thread-safe.
const CertCatalogue& shared_catalogue();

// A leaf for the catalogue's host with a key of this type (Ed25519, RSA-PSS ...),
// signed by its intermediate; `name` names the files (one per name and process).
IssuedCert shared_leaf_with(KeySpec key, const std::string& name);

} // namespace edgeshake::testing
