// Private: words for TLS alert codes and printable excerpts of raw bytes
// (handshake/names.cpp, the OpenSSL-free es_handshake_types library).
#pragma once

#include "handshake/handshake.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace edgeshake::handshake::detail {

std::string_view alert_name(int code); // RFC 8446 names: "handshake_failure"
std::string printable_excerpt(std::string_view bytes, std::size_t max = 256);

} // namespace edgeshake::handshake::detail
