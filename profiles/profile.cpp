// The small vocabulary of profiles.hpp: enum names, mode lookup, error mapping.
#include "profiles/profiles.hpp"

#include "common/tls_registry.hpp"

#include <algorithm>

namespace edgeshake::profiles {

bool WireHello::has_extension(std::uint16_t type) const {
  return std::find(extensions.begin(), extensions.end(), type) != extensions.end();
}

std::size_t encoded_size(const WireHello& h, std::size_t sni_length,
                         std::optional<std::uint16_t> retry_group) {
  auto grease = [](std::uint16_t v) { return v == k_grease || tls::is_grease(v); };
  auto share_size = [&grease](std::uint16_t g) -> std::size_t {
    if (grease(g))
      return 1;
    const auto* info = tls::find_group(g);
    return info != nullptr && info->key_share_size > 0 ? info->key_share_size : 32;
  };
  // Handshake body: legacy_version, random, session id (with TLS 1.3 only),
  // suites, compression, the extensions block (when there are extensions).
  const bool tls13 =
      std::find(h.versions.begin(), h.versions.end(), TlsVersion::tls1_3) != h.versions.end();
  std::size_t body = 2 + 32 + 1 + (tls13 ? 32 : 0) + 2 + 2 * h.cipher_suites.size() + 2 +
                     (h.extensions.empty() ? 0 : 2);
  bool padding = false;
  for (auto type : h.extensions) {
    std::size_t data = 0;
    switch (type) {
    case 0x0000:
      if (sni_length == 0)
        continue;
      data = 2 + 1 + 2 + sni_length;
      break;
    case 0x0005:
      data = 5;
      break;
    case 0x000a:
      data = 2 + 2 * h.groups.size();
      break;
    case 0x000b:
      data = 1 + h.ec_point_formats.size();
      break;
    case 0x000d:
      data = 2 + 2 * h.signature_algorithms.size();
      break;
    case 0x0032:
      data = 2 + 2 * h.signature_algorithms_cert.size();
      break;
    case 0x0010:
      data = 2;
      for (const auto& p : h.alpn)
        data += 1 + std::min<std::size_t>(p.size(), 255);
      break;
    case 0x001b:
      data = 1 + 2 * h.compress_certificate.size();
      break;
    case 0x002b:
      data =
          1 + 2 * (h.supported_versions.empty() ? h.versions.size() : h.supported_versions.size());
      break;
    case 0x002d:
      data = 1 + h.psk_key_exchange_modes.size();
      break;
    case 0x0033:
      data = 2;
      if (retry_group)
        data += 4 + share_size(*retry_group);
      else
        for (auto g : h.key_shares)
          data += 4 + share_size(g);
      break;
    case 0xff01:
      data = 1;
      break;
    case 0x0015:
      padding = true;
      continue;
    default:
      break;
    }
    body += 4 + data;
  }
  // The second GREASE extension carries one byte (wire.cpp).
  if (std::count_if(h.extensions.begin(), h.extensions.end(), grease) > 1)
    body += 1;
  if (padding) {
    const std::size_t unpadded = 4 + body;
    if (unpadded > 0xff && unpadded < 0x200) {
      const std::size_t room = 0x200 - unpadded;
      body += 4 + (room >= 5 ? room - 4 : 1);
    }
  }
  const std::size_t message = 4 + body;
  return message + 5 * ((message + 16383) / 16384);
}

std::string_view to_string(SourceKind k) {
  switch (k) {
  case SourceKind::documented:
    return "documented";
  case SourceKind::inferred:
    return "inferred";
  case SourceKind::assumed:
    return "assumed";
  }
  return "?";
}

std::optional<SourceKind> parse_source_kind(std::string_view s) {
  if (s == "documented")
    return SourceKind::documented;
  if (s == "inferred")
    return SourceKind::inferred;
  if (s == "assumed")
    return SourceKind::assumed;
  return std::nullopt;
}

const std::vector<std::string_view>& hello_field_names() {
  static const std::vector<std::string_view> names = {"record_version",
                                                      "legacy_version",
                                                      "versions",
                                                      "supported_versions",
                                                      "cipher_suites",
                                                      "suite_versions",
                                                      "extensions",
                                                      "groups",
                                                      "key_shares",
                                                      "ec_point_formats",
                                                      "signature_algorithms",
                                                      "signature_algorithms_cert",
                                                      "alpn",
                                                      "psk_key_exchange_modes",
                                                      "compress_certificate",
                                                      "tcp_max_segment",
                                                      "sni"};
  return names;
}

const VariantValue* Variant::find(std::string_view value) const {
  for (const auto& v : values)
    if (v.name == value)
      return &v;
  return nullptr;
}

const Mode* Profile::find_mode(std::string_view mode_name) const {
  for (const auto& m : modes) {
    if (m.name == mode_name)
      return &m;
  }
  return nullptr;
}

std::string Profile::error_for(const Mode& mode, FailureClass c) const {
  if (auto it = mode.errors.find(c); it != mode.errors.end())
    return it->second;
  if (auto it = errors.find(c); it != errors.end())
    return it->second;
  return "error";
}

bool can_fail_with(const Mode& mode, FailureClass c) {
  switch (c) {
  case FailureClass::handshake_failure:
  case FailureClass::handshake_timeout:
    return mode.transport == Transport::tls;
  case FailureClass::certificate_invalid:
    return mode.transport == Transport::tls && mode.verify != Verify::none;
  default:
    return true;
  }
}

std::string_view to_string(SniPolicy p) {
  switch (p) {
  case SniPolicy::request_host:
    return "request_host";
  case SniPolicy::none:
    return "none";
  case SniPolicy::fixed:
    return "fixed";
  }
  return "?";
}

std::string_view to_string(Transport t) {
  switch (t) {
  case Transport::tls:
    return "tls";
  case Transport::plaintext:
    return "plaintext";
  }
  return "?";
}

std::string_view to_string(Verify v) {
  switch (v) {
  case Verify::none:
    return "none";
  case Verify::chain:
    return "chain";
  case Verify::chain_and_name:
    return "chain_and_name";
  }
  return "?";
}

std::string_view to_string(FailureClass c) {
  switch (c) {
  case FailureClass::connection_refused:
    return "connection_refused";
  case FailureClass::connect_timeout:
    return "connect_timeout";
  case FailureClass::handshake_failure:
    return "handshake_failure";
  case FailureClass::handshake_timeout:
    return "handshake_timeout";
  case FailureClass::certificate_invalid:
    return "certificate_invalid";
  case FailureClass::response_timeout:
    return "response_timeout";
  case FailureClass::http_error:
    return "http_error";
  case FailureClass::origin_unresolvable:
    return "origin_unresolvable";
  }
  return "?";
}

std::optional<FailureClass> parse_failure_class(std::string_view s) {
  for (auto c : k_all_failure_classes) {
    if (to_string(c) == s)
      return c;
  }
  return std::nullopt;
}

std::optional<SniPolicy> parse_sni_policy(std::string_view s) {
  for (auto p : {SniPolicy::request_host, SniPolicy::none, SniPolicy::fixed}) {
    if (to_string(p) == s)
      return p;
  }
  return std::nullopt;
}

std::optional<Transport> parse_transport(std::string_view s) {
  for (auto t : {Transport::tls, Transport::plaintext}) {
    if (to_string(t) == s)
      return t;
  }
  return std::nullopt;
}

std::optional<Verify> parse_verify(std::string_view s) {
  for (auto v : {Verify::none, Verify::chain, Verify::chain_and_name}) {
    if (to_string(v) == s)
      return v;
  }
  return std::nullopt;
}

} // namespace edgeshake::profiles
