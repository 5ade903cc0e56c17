// libFuzzer: parse_server_response over arbitrary server bytes, as the enumerate
// engine and the wire probe call it (through the key exchange, to
// ServerHelloDone, after a HelloRetryRequest), the incremental use the reader
// makes of it (every prefix must parse too), and the client-side judge of what
// it parsed against a Cloudflare-like hello.
#include "handshake/enumerate/wire.hpp"
#include "tests/support/hellos.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace en = edgeshake::handshake::enumerate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto classical = edgeshake::testing::pingora_hello(false);
  static const auto post_quantum = edgeshake::testing::pingora_hello(true);
  std::span<const std::uint8_t> bytes(data, size);
  for (int mode = 0; mode < 4; ++mode) {
    en::ParseOptions options;
    options.through_key_exchange = mode >= 1;
    options.until_hello_done = mode >= 2;
    options.after_retry = mode == 3;
    auto r = en::parse_server_response(bytes, options);
    (void)r.complete(options);
    (void)en::to_string(r.kind);
    if (r.alert)
      (void)en::alert_name(r.alert->description);
    if (r.bytes > size || r.hello_end > size)
      __builtin_trap(); // examined more than it was given
    if (r.leaf_certificate.size() > size || r.certificates.size() > en::k_max_certificates)
      __builtin_trap();
    for (const auto& c : r.certificates)
      if (c.size() > size)
        __builtin_trap();
    const auto& hello = (size > 0 && data[size - 1] & 1) ? post_quantum : classical;
    auto j = en::judge_server_hello(hello, r);
    auto retried = en::judge_server_hello(hello, r, std::uint16_t{25});
    if ((j.accepted && j.alert != 0) || (retried.accepted && retried.alert != 0))
      __builtin_trap(); // an accepted answer carries no alert
  }
  // The reader feeds growing prefixes: a prefix of the input at a fuzzer-chosen cut.
  if (size > 1) {
    std::size_t cut = data[0] % size;
    (void)en::parse_server_response(bytes.first(cut), {.through_key_exchange = true});
    (void)en::parse_server_response(bytes.first(cut),
                                    {.through_key_exchange = true, .until_hello_done = true});
  }
  return 0;
}
