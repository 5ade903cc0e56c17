// Facts about certificates as the server sent them, and our own verification
// of that chain (the handshake itself runs with SSL_VERIFY_NONE so that the
// handshake result and the verification verdict are recorded separately).
#include "common/endpoint.hpp"
#include "common/text.hpp"
#include "handshake/detail.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace edgeshake::handshake::detail {

namespace {

SysSeconds to_sys(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
    return SysSeconds{};
  return SysSeconds(std::chrono::seconds(timegm(&tm)));
}

std::string hex(const unsigned char* p, std::size_t n, bool colons) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (colons && i)
      out += ':';
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

void add_sans(X509* cert, CertificateInfo& info) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names)
    return;
  const int n = sk_GENERAL_NAME_num(names);
  for (int i = 0; i < n && i < 1000; ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING* s = gn->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = gn->d.iPAddress;
      char* text = nullptr;
      // i2s_ASN1_IPADDRESS-like formatting via the generic printer.
      BIO* bio = BIO_new(BIO_s_mem());
      const unsigned char* p = ASN1_STRING_get0_data(s);
      int len = ASN1_STRING_length(s);
      if (len == 4) {
        BIO_printf(bio, "%d.%d.%d.%d", p[0], p[1], p[2], p[3]);
      } else if (len == 16) {
        for (int j = 0; j < 16; j += 2)
          BIO_printf(bio, "%s%x", j ? ":" : "", (p[j] << 8) | p[j + 1]);
      }
      long got = BIO_get_mem_data(bio, &text);
      if (got > 0)
        info.ip_addresses.emplace_back(text, static_cast<std::size_t>(got));
      BIO_free(bio);
    }
  }
  GENERAL_NAMES_free(names);
}

} // namespace

std::string name_line(const X509_NAME* name) {
  if (!name)
    return {};
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len > 0 ? len : 0));
  BIO_free(bio);
  // RFC 2253 escapes C0 controls but, without ESC_MSB (kept off so that names
  // stay readable UTF-8), lets C1 controls (U+009B CSI, U+009D OSC) and bidi
  // overrides through: those are escaped here, for JSON as for the terminal.
  return terminal_safe(out);
}

CertificateInfo describe_certificate(X509* cert) {
  CertificateInfo info;
  if (!cert)
    return info;
  info.subject = name_line(X509_get_subject_name(cert));
  info.issuer = name_line(X509_get_issuer_name(cert));
  info.self_issued = X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0;
  add_sans(cert, info);
  info.not_before = to_sys(X509_get0_notBefore(cert));
  info.not_after = to_sys(X509_get0_notAfter(cert));
  if (EVP_PKEY* key = X509_get0_pubkey(cert)) {
    info.key_bits = EVP_PKEY_get_bits(key);
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      info.key_type = "RSA";
      break;
    case EVP_PKEY_RSA_PSS:
      info.key_type = "RSA-PSS";
      break;
    case EVP_PKEY_EC: {
      info.key_type = "EC";
      char curve[80] = {};
      std::size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &len) == 1)
        info.curve = curve;
      break;
    }
    case EVP_PKEY_ED25519:
      info.key_type = "ED25519";
      break;
    case EVP_PKEY_ED448:
      info.key_type = "ED448";
      break;
    case EVP_PKEY_DSA:
      info.key_type = "DSA";
      break;
    default:
      info.key_type = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
      break;
    }
  }
  const int sig_nid = X509_get_signature_nid(cert);
  info.signature_algorithm = sig_nid == NID_undef ? "unknown" : OBJ_nid2ln(sig_nid);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) == 1)
    info.sha256 = hex(md, n, true);
  if (const ASN1_INTEGER* serial = X509_get0_serialNumber(cert)) {
    info.serial = hex(serial->data, static_cast<std::size_t>(serial->length), false);
    if (serial->type == V_ASN1_NEG_INTEGER)
      info.serial = "-" + info.serial;
  }
  info.is_ca = X509_check_ca(cert) > 0;
  return info;
}

