// The edge-fidelity fixtures (issue 13) do what they claim, checked on the wire:
//   SegmentRelay   resets a ClientHello that arrived in more than one TCP segment
//   GnutlsServer   RC4-only, 3DES-only, DHE with a 512-bit prime
//   NodeTlsServer  X25519MLKEM768 (Node.js 26, OpenSSL 3.5)
// Debian's OpenSSL 3.0 can negotiate none of what these origins accept, so the
// checks use the project's hand-built ClientHello engine: run_enumerate, and
// build_client_hello / parse_server_response over a plain socket.
#include "handshake/enumerate/enumerate.hpp"
#include "handshake/enumerate/tables.hpp"
#include "handshake/enumerate/wire.hpp"
#include "tests/support/certs.hpp"
#include "tests/support/gnutls_server.hpp"
#include "tests/support/node_server.hpp"
#include "tests/support/openssl_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/segment_relay.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

namespace en = edgeshake::handshake::enumerate;
using edgeshake::TlsVersion;
using namespace edgeshake::testing;
using namespace std::chrono_literals;

namespace {

using Codes = std::vector<std::uint16_t>;

constexpr std::uint16_t k_x25519 = 0x001d;
constexpr std::uint16_t k_secp256r1 = 0x0017;
constexpr std::uint16_t k_x25519_mlkem768 = 0x11ec;

// --- a plain-socket client for one ClientHello -------------------------------

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

// --- SegmentRelay ------------------------------------------------------------

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

// --- the origins, as the enumerator sees them --------------------------------

std::string names(const Codes& codes) {
  std::string s;
  for (auto c : codes)
    s += std::string(s.empty() ? "" : " ") + std::string(en::display_name(c));
  return s;
}

en::EnumerateResult enumerate(std::uint16_t port) {
  en::EnumerateSpec spec;
  spec.target = {"127.0.0.1", port};
  spec.sni = shared_catalogue().host;
  spec.max_connections = 4;
  spec.timeout = 5s;
  return en::run_enumerate(spec);
}

// The versions found supported, each probed alone, by name: "TLSv1.2 TLSv1.3".
std::string supported_versions(const en::EnumerateResult& r) {
  std::string out;
  for (const auto& v : r.versions)
    if (v.status == en::VersionStatus::supported)
      out += (out.empty() ? "" : " ") + std::string(to_string(v.version));
  return out;
}

// The suites accepted with version `v` alone (none when it is not supported).
Codes suites(const en::EnumerateResult& r, TlsVersion v) {
  const auto it = std::find_if(r.versions.begin(), r.versions.end(),
                               [v](const en::VersionResult& x) { return x.version == v; });
  return it == r.versions.end() ? Codes{} : it->suites;
}

// --- GnutlsServer ------------------------------------------------------------

class GnutlsFixture : public ::testing::Test {
protected:
  void SetUp() override {
    ES_REQUIRE_PROGRAM("gnutls-serv");
    ES_REQUIRE_PROGRAM("gnutls-cli"); // the priority check, and the full handshakes
  }
  static GnutlsServerConfig rsa(std::string priority) {
    const auto& c = shared_catalogue();
    return {.cert = c.leaf_rsa.chain, .key = c.leaf_rsa.key, .priority = std::move(priority)};
  }
};

// LISTEN sockets on `port` in /proc/net/tcp or tcp6, as "address:port" in hex.
std::vector<std::string> listeners(const std::string& table, std::uint16_t port) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line); // header
  std::vector<std::string> out;
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string slot, local, remote, state;
    ls >> slot >> local >> remote >> state;
    if (state == "0A" && local.size() > 5 && local.substr(local.size() - 5) == want)
      out.push_back(local);
  }
  return out;
}

TEST_F(GnutlsFixture, ListensOnLoopbackOnly) {
  std::uint16_t port = 0;
  {
    GnutlsServer server(rsa(""));
    port = server.port();
    char loopback[16];
    std::snprintf(loopback, sizeof loopback, "0100007F:%04X", port);
    EXPECT_EQ(listeners("/proc/net/tcp", port), std::vector<std::string>{loopback}) << server.log();
    EXPECT_TRUE(listeners("/proc/net/tcp6", port).empty()) << server.log();
  }
  EXPECT_TRUE(listeners("/proc/net/tcp", port).empty()); // stopped by PID
}

struct GnutlsRow {
  std::string name;
  const char* priority;
  TlsVersion version;     // the only version accepted
  Codes suites;           // exactly the suites accepted with it
  std::string negotiated; // in gnutls-serv's own "- Description:" line
};

void PrintTo(const GnutlsRow& row, std::ostream* os) {
  *os << row.name;
}

