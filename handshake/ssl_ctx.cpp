// The only code that turns a Profile (+ ProbeOverrides, client certificate)
// into an SSL_CTX. One SSL_CTX per distinct ClientHello, built once per run and
// shared by every probe that uses it; one X509_STORE per trust store.
#include "handshake/detail.hpp"

#include <openssl/err.h>
#include <openssl/tls1.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace edgeshake::handshake::detail {

namespace {

std::string join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty())
      out += sep;
    out += s;
  }
  return out;
}

std::string last_openssl_error() {
  unsigned long e = ERR_peek_last_error();
  char buf[256] = {};
  if (e)
    ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

CtxEntry build(const ProbeSpec& spec) {
  CtxEntry entry;
  const profiles::Profile& p = *spec.profile;
  const ProbeOverrides& o = spec.overrides;
  ERR_clear_error();
  // (Protocol versions: OpenSSL's numbers are the wire versions; asserted in
  // profiles/openssl_names.cpp.)
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) {
    entry.error = "SSL_CTX_new failed: " + last_openssl_error();
    return entry;
  }
  SSL_CTX* c = ctx.get();

  // Versions: contiguous range [min, max]. SSLv3 is not compiled into
  // Debian's OpenSSL 3, so it is dropped (and said so) or, alone, refused.
  std::vector<TlsVersion> versions = p.versions;
  if (o.only_version)
    versions = {*o.only_version};
  std::sort(versions.begin(), versions.end());
  versions.erase(std::unique(versions.begin(), versions.end()), versions.end());
#ifdef OPENSSL_NO_SSL3
  if (!versions.empty() && versions.front() == TlsVersion::ssl3) {
    versions.erase(versions.begin());
    entry.notes.push_back("SSLv3 is not offerable by this OpenSSL build; not offered");
    if (versions.empty()) {
      entry.error = "SSLv3 is not offerable by this OpenSSL build";
      return entry;
    }
  }
#endif
  const bool legacy = !versions.empty() && versions.front() < TlsVersion::tls1_2;
  if (!versions.empty()) {
    if (SSL_CTX_set_min_proto_version(c, wire_version(versions.front())) != 1 ||
        SSL_CTX_set_max_proto_version(c, wire_version(versions.back())) != 1) {
      entry.error = "cannot set protocol versions: " + last_openssl_error();
      return entry;
    }
  }

  // TLS <= 1.2 cipher suites, in the profile's order.
  const std::vector<std::string>& ciphers = o.ciphers ? *o.ciphers : p.ciphers;
  const bool offers_tls12_or_below = versions.empty() || versions.front() <= TlsVersion::tls1_2;
  if (!ciphers.empty()) {
    if (SSL_CTX_set_cipher_list(c, join(ciphers, ':').c_str()) != 1) {
      if (offers_tls12_or_below) {
        entry.error = "no usable TLS 1.2 cipher in the list: " + last_openssl_error();
        return entry;
      }
      ERR_clear_error();
    }
  }
  // TLS 1.3 suites, in order ("" is valid: none).
  const std::vector<std::string>& suites =
      o.tls13_ciphersuites ? *o.tls13_ciphersuites : p.tls13_ciphersuites;
  if (!suites.empty() && SSL_CTX_set_ciphersuites(c, join(suites, ':').c_str()) != 1) {
    entry.error = "bad TLS 1.3 ciphersuites: " + last_openssl_error();
    return entry;
  }
  // Security level: TLS 1.0/1.1 (SHA-1 based PRF/signatures) need level 0 in OpenSSL 3.
  int level = std::max(0, p.security_level);
  if (legacy)
    level = 0;
  SSL_CTX_set_security_level(c, level);

  const std::vector<std::string>& groups = o.groups ? *o.groups : p.groups;
  if (!groups.empty() && SSL_CTX_set1_groups_list(c, join(groups, ':').c_str()) != 1) {
    entry.error = "bad groups list: " + last_openssl_error();
    return entry;
  }
  if (!p.signature_algorithms.empty() &&
      SSL_CTX_set1_sigalgs_list(c, join(p.signature_algorithms, ':').c_str()) != 1) {
    entry.error = "bad signature algorithms: " + last_openssl_error();
    return entry;
  }
  if (!p.alpn.empty()) {
    const std::string wire = alpn_wire(p.alpn);
    if (wire.empty() ||
        SSL_CTX_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0) {
      entry.error = "bad ALPN list";
      return entry;
    }
  }

  // Verification is ours, after the handshake (detail::verify_chain).
  SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  // An edge talks to old origins too: do not refuse servers lacking RFC 5746.
  SSL_CTX_set_options(c, SSL_OP_LEGACY_SERVER_CONNECT);
  // Leave out what the profile's hello does not carry, as far as OpenSSL 3.0
  // lets a client (status_request is set per SSL in probe.cpp).
  const profiles::OpensslHello& oh = p.openssl;
  if (!oh.session_ticket)
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  if (!oh.encrypt_then_mac)
    SSL_CTX_set_options(c, SSL_OP_NO_ENCRYPT_THEN_MAC);
  if (!oh.extended_master_secret)
    SSL_CTX_set_options(c, SSL_OP_NO_EXTENDED_MASTER_SECRET);
  if (oh.padding)
    SSL_CTX_set_options(c, SSL_OP_TLSEXT_PADDING);

  if (spec.client_cert) {
    if (SSL_CTX_use_certificate_chain_file(c, spec.client_cert->cert_file.c_str()) != 1) {
      entry.error = "cannot load client certificate " + spec.client_cert->cert_file + ": " +
                    last_openssl_error();
      return entry;
    }
    if (SSL_CTX_use_PrivateKey_file(c, spec.client_cert->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      entry.error =
          "cannot load client key " + spec.client_cert->key_file + ": " + last_openssl_error();
      return entry;
    }
    if (SSL_CTX_check_private_key(c) != 1) {
      entry.error = "client key does not match the client certificate";
      ERR_clear_error();
      return entry;
    }
  }
  entry.ctx = std::move(ctx);
  return entry;
}

} // namespace

