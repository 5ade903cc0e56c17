// libFuzzer: profiles::parse_profile (TOML loader + validation against the linked
// OpenSSL). Every input must give a Profile or an Error, never a crash or throw.
#include "profiles/profiles.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = edgeshake::profiles::parse_profile(text, "fuzz.toml", "fuzz");
  if (!p && p.error().message.empty())
    __builtin_trap(); // an error always says what is wrong
  return 0;
}
