// Name checks against the linked OpenSSL. Every entry is tried on its own, so a
// rejected list names its bad entry (Envoy's approach to cipher lists).
#include "profiles/openssl_names.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cassert>
#include <cstdlib>

namespace edgeshake::profiles::detail {

namespace {

struct CtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslDeleter {
  void operator()(SSL* s) const { SSL_free(s); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDeleter>;
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

CtxPtr new_ctx() {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    // Out of memory or a broken OpenSSL installation: nothing sensible to do.
    std::abort();
  }
  return ctx;
}

bool only_chars(std::string_view s, std::string_view extra) {
  if (s.empty())
    return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              extra.find(c) != std::string_view::npos;
    if (!ok)
      return false;
  }
  return true;
}

std::string join(const std::vector<std::string>& items, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count && i < items.size(); ++i) {
    if (i)
      out += ':';
    out += items[i];
  }
  return out;
}

bool is_tls13(const SSL_CIPHER* c) {
  return std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.3";
}

// OpenSSL's protocol version numbers are the wire versions (handshake/ssl_ctx.cpp
// relies on this too).
static_assert(SSL3_VERSION == wire_version(TlsVersion::ssl3) &&
              TLS1_VERSION == wire_version(TlsVersion::tls1_0) &&
              TLS1_1_VERSION == wire_version(TlsVersion::tls1_1) &&
              TLS1_2_VERSION == wire_version(TlsVersion::tls1_2) &&
              TLS1_3_VERSION == wire_version(TlsVersion::tls1_3));

} // namespace

struct OpensslNames::Impl {
  CtxPtr ctx = new_ctx();

  // Exactly one TLS <= 1.2 suite with this OpenSSL name? Returns the number of
  // suites the string selects (0 = OpenSSL rejected it) and whether it is exact.
  std::pair<int, bool> select_cipher(std::string_view name) {
    ERR_clear_error();
    if (SSL_CTX_set_ciphersuites(ctx.get(), "") != 1) {
      ERR_clear_error();
      return {0, false};
    }
    std::string spec = std::string(name) + ":@SECLEVEL=0";
    if (SSL_CTX_set_cipher_list(ctx.get(), spec.c_str()) != 1) {
      ERR_clear_error();
      return {0, false};
    }
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx.get());
    int n = 0;
    bool exact = false;
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
      if (is_tls13(c))
        continue;
      ++n;
      exact = exact || name == SSL_CIPHER_get_name(c);
    }
    return {n, exact && n == 1};
  }

  bool exact_tls13(std::string_view name) {
    ERR_clear_error();
    std::string spec(name);
    if (SSL_CTX_set_ciphersuites(ctx.get(), spec.c_str()) != 1) {
      ERR_clear_error();
      return false;
    }
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx.get());
    int n = 0;
    bool exact = false;
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
      if (!is_tls13(c))
        continue;
      ++n;
      exact = exact || name == SSL_CIPHER_get_name(c);
    }
    return exact && n == 1;
  }
};

OpensslNames::OpensslNames() : m_impl(std::make_unique<Impl>()) {}
OpensslNames::~OpensslNames() = default;

NameCheck OpensslNames::cipher(std::string_view name) {
  if (!only_chars(name, "-_"))
    return {NameStatus::unknown, 0};
  auto [n, exact] = m_impl->select_cipher(name);
  if (exact)
    return {NameStatus::ok, 1};
  if (n > 0)
    return {NameStatus::alias, n};
  if (m_impl->exact_tls13(name))
    return {NameStatus::other_kind, 1};
  return {NameStatus::unknown, 0};
}

NameCheck OpensslNames::tls13_suite(std::string_view name) {
  if (!only_chars(name, "_"))
    return only_chars(name, "-_") && m_impl->select_cipher(name).second
               ? NameCheck{NameStatus::other_kind, 1}
               : NameCheck{NameStatus::unknown, 0};
  if (m_impl->exact_tls13(name))
    return {NameStatus::ok, 1};
  if (m_impl->select_cipher(name).second)
    return {NameStatus::other_kind, 1};
  return {NameStatus::unknown, 0};
}

