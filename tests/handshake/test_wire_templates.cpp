// A regression test per bundled profile (issue 13): the ClientHello edgeshake's
// wire probe writes on the socket, captured by a raw loopback server, must equal
// the committed template tests/handshake/templates/<profile>[-<hello>].hex byte
// for byte outside the bytes that change per connection (random, session id,
// key-share values, GREASE: written "__" in the template). A change to a
// profile's hello, or to how the engine writes it, fails here until the
// template is regenerated on purpose:
//   EDGESHAKE_UPDATE_TEMPLATES=1 build/tests/handshake/test_handshake_wire_templates
#include "handshake/enumerate/wire.hpp"
#include "handshake/handshake.hpp"
#include "tests/handshake/probe_helpers.hpp"
#include "tests/support/raw_server.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace edgeshake::testing {
namespace {

using namespace std::chrono_literals;
namespace en = handshake::enumerate;

const std::string k_sni = "origin.test";

en::HelloParams hello_params() {
  en::HelloParams params;
  params.sni = k_sni;
  return params;
}

std::string template_path(const profiles::Profile& p, const profiles::WireHello& h) {
  return std::string(EDGESHAKE_SOURCE_DIR) + "/tests/handshake/templates/" + p.id +
         (h.label.empty() ? "" : "-" + h.label) + ".hex";
}

// Hex, 32 bytes a line, masked bytes as "__".
std::string to_template(const std::string& bytes, const std::vector<bool>& masked) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    static const char* digits = "0123456789abcdef";
    const auto b = static_cast<unsigned char>(bytes[i]);
    out += masked[i] ? std::string("__") : std::string{digits[b >> 4], digits[b & 15]};
    if (i % 32 == 31 || i + 1 == bytes.size())
      out += '\n';
  }
  return out;
}

std::string read_template(const std::string& path) {
  std::ifstream in(path);
  std::string line, out;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#')
      out += line + "\n";
  return out;
}

// What the wire probe for hello `index` of `p` writes, as one capture.
std::string capture(const profiles::Profile& p, std::size_t index) {
  RawServer server(RawMode::capture);
  auto s = loopback_spec(server.port(), p, shared_catalogue(), k_sni);
  s.engine = handshake::Engine::wire;
  s.hello = index;
  s.wire.one_segment = true; // the capture reads one stream; segments are tested elsewhere
  s.timeout = 3000ms;
  (void)handshake::run({s});
  auto got = server.wait_for_captures(1, 5s);
  return got.empty() ? std::string() : got.front();
}

TEST(WireTemplates, EveryBundledHelloMatchesItsTemplate) {
  const bool update = std::getenv("EDGESHAKE_UPDATE_TEMPLATES") != nullptr;
  std::size_t checked = 0;
  for (const auto& p : profiles::bundled()) {
    for (std::size_t i = 0; i < p.hellos.size(); ++i) {
      const auto& h = p.hellos[i];
      SCOPED_TRACE(p.id + " hello " + (h.label.empty() ? "(only)" : h.label));
      const std::string got = capture(p, i);
      ASSERT_FALSE(got.empty()) << "the wire probe wrote nothing";
      // The same hello built here gives the offsets that vary per connection.
      const auto built = en::build_profile_hello(h, hello_params());
      ASSERT_EQ(got.size(), built.bytes.size()) << "captured size differs from the builder's";
      std::vector<bool> masked(got.size(), false);
      for (auto [off, n] : built.variable)
        for (std::size_t k = off; k < off + n && k < masked.size(); ++k)
          masked[k] = true;
      const std::string text = to_template(got, masked);
      const std::string path = template_path(p, h);
      if (update) {
        std::ofstream(path) << "# " << p.id << (h.label.empty() ? "" : " " + h.label) << ", SNI "
                            << k_sni << ", " << got.size()
                            << " bytes (tests/handshake/test_wire_templates.cpp)\n"
                            << text;
        continue;
      }
      const std::string want = read_template(path);
      ASSERT_FALSE(want.empty()) << "no template " << path
                                 << " (EDGESHAKE_UPDATE_TEMPLATES=1 writes it)";
      EXPECT_EQ(text, want) << "the hello drifted from " << path;
      ++checked;
    }
  }
  if (!update) {
    EXPECT_GE(checked, profiles::bundled().size()); // at least one hello per profile
  }
}

// The mask hides only what must vary: two captures of one hello differ
// somewhere (fresh random), and only inside the masked bytes.
TEST(WireTemplates, OnlyTheMaskedBytesChangeBetweenConnections) {
  const auto& p = *std::find_if(profiles::bundled().begin(), profiles::bundled().end(),
                                [](const auto& x) { return x.id == "cloudflare"; });
  const auto a = capture(p, 0), b = capture(p, 0);
  ASSERT_EQ(a.size(), b.size());
  const auto built = en::build_profile_hello(p.hellos[0], hello_params());
  std::vector<bool> masked(a.size(), false);
  for (auto [off, n] : built.variable)
    for (std::size_t k = off; k < off + n && k < masked.size(); ++k)
      masked[k] = true;
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      differs = true;
      EXPECT_TRUE(masked[i]) << "byte " << i << " changed but is not masked";
    }
  }
  EXPECT_TRUE(differs) << "two connections sent the same random";
}

} // namespace
} // namespace edgeshake::testing
