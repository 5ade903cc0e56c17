// The edge-fidelity fixtures (issue 13) do what they claim, checked on the wire:
//   SegmentRelay   resets a ClientHello that arrived in more than one TCP segment
// with ClientHellos from the project's hand-built engine (build_client_hello), sent
// over a plain socket and answered as parse_server_response reads them.
#include "handshake/enumerate/wire.hpp"
#include "tests/support/certs.hpp"
#include "tests/support/openssl_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/segment_relay.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace en = edgeshake::handshake::enumerate;
using namespace edgeshake::testing;
using namespace std::chrono_literals;

namespace {

using Codes = std::vector<std::uint16_t>;

constexpr std::uint16_t k_x25519 = 0x001d;
constexpr std::uint16_t k_secp256r1 = 0x0017;
constexpr std::uint16_t k_x25519_mlkem768 = 0x11ec;

// --- a plain-socket client for one ClientHello
// --------------------------------

struct WireReply {
  bool connected = false;
  bool reset = false; // ECONNRESET
  bool eof = false;
  bool timed_out = false;
  std::vector<std::uint8_t> bytes;
  en::ServerResponse response;
};

// Connects to 127.0.0.1:port, sends `hello` as told, reads until the response
// parses complete, the peer closes or resets, or 5 s pass.
WireReply exchange(std::uint16_t port, const std::vector<std::uint8_t>& hello,
                   SegmentedSend how = {}, en::ParseOptions parse = {}) {
  WireReply out;
  const int fd = connect_and_send("127.0.0.1", port, hello, how);
  if (fd < 0)
    return out;
  out.connected = true;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      out.timed_out = true;
      break;
    }
    std::uint8_t buf[16384];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      out.reset = errno == ECONNRESET;
      break;
    }
    if (n == 0) {
      out.eof = true;
      break;
    }
    out.bytes.insert(out.bytes.end(), buf, buf + n);
    out.response = en::parse_server_response(out.bytes, parse);
    if (out.response.complete(parse))
      break;
  }
  ::close(fd);
  return out;
}

// A TLS 1.3 + 1.2 ClientHello for origin.test with the given groups and key
// shares, grown to exactly `size` bytes (record header included) through the
// length of the server_name, when size > 0.
std::vector<std::uint8_t> client_hello(Codes groups, std::vector<en::KeyShareSpec> shares,
                                       std::size_t size = 0) {
  en::ClientHelloSpec h;
  h.sni = "origin.test";
  h.cipher_suites = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030};
  h.groups = std::move(groups);
  h.supported_versions = {0x0304, 0x0303};
  h.key_shares = std::move(shares);
  auto bytes = en::build_client_hello(h);
  if (size > 0 && bytes.size() < size) {
    // "origin" grows by the missing bytes, in labels of at most 63 characters.
    std::size_t left = 6 + (size - bytes.size());
    std::string name;
    while (left > 63) {
      name += std::string(62, 'a') + ".";
      left -= 63;
    }
    h.sni = name + std::string(left, 'a') + ".test";
    bytes = en::build_client_hello(h);
  }
  return bytes;
}

// About 1,494 bytes, like Cloudflare's post-quantum hello: an X25519MLKEM768
// share (1216 bytes) and an X25519 one. OpenSSL 3.0 ignores the unknown group
// and answers with X25519.
std::vector<std::uint8_t> pq_hello(std::size_t size = 1494) {
  return client_hello({k_x25519_mlkem768, k_x25519, k_secp256r1},
                      {{k_x25519_mlkem768, 1216}, {k_x25519, 32}}, size);
}

// A classical hello with one X25519 share.
std::vector<std::uint8_t> classical_hello(std::size_t size = 300) {
  return client_hello({k_x25519, k_secp256r1}, {{k_x25519, 32}}, size);
}

// --- SegmentRelay
// --------------------------------------------------------------

class RelayFixture : public ::testing::Test {
protected:
  void SetUp() override {
    ES_REQUIRE_PROGRAM("openssl");
    const auto& c = shared_catalogue();
    m_origin = std::make_unique<OpensslServer>(OpensslServerConfig{
        .cert = c.leaf_ecdsa.cert, .key = c.leaf_ecdsa.key, .chain = c.intermediate.cert});
  }
  std::uint16_t origin_port() const { return m_origin->port(); }

private:
  std::unique_ptr<OpensslServer> m_origin;
};

TEST_F(RelayFixture, HellosHaveTheSizesTheTestsClaim) {
  EXPECT_EQ(pq_hello().size(), 1494u);
  EXPECT_EQ(classical_hello().size(), 300u);
}

TEST_F(RelayFixture, ResetSplitHelloResetsATwoSegmentHello) {
  SegmentRelay relay({.mode = RelayMode::reset_split_hello, .upstream_port = origin_port()});
  const auto reply = exchange(relay.port(), pq_hello(), {.maxseg = 1448});
  EXPECT_TRUE(reply.reset) << "eof " << reply.eof << " timed out " << reply.timed_out;
  EXPECT_TRUE(reply.bytes.empty());
  const auto conns = relay.wait_for_connections(1, 5s);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].action, RelayAction::reset) << to_string(conns[0].action);
  EXPECT_EQ(conns[0].hello_bytes, 1494u);
  EXPECT_EQ(conns[0].hello_segments, 2u);
  EXPECT_EQ(conns[0].segs_in,
            4u); // SYN and handshake ACK counted too (measured)
  EXPECT_EQ(conns[0].rcv_mss, 1436u);
  EXPECT_EQ(conns[0].bytes_to_upstream, 0u);
}

