// libFuzzer: parse_server_response over arbitrary server bytes, as the enumerate
// engine calls it (with and without reading through the key exchange), plus the
// incremental use the reader makes of it (every prefix must parse too).
#include "handshake/enumerate/wire.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace en = edgeshake::handshake::enumerate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  for (bool through : {false, true}) {
    en::ParseOptions options;
    options.through_key_exchange = through;
    auto r = en::parse_server_response(bytes, options);
    (void)r.complete(options);
    (void)en::to_string(r.kind);
    if (r.alert)
      (void)en::alert_name(r.alert->description);
    if (r.bytes > size)
      __builtin_trap(); // examined more than it was given
    if (r.leaf_certificate.size() > size)
      __builtin_trap();
  }
  // The reader feeds growing prefixes: a prefix of the input at a fuzzer-chosen cut.
  if (size > 1) {
    std::size_t cut = data[0] % size;
    (void)en::parse_server_response(bytes.first(cut), {.through_key_exchange = true});
  }
  return 0;
}
