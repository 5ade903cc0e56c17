#include "common/endpoint.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace edgeshake {

std::string Endpoint::to_string() const {
  if (address.find(':') != std::string::npos) {
    return "[" + address + "]:" + std::to_string(port);
  }
  return address + ":" + std::to_string(port);
}

std::optional<AddressFamily> ip_family(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1)
    return AddressFamily::ipv4;
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1)
    return AddressFamily::ipv6;
  return std::nullopt;
}

bool is_valid_hostname(std::string_view name) {
  if (!name.empty() && name.back() == '.')
    name.remove_suffix(1);
  if (name.empty() || name.size() > 253)
    return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos)
      end = name.size();
    std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63)
      return false;
    if (label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      auto u = static_cast<unsigned char>(c);
      // Underscore is not valid in a hostname but occurs in real DNS names.
      if (!std::isalnum(u) && c != '-' && c != '_')
        return false;
    }
    start = end + 1;
    if (end == name.size())
      break;
  }
  return true;
}

Result<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value == 0 || value > 65535) {
    return fail(ErrorCode::input, "invalid port '" + std::string(text) + "' (1-65535)");
  }
  return static_cast<std::uint16_t>(value);
}

Result<HostPort> parse_host_port(std::string_view text) {
  if (text.empty())
    return fail(ErrorCode::input, "empty target");
  HostPort out;
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return fail(ErrorCode::input, "unterminated '[' in '" + std::string(text) + "'");
    }
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return fail(ErrorCode::input, "unexpected text after ']' in '" + std::string(text) + "'");
      }
      port = rest.substr(1);
    }
    if (ip_family(host) != AddressFamily::ipv6) {
      return fail(ErrorCode::input, "'" + std::string(host) + "' is not an IPv6 address");
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    host = text; // bare IPv6 literal, no port
    if (!ip_family(host)) {
      return fail(ErrorCode::input, "'" + std::string(text) + "' is not a valid IPv6 address");
    }
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port) {
    auto p = parse_port(*port);
    if (!p)
      return tl::unexpected(p.error());
    out.port = *p;
  }
  if (host.empty())
    return fail(ErrorCode::input, "missing host in '" + std::string(text) + "'");
  out.is_ip = ip_family(host).has_value();
  out.host = std::string(host);
  if (!out.is_ip) {
    if (!is_valid_hostname(host)) {
      return fail(ErrorCode::input, "'" + std::string(host) + "' is not a valid hostname");
    }
    std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (out.host.back() == '.')
      out.host.pop_back();
  }
  return out;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string_view num = text;
  double scale = 1000.0; // seconds by default
  if (num.ends_with("ms")) {
    scale = 1.0;
    num.remove_suffix(2);
  } else if (num.ends_with("s")) {
    num.remove_suffix(1);
  } else if (num.ends_with("m")) {
    scale = 60000.0;
    num.remove_suffix(1);
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), value);
  if (num.empty() || ec != std::errc{} || ptr != num.data() + num.size() || !std::isfinite(value) ||
      value <= 0 || value * scale > 24.0 * 3600 * 1000) {
    return fail(ErrorCode::usage,
                "invalid duration '" + std::string(text) + "' (e.g. 5s, 500ms, 2m; > 0, <= 24h)");
  }
  return std::chrono::milliseconds(static_cast<long long>(std::llround(value * scale)));
}

} // namespace edgeshake