TEST_F(RelayFixture, ResetSplitHelloForwardsAOneSegmentHello) {
  SegmentRelay relay({.mode = RelayMode::reset_split_hello, .upstream_port = origin_port()});
  const auto reply = exchange(relay.port(), classical_hello(), {.maxseg = 1448});
  ASSERT_EQ(reply.response.kind, en::ResponseKind::server_hello)
      << en::to_string(reply.response.kind) << " " << reply.response.detail;
  EXPECT_EQ(reply.response.key_share_group, k_x25519);
  const auto conns = relay.wait_for_connections(1, 5s);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].action, RelayAction::forwarded) << to_string(conns[0].action);
  EXPECT_EQ(conns[0].hello_bytes, 300u);
  EXPECT_EQ(conns[0].hello_segments, 1u);
  EXPECT_EQ(conns[0].segs_in, 3u);
  // The byte counts are final once both sockets are closed (the client closed
  // after the ServerHello; the relay passes that on and the origin closes).
  const auto done = relay.wait_for(
      [](const std::vector<RelayConnection>& all) { return !all.empty() && all[0].finished; }, 5s);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].bytes_to_upstream, 300u);
  EXPECT_GE(done[0].bytes_to_client, reply.bytes.size());
}

TEST_F(RelayFixture, ResetSplitHelloCountsTwoWritesAsTwoSegments) {
  SegmentRelay relay({.mode = RelayMode::reset_split_hello, .upstream_port = origin_port()});
  const auto reply = exchange(relay.port(), pq_hello(), {.nodelay = true, .split_at = 1400});
  EXPECT_TRUE(reply.reset);
  const auto conns = relay.wait_for_connections(1, 5s);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].hello_segments, 2u);
  EXPECT_EQ(conns[0].rcv_mss, 1400u);
  EXPECT_EQ(conns[0].action, RelayAction::reset);
}

TEST_F(RelayFixture, LoopbackMssKeepsALargeHelloInOneSegment) {
  // Without TCP_MAXSEG the loopback MSS (65483) carries 1494 bytes in one
  // segment: a split needs the client's TCP_MAXSEG (or two writes).
  SegmentRelay relay({.mode = RelayMode::reset_split_hello, .upstream_port = origin_port()});
  const auto reply = exchange(relay.port(), pq_hello());
  EXPECT_EQ(reply.response.kind, en::ResponseKind::server_hello) << reply.response.detail;
  const auto conns = relay.wait_for_connections(1, 5s);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].hello_segments, 1u);
  EXPECT_EQ(conns[0].action, RelayAction::forwarded);
}

TEST_F(RelayFixture, ForwardPassesBothHellos) {
  SegmentRelay relay({.mode = RelayMode::forward, .upstream_port = origin_port()});
  const auto split = exchange(relay.port(), pq_hello(), {.maxseg = 1448});
  ASSERT_EQ(split.response.kind, en::ResponseKind::server_hello) << split.response.detail;
  EXPECT_EQ(split.response.key_share_group,
            k_x25519); // OpenSSL 3.0 ignores the ML-KEM share
  const auto single = exchange(relay.port(), classical_hello(), {.maxseg = 1448});
  ASSERT_EQ(single.response.kind, en::ResponseKind::server_hello) << single.response.detail;
  const auto conns = relay.wait_for_connections(2, 5s);
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[0].hello_segments, 2u);
  EXPECT_EQ(conns[1].hello_segments, 1u);
  for (const auto& c : conns)
    EXPECT_EQ(c.action, RelayAction::forwarded) << to_string(c.action);
}

TEST_F(RelayFixture, ForwardCarriesAWholeHttpsExchange) {
  SegmentRelay relay({.mode = RelayMode::forward, .upstream_port = origin_port()});
  // s_server -www answers "GET /" with its status page and closes; s_client
  // (-quiet implies -ign_eof) sends the request from stdin and prints the page.
  auto r = run_command({"sh", "-c",
                        "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | openssl s_client -connect "
                        "127.0.0.1:" +
                            std::to_string(relay.port()) + " -quiet 2>&1"},
                       10s);
  EXPECT_NE(r.output.find("HTTP/1.0 200 ok"), std::string::npos) << r.output;
  const auto conns = relay.wait_for_connections(1, 5s);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].action, RelayAction::forwarded);
  EXPECT_EQ(conns[0].hello_segments, 1u);
}

TEST_F(RelayFixture, UpstreamDownResetsTheClient) {
  const auto port = free_tcp_port();
  SegmentRelay relay({.mode = RelayMode::forward, .upstream_port = port});
  const auto reply = exchange(relay.port(), classical_hello());
  EXPECT_TRUE(reply.reset);
  const auto conns = relay.wait_for_connections(1, 5s);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].action, RelayAction::upstream_failed);
}

TEST(SegmentRelay, RefusesANonLoopbackUpstream) {
  EXPECT_THROW(SegmentRelay({.upstream_address = "192.0.2.1", .upstream_port = 443}),
               std::runtime_error);
}

TEST(SegmentRelay, ClosesWhatIsNotTls) {
  SegmentRelay relay({.mode = RelayMode::forward, .upstream_port = 9});
  const std::string text = "GET / HTTP/1.1\r\n\r\n";
  const auto reply = exchange(relay.port(), std::vector<std::uint8_t>(text.begin(), text.end()));
  EXPECT_TRUE(reply.eof || reply.reset);
  const auto conns = relay.wait_for_connections(1, 5s);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].action, RelayAction::not_tls);
}

} // namespace