class GnutlsOrigin : public GnutlsFixture, public ::testing::WithParamInterface<GnutlsRow> {};

TEST_P(GnutlsOrigin, AcceptsExactlyWhatItClaims) {
  const auto& row = GetParam();
  GnutlsServer server(rsa(row.priority));
  const auto r = enumerate(server.port());
  ASSERT_EQ(r.status, en::EnumerateStatus::complete) << r.detail << "\n" << server.log();
  EXPECT_EQ(supported_versions(r), to_string(row.version));
  EXPECT_EQ(suites(r, row.version), row.suites) << "found: " << names(suites(r, row.version));
  // A full handshake with the same priority string (gnutls-cli from gnutls-bin
  // still does RC4 and 3DES), as gnutls-serv itself describes it.
  auto cli = run_command({"gnutls-cli", "--insecure", "--priority", row.priority, "--port",
                          std::to_string(server.port()), "127.0.0.1"},
                         10s);
  EXPECT_NE(cli.output.find(row.negotiated), std::string::npos) << cli.output;
  const auto negotiated = server.wait_for_negotiated(1, 5s);
  ASSERT_EQ(negotiated.size(), 1u) << server.log();
  EXPECT_NE(negotiated[0].find(row.negotiated), std::string::npos) << negotiated[0];
}

INSTANTIATE_TEST_SUITE_P(
    IssueThirteen, GnutlsOrigin,
    ::testing::Values(
        GnutlsRow{
            "Rc4OnlyTls12", k_gnutls_rc4_only_tls12, TlsVersion::tls1_2, {0x0005}, "ARCFOUR-128"},
        GnutlsRow{
            "Rc4OnlyTls10", k_gnutls_rc4_only_tls10, TlsVersion::tls1_0, {0x0005}, "ARCFOUR-128"},
        GnutlsRow{"TripleDesOnly", k_gnutls_3des_only, TlsVersion::tls1_2, {0x000a}, "3DES-CBC"}),
    [](const auto& info) { return info.param.name; });

TEST_F(GnutlsFixture, DheOnlySendsThe512BitPrime) {
  ES_REQUIRE_PROGRAM("certtool");
  TempDir dir("edgeshake-dh");
  const auto params = generate_dh_params(dir.path(), 512);
  auto cfg = rsa(k_gnutls_dhe_only);
  cfg.dh_params = params;
  GnutlsServer server(cfg);
  const auto r = enumerate(server.port());
  ASSERT_EQ(r.status, en::EnumerateStatus::complete) << r.detail << "\n" << server.log();
  EXPECT_EQ(supported_versions(r), "TLSv1.2");
  const auto dhe = suites(r, TlsVersion::tls1_2);
  EXPECT_EQ(std::set<std::uint16_t>(dhe.begin(), dhe.end()),
            (std::set<std::uint16_t>{0x0033, 0x009e}))
      << names(dhe);
  EXPECT_EQ(r.groups_tls12.dh_bits, std::optional<std::size_t>(512));
  // The same on one connection, read through the ServerKeyExchange.
  en::ClientHelloSpec h;
  h.sni = "origin.test";
  h.cipher_suites = {0x0033};
  h.groups = {k_x25519, k_secp256r1};
  en::ParseOptions through;
  through.through_key_exchange = true;
  const auto reply = exchange(server.port(), en::build_client_hello(h), {}, through);
  ASSERT_EQ(reply.response.kind, en::ResponseKind::server_hello)
      << en::to_string(reply.response.kind) << " " << reply.response.detail;
  EXPECT_EQ(reply.response.cipher_suite, 0x0033);
  EXPECT_EQ(reply.response.dh_bits, std::optional<std::size_t>(512));
  // A client that lists an RFC 7919 group the server does not have gets no DHE
  // suite at all (RFC 7919 section 4), so no 512-bit prime either.
  h.groups.push_back(0x0100); // ffdhe2048
  const auto ffdhe = exchange(server.port(), en::build_client_hello(h), {}, through);
  ASSERT_EQ(ffdhe.response.kind, en::ResponseKind::alert) << en::to_string(ffdhe.response.kind);
  ASSERT_TRUE(ffdhe.response.alert);
  EXPECT_EQ(en::alert_name(ffdhe.response.alert->description), "handshake_failure");
  // A full handshake, by a client told to accept 512 bits.
  auto cli = run_command({"gnutls-cli", "--insecure", "--dh-bits=512", "--priority",
                          k_gnutls_dhe_only, "--port", std::to_string(server.port()), "127.0.0.1"},
                         10s);
  EXPECT_NE(cli.output.find("(DHE-CUSTOM512)"), std::string::npos) << cli.output;
  const auto negotiated = server.wait_for_negotiated(1, 5s);
  ASSERT_EQ(negotiated.size(), 1u) << server.log();
  EXPECT_NE(negotiated[0].find("(DHE-CUSTOM512)"), std::string::npos) << negotiated[0];
}

