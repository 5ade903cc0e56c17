// Where to connect: an IP literal and a port, plus parsing of the user's
// HOST[:PORT] / IP[:PORT] / [v6]:PORT spellings.
#pragma once

#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgeshake {

enum class AddressFamily { ipv4, ipv6 };

struct Endpoint {
  std::string address; // numeric IP, no brackets
  std::uint16_t port = 443;
  bool operator==(const Endpoint&) const = default;

  // "192.0.2.1:443" or "[2001:db8::1]:443"
  std::string to_string() const;
};

// A user-written target: a hostname or an IP, with an optional port.
struct HostPort {
  std::string host; // hostname (lower-cased, no trailing dot) or IP literal
  std::optional<std::uint16_t> port;
  bool is_ip = false;
  bool operator==(const HostPort&) const = default;
};

std::optional<AddressFamily> ip_family(std::string_view text); // nullopt: not an IP literal
bool is_valid_hostname(std::string_view name);                 // RFC 1123 labels, <= 253 chars
Result<HostPort> parse_host_port(std::string_view text);       // "h", "h:443", "[::1]:443", "::1"
Result<std::uint16_t> parse_port(std::string_view text);

// "5s", "500ms", "2m", "1.5s"; a bare number means seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

} // namespace edgeshake
