#include "tests/support/certs.hpp"

#include "tests/support/process.hpp"

#include <sys/stat.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace edgeshake::testing {

namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(FILE* p) const { std::fclose(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

[[noreturn]] void die(const std::string& what) {
  throw std::runtime_error("certs: " + what);
}

Ptr<EVP_PKEY> make_key(const KeySpec& spec) {
  EVP_PKEY* k = nullptr;
  switch (spec.type) {
  case KeySpec::Type::rsa:
    k = EVP_RSA_gen(static_cast<unsigned>(spec.rsa_bits));
    break;
  case KeySpec::Type::ec:
    k = EVP_EC_gen(spec.curve.c_str());
    break;
  case KeySpec::Type::ed25519:
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    break;
  case KeySpec::Type::rsa_pss: { // EVP_PKEY_Q_keygen knows no "RSA-PSS" in OpenSSL 3.0
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr);
    if (ctx && EVP_PKEY_keygen_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, spec.rsa_bits) == 1)
      EVP_PKEY_generate(ctx, &k);
    EVP_PKEY_CTX_free(ctx);
    break;
  }
  }
  if (!k)
    die("key generation failed");
  return Ptr<EVP_PKEY>(k);
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    die("cannot add extension " + value);
}

std::string name_line(const X509_NAME* name) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::chrono::sys_seconds to_sys(const ASN1_TIME* t) {
  std::tm tm{};
  ASN1_TIME_to_tm(t, &tm);
  return std::chrono::sys_seconds(std::chrono::seconds(timegm(&tm)));
}

std::string hex(const unsigned char* p, unsigned n, bool colons) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    if (colons && i)
      out += ':';
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

void write_pem_cert(const fs::path& path, X509* cert) {
  Ptr<FILE> f(std::fopen(path.c_str(), "w"));
  if (!f || PEM_write_X509(f.get(), cert) != 1)
    die("cannot write " + path.string());
}

void write_pem_key(const fs::path& path, EVP_PKEY* key) {
  Ptr<FILE> f(std::fopen(path.c_str(), "w"));
  if (!f || PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    die("cannot write " + path.string());
}

Ptr<X509> read_cert(const fs::path& path) {
  Ptr<FILE> f(std::fopen(path.c_str(), "r"));
  if (!f)
    die("cannot read " + path.string());
  Ptr<X509> c(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!c)
    die("bad PEM " + path.string());
  return c;
}

Ptr<EVP_PKEY> read_key(const fs::path& path) {
  Ptr<FILE> f(std::fopen(path.c_str(), "r"));
  if (!f)
    die("cannot read " + path.string());
  Ptr<EVP_PKEY> k(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
  if (!k)
    die("bad key " + path.string());
  return k;
}

void fill_facts(IssuedCert& out, X509* cert, EVP_PKEY* key, const CertOptions& opts) {
  out.subject = name_line(X509_get_subject_name(cert));
  out.issuer = name_line(X509_get_issuer_name(cert));
  out.common_name = opts.common_name;
  out.dns_names = opts.dns_names;
  out.ip_addresses = opts.ip_addresses;
  out.not_before = to_sys(X509_get0_notBefore(cert));
  out.not_after = to_sys(X509_get0_notAfter(cert));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  out.sha256 = hex(md, n, true);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  out.serial = hex(serial->data, static_cast<unsigned>(serial->length), false);
  out.key_bits = EVP_PKEY_get_bits(key);
  switch (opts.key.type) {
  case KeySpec::Type::rsa:
    out.key_type = "RSA";
    break;
  case KeySpec::Type::ec:
    out.key_type = "EC";
    out.curve = opts.key.curve;
    break;
  case KeySpec::Type::ed25519:
    out.key_type = "ED25519";
    break;
  case KeySpec::Type::rsa_pss:
    out.key_type = "RSA-PSS";
    break;
  }
  out.signature_algorithm = OBJ_nid2ln(X509_get_signature_nid(cert));
  out.is_ca = opts.is_ca;
}

} // namespace

CertFactory::CertFactory(fs::path dir) : m_dir(std::move(dir)) {
  fs::create_directories(m_dir);
}

IssuedCert CertFactory::root(const std::string& name, CertOptions opts) {
  opts.is_ca = true;
  if (opts.common_name.empty())
    opts.common_name = name;
  if (opts.not_after == CertOptions{}.not_after)
    opts.not_after = std::chrono::hours(24 * 365);
  return make(nullptr, name, std::move(opts));
}

IssuedCert CertFactory::issue(const IssuedCert& issuer, const std::string& name, CertOptions opts) {
  return make(&issuer, name, std::move(opts));
}

IssuedCert CertFactory::self_signed(const std::string& name, CertOptions opts) {
  return make(nullptr, name, std::move(opts));
}

IssuedCert CertFactory::make(const IssuedCert* issuer, const std::string& name, CertOptions opts) {
  if (opts.common_name.empty())
    opts.common_name = name;
  auto key = make_key(opts.key);
  Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++m_serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(opts.not_before.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(opts.not_after.count()));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("edgeshake tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(opts.common_name.c_str()), -1,
                             -1, 0);

  Ptr<X509> issuer_cert;
  Ptr<EVP_PKEY> issuer_key;
  if (issuer) {
    issuer_cert = read_cert(issuer->cert);
    issuer_key = read_key(issuer->key);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert.get()));
  } else {
    X509_set_issuer_name(cert.get(), subject);
  }
  X509* signer_cert = issuer ? issuer_cert.get() : cert.get();
  EVP_PKEY* signer_key = issuer ? issuer_key.get() : key.get();

  add_ext(cert.get(), signer_cert, NID_subject_key_identifier, "hash");
  if (issuer)
    add_ext(cert.get(), signer_cert, NID_authority_key_identifier, "keyid:always");
  if (opts.is_ca) {
    add_ext(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer_cert, NID_key_usage,
            opts.key.type == KeySpec::Type::rsa ? "critical,digitalSignature,keyEncipherment"
                                                : "critical,digitalSignature");
    add_ext(cert.get(), signer_cert, NID_ext_key_usage,
            opts.client_auth ? "clientAuth" : "serverAuth");
  }
  std::string san;
  for (const auto& d : opts.dns_names)
    san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : opts.ip_addresses)
    san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  if (!san.empty())
    add_ext(cert.get(), signer_cert, NID_subject_alt_name, san);

  const EVP_MD* md = nullptr;
  if (opts.key.type != KeySpec::Type::ed25519 ||
      (issuer && EVP_PKEY_get_base_id(signer_key) != EVP_PKEY_ED25519)) {
    md = EVP_get_digestbyname(opts.digest.c_str());
    if (!md)
      die("unknown digest " + opts.digest);
  }
  if (EVP_PKEY_get_base_id(signer_key) == EVP_PKEY_ED25519)
    md = nullptr;
  if (X509_sign(cert.get(), signer_key, md) == 0)
    die("signing " + name + " failed");

  IssuedCert out;
  out.name = name;
  out.cert = m_dir / (name + ".crt");
  out.key = m_dir / (name + ".key");
  out.chain = m_dir / (name + ".chain.pem");
  write_pem_cert(out.cert, cert.get());
  write_pem_key(out.key, key.get());
  std::string chain = read_file(out.cert);
  // Append the issuer's chain unless the issuer is a root (self-issued).
  if (issuer && issuer->subject != issuer->issuer)
    chain += read_file(issuer->chain);
  write_file(out.chain, chain);
  ::chmod(out.key.c_str(), 0600);
  fill_facts(out, cert.get(), key.get(), opts);
  return out;
}