TEST_F(GnutlsFixture, BadPriorityThrowsWithGnutlsWords) {
  try {
    GnutlsServer server(rsa("NONE:+NOT-A-THING"));
    FAIL() << "started with a bad priority string";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("Syntax error at: +NOT-A-THING"), std::string::npos)
        << e.what();
  }
}

// --- NodeTlsServer -----------------------------------------------------------

class NodeFixture : public ::testing::Test {
protected:
  void SetUp() override { ES_REQUIRE_PROGRAM(node_program()); }
  static NodeTlsServerConfig ecdsa(std::string curves, std::string min_version = {}) {
    const auto& c = shared_catalogue();
    return {.cert = c.leaf_ecdsa.chain,
            .key = c.leaf_ecdsa.key,
            .curves = std::move(curves),
            .min_version = std::move(min_version)};
  }
  // A real TLS client (the same Node.js) doing one GET; prints the reply.
  static CommandResult node_get(std::uint16_t port, const std::string& curves) {
    const std::string script =
        "const tls = require('tls');"
        "const s = tls.connect({host: '127.0.0.1', port: " +
        std::to_string(port) + ", servername: 'origin.test', rejectUnauthorized: false," +
        " ecdhCurve: '" + curves + "'}, () => s.write('GET / HTTP/1.1\\r\\n\\r\\n'));" +
        "s.on('data', (d) => process.stdout.write(d));" +
        "s.on('error', (e) => { console.log('client error: ' + e.message); "
        "process.exit(1); });";
    return run_command({node_program(), "-e", script}, 10s);
  }
};

TEST_F(NodeFixture, IsNode26WithOpenssl35) {
  NodeTlsServer server(ecdsa(""));
  EXPECT_EQ(server.node_version().rfind("v26.", 0), 0u) << server.log();
  EXPECT_EQ(server.openssl_version().rfind("3.5", 0), 0u) << server.log();
}