std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& proto : protocols) {
    if (proto.empty() || proto.size() > 255)
      return {};
    wire += static_cast<char>(proto.size());
    wire += proto;
  }
  return wire;
}

std::string context_key(const ProbeSpec& spec) {
  const auto& p = *spec.profile;
  const auto& o = spec.overrides;
  std::string key;
  auto add = [&key](const std::string& field) {
    key += field;
    key += '\x1f';
  };
  auto add_list = [&add](const std::vector<std::string>& list) {
    add(join(list, ':') + "#" + std::to_string(list.size()));
  };
  std::string versions;
  for (auto v : p.versions)
    versions += std::string(to_string(v)) + ",";
  add(versions);
  add_list(p.ciphers);
  add_list(p.tls13_ciphersuites);
  add_list(p.groups);
  add_list(p.signature_algorithms);
  add_list(p.alpn);
  add(std::to_string(p.security_level));
  add(std::string{p.openssl.session_ticket ? 't' : '-', p.openssl.encrypt_then_mac ? 'e' : '-',
                  p.openssl.extended_master_secret ? 'm' : '-', p.openssl.padding ? 'p' : '-'});
  add(o.only_version ? std::string(to_string(*o.only_version)) : "-");
  add(o.ciphers ? join(*o.ciphers, ':') : "\x01");
  add(o.tls13_ciphersuites ? join(*o.tls13_ciphersuites, ':') : "\x01");
  add(o.groups ? join(*o.groups, ':') : "\x01");
  add(spec.client_cert ? spec.client_cert->cert_file + "|" + spec.client_cert->key_file : "-");
  return key;
}

std::string trust_store_path(const ProbeSpec& spec) {
  std::string path = spec.trust_store.empty() ? spec.profile->trust_store : spec.trust_store;
  if (path.empty() || path == "system")
    return std::string(k_system_trust_store);
  return path;
}