CertCatalogue CertCatalogue::generate(const fs::path& dir) {
  using namespace std::chrono;
  CertCatalogue c;
  c.dir = dir;
  CertFactory f(dir);
  const auto day = hours(24);
  c.ca = f.root("ca", {.common_name = "edgeshake test root CA", .key = KeySpec::ec("prime256v1")});
  c.ca_file = c.ca.cert;
  c.intermediate = f.issue(c.ca, "intermediate",
                           {.common_name = "edgeshake test intermediate CA",
                            .key = KeySpec::ec("prime256v1"),
                            .not_after = day * 365,
                            .is_ca = true});
  const std::string& h = c.host;
  c.leaf_rsa = f.issue(c.intermediate, "leaf_rsa",
                       {.common_name = h,
                        .dns_names = {h, "www." + h},
                        .ip_addresses = {"127.0.0.1"},
                        .key = KeySpec::rsa(2048)});
  c.leaf_ecdsa = f.issue(c.intermediate, "leaf_ecdsa",
                         {.common_name = h,
                          .dns_names = {h},
                          .ip_addresses = {"127.0.0.1"},
                          .key = KeySpec::ec("prime256v1")});
  c.leaf_second = f.issue(c.intermediate, "leaf_second",
                          {.common_name = "second.test", .dns_names = {"second.test"}});
  c.self_signed = f.self_signed("self_signed", {.common_name = h, .dns_names = {h}});
  c.expired =
      f.issue(c.intermediate, "expired",
              {.common_name = h, .dns_names = {h}, .not_before = -day * 30, .not_after = -day});
  c.not_yet_valid =
      f.issue(c.intermediate, "not_yet_valid",
              {.common_name = h, .dns_names = {h}, .not_before = day, .not_after = day * 30});
  c.wrong_host = f.issue(c.intermediate, "wrong_host",
                         {.common_name = c.other_host, .dns_names = {c.other_host}});
  c.no_san = f.issue(c.intermediate, "no_san", {.common_name = h});
  c.wildcard =
      f.issue(c.intermediate, "wildcard", {.common_name = "*." + h, .dns_names = {"*." + h}});
  c.weak_rsa = f.issue(c.intermediate, "weak_rsa",
                       {.common_name = h, .dns_names = {h}, .key = KeySpec::rsa(1024)});
  c.sha1_signed =
      f.issue(c.intermediate, "sha1_signed",
              {.common_name = h, .dns_names = {h}, .key = KeySpec::rsa(2048), .digest = "sha1"});
  c.client = f.issue(c.intermediate, "client",
                     {.common_name = "edgeshake test client", .client_auth = true});
  return c;
}

const CertCatalogue& shared_catalogue() {
  static std::mutex mutex;
  static std::unique_ptr<TempDir> dir;
  static std::unique_ptr<CertCatalogue> catalogue;
  std::lock_guard lock(mutex);
  if (!catalogue) {
    dir = std::make_unique<TempDir>("edgeshake-certs");
    catalogue = std::make_unique<CertCatalogue>(CertCatalogue::generate(dir->path()));
  }
  return *catalogue;
}

IssuedCert shared_leaf_with(KeySpec key, const std::string& name) {
  static TempDir dir("edgeshake-leaf-certs");
  static CertFactory factory(dir.path());
  static std::mutex mutex;
  const auto& c = shared_catalogue();
  std::lock_guard lock(mutex);
  return factory.issue(c.intermediate, name,
                       {.common_name = c.host, .dns_names = {c.host}, .key = key});
}

} // namespace edgeshake::testing