NameCheck OpensslNames::group(std::string_view name) {
  if (!only_chars(name, "-_"))
    return {NameStatus::unknown, 0};
  ERR_clear_error();
  std::string spec(name);
  bool ok = SSL_CTX_set1_groups_list(m_impl->ctx.get(), spec.c_str()) == 1;
  ERR_clear_error();
  return {ok ? NameStatus::ok : NameStatus::unknown, ok ? 1 : 0};
}

NameCheck OpensslNames::sigalg(std::string_view name) {
  if (!only_chars(name, "-_+"))
    return {NameStatus::unknown, 0};
  ERR_clear_error();
  std::string spec(name);
  bool ok = SSL_CTX_set1_sigalgs_list(m_impl->ctx.get(), spec.c_str()) == 1;
  ERR_clear_error();
  return {ok ? NameStatus::ok : NameStatus::unknown, ok ? 1 : 0};
}

std::optional<std::size_t>
OpensslNames::first_rejected_group(const std::vector<std::string>& groups) {
  for (std::size_t n = 1; n <= groups.size(); ++n) {
    ERR_clear_error();
    std::string spec = join(groups, n);
    if (SSL_CTX_set1_groups_list(m_impl->ctx.get(), spec.c_str()) != 1) {
      ERR_clear_error();
      return n - 1;
    }
  }
  return std::nullopt;
}

std::optional<std::size_t>
OpensslNames::first_rejected_sigalg(const std::vector<std::string>& sigalgs) {
  for (std::size_t n = 1; n <= sigalgs.size(); ++n) {
    ERR_clear_error();
    std::string spec = join(sigalgs, n);
    if (SSL_CTX_set1_sigalgs_list(m_impl->ctx.get(), spec.c_str()) != 1) {
      ERR_clear_error();
      return n - 1;
    }
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>>
OpensslNames::offered_ciphers(TlsVersion min, TlsVersion max,
                              const std::vector<std::string>& ciphers,
                              const std::vector<std::string>& tls13_suites, int security_level) {
  ERR_clear_error();
  CtxPtr ctx = new_ctx();
  SSL_CTX_set_security_level(ctx.get(), security_level);
  bool ok = SSL_CTX_set_min_proto_version(ctx.get(), wire_version(min)) == 1 &&
            SSL_CTX_set_max_proto_version(ctx.get(), wire_version(max)) == 1;
  if (ok && !ciphers.empty()) {
    std::string spec = join(ciphers, ciphers.size());
    ok = SSL_CTX_set_cipher_list(ctx.get(), spec.c_str()) == 1;
  }
  if (ok) {
    std::string spec = join(tls13_suites, tls13_suites.size());
    ok = SSL_CTX_set_ciphersuites(ctx.get(), spec.c_str()) == 1;
  }
  if (!ok) {
    ERR_clear_error();
    return std::nullopt;
  }
  SslPtr ssl(SSL_new(ctx.get()));
  if (!ssl) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::vector<std::string> out;
  STACK_OF(SSL_CIPHER)* list = SSL_get1_supported_ciphers(ssl.get());
  if (list) {
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i)
      out.emplace_back(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, i)));
    sk_SSL_CIPHER_free(list);
  }
  ERR_clear_error();
  return out;
}

bool OpensslNames::version_supported(TlsVersion v) {
  switch (v) {
  case TlsVersion::ssl3:
#ifdef OPENSSL_NO_SSL3
    return false;
#else
    return true;
#endif
  case TlsVersion::tls1_0:
#ifdef OPENSSL_NO_TLS1
    return false;
#else
    return true;
#endif
  case TlsVersion::tls1_1:
#ifdef OPENSSL_NO_TLS1_1
    return false;
#else
    return true;
#endif
  case TlsVersion::tls1_2:
  case TlsVersion::tls1_3:
    return true;
  }
  return false;
}

} // namespace edgeshake::profiles::detail