const CtxEntry& ContextCache::context(const ProbeSpec& spec) {
  const std::string key = context_key(spec);
  auto it = m_contexts.find(key);
  if (it == m_contexts.end())
    it = m_contexts.emplace(key, build(spec)).first;
  return it->second;
}

namespace {

using StoreEntry = std::pair<std::shared_ptr<X509_STORE>, std::string>;

// Process-wide: one load per path, whichever run or cache asks first.
std::map<std::string, StoreEntry>& loaded_stores() {
  static std::map<std::string, StoreEntry> stores;
  return stores;
}

bool looks_hashed(const std::string& name) {
  // c_rehash names: 8 hex digits, '.', optional 'r', digits.
  if (name.size() < 10 || name[8] != '.')
    return false;
  for (std::size_t i = 0; i < 8; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(name[i])))
      return false;
  return true;
}

StoreEntry load_store(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st))
    return {nullptr, "no such file or directory: " + path};
  if (std::filesystem::is_directory(st)) {
    bool hashed = false;
    for (const auto& e : std::filesystem::directory_iterator(path, ec))
      hashed = hashed || looks_hashed(e.path().filename().string());
    if (ec)
      return {nullptr, "cannot read directory " + path + ": " + ec.message()};
    if (!hashed)
      return {nullptr,
              "directory " + path + " has no hashed certificate names (run openssl rehash on it)"};
    std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
    ERR_clear_error();
    if (X509_STORE_load_path(store.get(), path.c_str()) != 1)
      return {nullptr, "cannot load trust store " + path + ": " + last_openssl_error()};
    return {store, {}};
  }
  if (!std::filesystem::is_regular_file(st))
    return {nullptr, path + " is not a regular file or a directory"};
  if (std::filesystem::file_size(path, ec) == 0 && !ec)
    return {nullptr, path + " is empty"};
  if (::access(path.c_str(), R_OK) != 0)
    return {nullptr, "cannot read " + path + ": " + std::strerror(errno)};
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
  ERR_clear_error();
  if (X509_STORE_load_file(store.get(), path.c_str()) != 1)
    return {nullptr, "cannot load trust store " + path + ": " + last_openssl_error()};
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store.get());
  int certs = 0;
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i)
    if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objects, i)) == X509_LU_X509)
      ++certs;
  if (certs == 0)
    return {nullptr, path + " holds no certificate (a PEM file of CA certificates is needed)"};
  return {store, {}};
}

const StoreEntry& store_entry(const std::string& path) {
  auto& stores = loaded_stores();
  auto it = stores.find(path);
  if (it == stores.end())
    it = stores.emplace(path, load_store(path)).first;
  return it->second;
}

} // namespace

std::shared_ptr<X509_STORE> ContextCache::store(const std::string& path, std::string& error) {
  const auto& entry = store_entry(path);
  error = entry.second;
  return entry.first;
}

} // namespace edgeshake::handshake::detail

namespace edgeshake::handshake {

Result<void> preload_trust_store(const std::string& path) {
  const std::string p =
      path.empty() || path == "system" ? std::string(detail::k_system_trust_store) : path;
  const auto& entry = detail::store_entry(p);
  if (!entry.first)
    return fail(ErrorCode::io, entry.second, "--trust-store");
  return {};
}

Result<void> check_client_certificate(const std::string& cert_file, const std::string& key_file) {
  for (const auto& [file, flag] :
       {std::pair{cert_file, "--client-cert"}, std::pair{key_file, "--client-key"}}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      return fail(ErrorCode::io, "not a readable regular file: " + file, flag);
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1)
    return fail(ErrorCode::io,
                "cannot load client certificate " + cert_file + ": " + detail::last_openssl_error(),
                "--client-cert");
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
      return fail(ErrorCode::io, key_file + " is not the private key of " + cert_file,
                  "--client-key");
    return fail(ErrorCode::io,
                "cannot load client key " + key_file + ": " + detail::last_openssl_error(),
                "--client-key");
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return fail(ErrorCode::io, key_file + " is not the private key of " + cert_file,
                "--client-key");
  return {};
}

} // namespace edgeshake::handshake
