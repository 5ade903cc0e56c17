// libFuzzer: resolve::CdnDatabase::parse (a CDN data file) and, when it parses,
// the matchers it builds.
#include "resolve/resolve.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

// cdn_detect.cpp's bundled() reads this table (generated into es_resolve); the
// fuzzer never calls bundled(), so it links cdn_detect.cpp alone with an empty table.
namespace edgeshake::resolve::data {
extern const std::vector<std::pair<std::string_view, std::string_view>> k_cdn_files;
const std::vector<std::pair<std::string_view, std::string_view>> k_cdn_files{};
} // namespace edgeshake::resolve::data

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto db = edgeshake::resolve::CdnDatabase::parse(text, "fuzz.toml");
  if (!db) {
    if (db.error().message.empty())
      __builtin_trap();
    return 0;
  }
  for (const char* ip : {"104.16.0.1", "2606:4700::1", "13.32.0.1", "127.0.0.1", "::1", "x"})
    (void)db->match_address(ip);
  for (const char* name : {"a.cdn.cloudflare.net", "d1.cloudfront.net", "example.com", "", "."})
    (void)db->match_name(name);
  return 0;
}