std::string certificate_digest(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (!cert || X509_digest(cert, EVP_sha256(), md, &n) != 1)
    return {};
  return std::string(reinterpret_cast<const char*>(md), n);
}

CertificateInfo CertFactsCache::describe(X509* cert, const std::string& digest) {
  if (digest.empty())
    return describe_certificate(cert);
  if (auto it = m_entries.find(digest); it != m_entries.end()) {
    ++m_hits;
    return it->second;
  }
  if (m_entries.size() >= k_max_entries)
    m_entries.clear();
  return m_entries.emplace(digest, describe_certificate(cert)).first->second;
}

std::optional<ChainVerdict> VerdictCache::find(const std::string& key) const {
  auto it = m_entries.find(key);
  if (it == m_entries.end() || Clock::now() - it->second.first > k_ttl)
    return std::nullopt;
  ++m_hits;
  return it->second.second;
}

void VerdictCache::put(const std::string& key, const ChainVerdict& verdict) {
  if (m_entries.size() >= k_max_entries)
    m_entries.clear();
  m_entries[key] = {Clock::now(), verdict};
}

namespace {

// The trust store's label and the SHA-256 of each certificate, in the order
// sent (`digests` when given for exactly this chain, else computed here).
std::string verdict_key(STACK_OF(X509) * chain, const std::string& trust_label,
                        const std::vector<std::string>* digests) {
  const int n = sk_X509_num(chain);
  if (digests && digests->size() != static_cast<std::size_t>(n))
    digests = nullptr;
  std::string key = trust_label;
  for (int i = 0; i < n; ++i) {
    const std::string digest = digests ? (*digests)[static_cast<std::size_t>(i)]
                                       : certificate_digest(sk_X509_value(chain, i));
    if (digest.empty())
      return {}; // no key: verify, do not cache
    key += '\n';
    key += digest;
  }
  return key;
}

ChainVerdict run_verify(STACK_OF(X509) * chain, X509_STORE* store) {
  ChainVerdict out;
  X509* leaf = sk_X509_value(chain, 0);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  if (ctx && X509_STORE_CTX_init(ctx, store, leaf, chain) == 1) {
    X509_STORE_CTX_set_default(ctx, "ssl_server");
    const int ok = X509_verify_cert(ctx);
    out.code = X509_STORE_CTX_get_error(ctx);
    out.chain_ok = ok == 1 && out.code == X509_V_OK;
    out.depth = out.chain_ok ? -1 : X509_STORE_CTX_get_error_depth(ctx);
  } else {
    out.code = X509_V_ERR_UNSPECIFIED;
  }
  X509_STORE_CTX_free(ctx);
  return out;
}

} // namespace

Verification verify_chain(STACK_OF(X509) * chain, X509_STORE* store, const std::string& host,
                          const std::string& trust_label, VerdictCache* verdicts,
                          const std::vector<std::string>* digests) {
  Verification v;
  v.host = host;
  v.trust_store = trust_label;
  if (!chain || sk_X509_num(chain) == 0)
    return v;
  X509* leaf = sk_X509_value(chain, 0);
  v.performed = true;
  if (store) {
    const std::string key = verdicts ? verdict_key(chain, trust_label, digests) : std::string{};
    std::optional<ChainVerdict> verdict;
    if (!key.empty())
      verdict = verdicts->find(key);
    if (!verdict) {
      verdict = run_verify(chain, store);
      if (!key.empty())
        verdicts->put(key, *verdict);
    }
    v.chain_ok = verdict->chain_ok;
    v.code = verdict->code;
    v.depth = verdict->depth;
  } else {
    v.code = X509_V_ERR_UNSPECIFIED;
  }
  v.text = X509_verify_cert_error_string(v.code);
  if (!host.empty()) {
    if (ip_family(host))
      v.hostname_ok = X509_check_ip_asc(leaf, host.c_str(), 0) == 1;
    else
      v.hostname_ok = X509_check_host(leaf, host.c_str(), host.size(), 0, nullptr) == 1;
  }
  return v;
}

} // namespace edgeshake::handshake::detail