TEST_F(NodeFixture, MlkemOnlyOriginAcceptsOnlyX25519Mlkem768OverTls13) {
  NodeTlsServer server(ecdsa("X25519MLKEM768", "TLSv1.3"));
  const auto r = enumerate(server.port());
  ASSERT_EQ(r.status, en::EnumerateStatus::complete) << r.detail << "\n" << server.log();
  EXPECT_EQ(supported_versions(r), "TLSv1.3");
  EXPECT_EQ(r.groups_tls13.groups, Codes{k_x25519_mlkem768}) << names(r.groups_tls13.groups);

  // The post-quantum share is taken at once ...
  auto pq = exchange(server.port(), pq_hello(0));
  ASSERT_EQ(pq.response.kind, en::ResponseKind::server_hello) << pq.response.detail;
  EXPECT_EQ(pq.response.version, 0x0304);
  EXPECT_EQ(pq.response.key_share_group, k_x25519_mlkem768);
  // ... an X25519 share with the group offered gets a HelloRetryRequest for it ...
  auto retry =
      exchange(server.port(), client_hello({k_x25519, k_x25519_mlkem768}, {{k_x25519, 32}}));
  ASSERT_EQ(retry.response.kind, en::ResponseKind::hello_retry_request) << retry.response.detail;
  EXPECT_EQ(retry.response.key_share_group, k_x25519_mlkem768);
  // ... and a classical-only hello is refused.
  auto classical = exchange(server.port(), classical_hello(0));
  ASSERT_EQ(classical.response.kind, en::ResponseKind::alert) << classical.response.detail;
  ASSERT_TRUE(classical.response.alert);
  EXPECT_EQ(en::alert_name(classical.response.alert->description), "handshake_failure");

  // Full handshakes and the HTTP answer, with the server's own log lines: a Node
  // client that sends the ML-KEM share at once, then one that sends an X25519
  // share first and is asked for ML-KEM with a HelloRetryRequest.
  for (const char* curves : {"X25519MLKEM768", "X25519:X25519MLKEM768"}) {
    auto get = node_get(server.port(), curves);
    EXPECT_EQ(get.status, 0) << get.output;
    EXPECT_EQ(get.output.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << get.output;
    EXPECT_NE(get.output.find("Connection: close"), std::string::npos) << get.output;
  }
  const auto conns = server.wait_for_connections(2, 5s);
  ASSERT_EQ(conns.size(), 2u) << server.log();
  for (const auto& c : conns) {
    EXPECT_EQ(c.protocol, "TLSv1.3");
    EXPECT_EQ(c.group, "X25519MLKEM768");
  }
  EXPECT_EQ(conns[0].hello_retry_group, "none");
  EXPECT_EQ(conns[1].hello_retry_group, "X25519MLKEM768");
}

TEST_F(NodeFixture, MlkemAndX25519OriginAcceptsBoth) {
  ES_REQUIRE_PROGRAM("openssl");
  NodeTlsServer server(ecdsa("X25519MLKEM768:X25519"));
  const auto r = enumerate(server.port());
  ASSERT_EQ(r.status, en::EnumerateStatus::complete) << r.detail << "\n" << server.log();
  const auto& groups = r.groups_tls13.groups;
  EXPECT_EQ(std::set<std::uint16_t>(groups.begin(), groups.end()),
            (std::set<std::uint16_t>{k_x25519_mlkem768, k_x25519}))
      << names(groups);
  EXPECT_EQ(exchange(server.port(), pq_hello(0)).response.key_share_group, k_x25519_mlkem768);
  EXPECT_EQ(exchange(server.port(), classical_hello(0)).response.key_share_group, k_x25519);

  // Debian's openssl s_client (OpenSSL 3.0, no ML-KEM) completes with X25519. With
  // both groups in one list, OpenSSL 3.5 takes the one the client sent a share
  // for: no HelloRetryRequest for a client whose first share is X25519.
  auto classic =
      run_command({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(server.port()),
                   "-brief", "-groups", "X25519"},
                  10s);
  EXPECT_NE(classic.output.find("Protocol version: TLSv1.3"), std::string::npos) << classic.output;
  EXPECT_EQ(node_get(server.port(), "X25519MLKEM768:X25519").status, 0);
  EXPECT_EQ(node_get(server.port(), "X25519:X25519MLKEM768").status, 0);
  const auto conns = server.wait_for_connections(3, 5s);
  ASSERT_EQ(conns.size(), 3u) << server.log();
  EXPECT_EQ(conns[0].group, "X25519");
  EXPECT_EQ(conns[1].group, "X25519MLKEM768");
  EXPECT_EQ(conns[2].group, "X25519");
  for (const auto& c : conns)
    EXPECT_EQ(c.hello_retry_group, "none");
}

TEST_F(NodeFixture, TuplePreferenceAsksForMlkemFirst) {
  // OpenSSL 3.5's group tuples ("/"): the server insists on the first tuple and
  // sends a HelloRetryRequest rather than take the client's X25519 share.
  NodeTlsServer server(ecdsa("X25519MLKEM768/X25519"));
  auto retry = exchange(server.port(), classical_hello(0));
  ASSERT_EQ(retry.response.kind, en::ResponseKind::server_hello) << retry.response.detail;
  EXPECT_EQ(retry.response.key_share_group, k_x25519) << "no ML-KEM offered: X25519";
  auto both =
      exchange(server.port(), client_hello({k_x25519, k_x25519_mlkem768}, {{k_x25519, 32}}));
  ASSERT_EQ(both.response.kind, en::ResponseKind::hello_retry_request) << both.response.detail;
  EXPECT_EQ(both.response.key_share_group, k_x25519_mlkem768);
  EXPECT_EQ(node_get(server.port(), "X25519:X25519MLKEM768").status, 0);
  const auto conns = server.wait_for_connections(1, 5s);
  ASSERT_EQ(conns.size(), 1u) << server.log();
  EXPECT_EQ(conns[0].group, "X25519MLKEM768");
  EXPECT_EQ(conns[0].hello_retry_group, "X25519MLKEM768");
}

TEST_F(NodeFixture, Tls12LogsTheEcdheCurve) {
  ES_REQUIRE_PROGRAM("openssl");
  auto cfg = ecdsa("P-384");
  cfg.max_version = "TLSv1.2";
  NodeTlsServer server(cfg);
  auto r = run_command({"openssl", "s_client", "-connect",
                        "127.0.0.1:" + std::to_string(server.port()), "-brief", "-tls1_2"},
                       10s);
  EXPECT_NE(r.output.find("Protocol version: TLSv1.2"), std::string::npos) << r.output;
  const auto conns = server.wait_for_connections(1, 5s);
  ASSERT_EQ(conns.size(), 1u) << server.log();
  EXPECT_EQ(conns[0].protocol, "TLSv1.2");
  EXPECT_EQ(conns[0].group, "secp384r1");
  EXPECT_EQ(conns[0].cipher.rfind("TLS_ECDHE_ECDSA_", 0), 0u) << conns[0].cipher;
}

TEST_F(NodeFixture, UnknownCurveThrowsWithTheLog) {
  try {
    NodeTlsServer server(ecdsa("NotACurve"));
    FAIL() << "started with an unknown curve";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("did not start"), std::string::npos) << e.what();
  }
}

} // namespace
