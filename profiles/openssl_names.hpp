// Private to profiles/: checks names against the linked OpenSSL, one entry at a
// time (Envoy-style), so an error can name the bad entry. No OpenSSL types here.
#pragma once

#include "common/tls.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeshake::profiles::detail {

enum class NameStatus {
  ok,
  unknown,    // the linked OpenSSL knows no such name
  alias,      // a cipher string that selects something else / several suites ("HIGH")
  other_kind, // a TLS 1.3 suite in the TLS <= 1.2 list, or the other way round
};

struct NameCheck {
  NameStatus status = NameStatus::unknown;
  int matches = 0; // for alias: how many suites the string selects
};

class OpensslNames {
public:
  OpensslNames();
  ~OpensslNames();
  OpensslNames(const OpensslNames&) = delete;
  OpensslNames& operator=(const OpensslNames&) = delete;

  NameCheck cipher(std::string_view name);      // TLS <= 1.2 suite, exact OpenSSL name
  NameCheck tls13_suite(std::string_view name); // TLS 1.3 suite ("TLS_AES_128_GCM_SHA256")
  NameCheck group(std::string_view name);       // SSL_CTX_set1_groups_list
  NameCheck sigalg(std::string_view name);      // SSL_CTX_set1_sigalgs_list

  // For a list whose entries are valid one by one: the index of the first entry
  // that makes the whole list fail (OpenSSL rejects repeats, also across
  // aliases such as "P-256" and "prime256v1"), or nullopt.
  std::optional<std::size_t> first_rejected_group(const std::vector<std::string>& groups);
  std::optional<std::size_t> first_rejected_sigalg(const std::vector<std::string>& sigalgs);

  // The suites (both kinds, OpenSSL names) a client built from these settings
  // puts in its ClientHello (SSL_get1_supported_ciphers); nullopt when OpenSSL
  // refuses the settings as a whole.
  std::optional<std::vector<std::string>>
  offered_ciphers(TlsVersion min, TlsVersion max, const std::vector<std::string>& ciphers,
                  const std::vector<std::string>& tls13_suites, int security_level);

  // Whether the linked OpenSSL was built with this protocol version at all.
  static bool version_supported(TlsVersion v);

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace edgeshake::profiles::detail
