// The small vocabulary of profiles.hpp: enum names, mode lookup, error mapping.
#include "profiles/profiles.hpp"

namespace edgeshake::profiles {

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
