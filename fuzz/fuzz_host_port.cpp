// libFuzzer: the user-input parsers of common/endpoint.hpp (HOST[:PORT], IP
// literals, hostnames, ports, durations): one line of user input each.
#include "common/endpoint.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)edgeshake::ip_family(text);
  (void)edgeshake::is_valid_hostname(text);
  auto hp = edgeshake::parse_host_port(text);
  if (!hp && hp.error().message.empty())
    __builtin_trap();
  (void)edgeshake::parse_port(text);
  (void)edgeshake::parse_duration(text);
  return 0;
}
