// The fixtures themselves: certificates carry the facts they claim, and each
// server comes up, answers, and goes away (checked with the openssl CLI).
#include "tests/support/certs.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/openssl_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace edgeshake::testing;
using namespace std::chrono_literals;

namespace {

CommandResult verify(const CertCatalogue& c, const IssuedCert& leaf, bool with_intermediate) {
  std::vector<std::string> argv = {"openssl", "verify", "-CAfile", c.ca_file.string()};
  if (with_intermediate) {
    argv.push_back("-untrusted");
    argv.push_back(c.intermediate.cert.string());
  }
  argv.push_back(leaf.cert.string());
  return run_command(argv);
}

CommandResult s_client(std::uint16_t port, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {"openssl", "s_client", "-connect",
                                   "127.0.0.1:" + std::to_string(port), "-brief"};
  for (auto& e : extra)
    argv.push_back(e);
  // stdin is /dev/null: s_client completes the handshake and exits.
  return run_command(argv, 10s);
}

} // namespace

TEST(CertCatalogue, FactsMatchTheCertificates) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  auto fp = run_command(
      {"openssl", "x509", "-in", c.leaf_ecdsa.cert.string(), "-noout", "-fingerprint", "-sha256"});
  ASSERT_EQ(fp.status, 0);
  EXPECT_NE(fp.output.find(c.leaf_ecdsa.sha256), std::string::npos) << fp.output;
  EXPECT_EQ(c.leaf_rsa.key_type, "RSA");
  EXPECT_EQ(c.leaf_rsa.key_bits, 2048);
  EXPECT_EQ(c.weak_rsa.key_bits, 1024);
  EXPECT_EQ(c.leaf_ecdsa.curve, "prime256v1");
  EXPECT_NE(c.sha1_signed.signature_algorithm.find("SHA1"), std::string::npos)
      << c.sha1_signed.signature_algorithm;
  EXPECT_LT(c.expired.not_after, std::chrono::system_clock::now());
  EXPECT_GT(c.not_yet_valid.not_before, std::chrono::system_clock::now());
  EXPECT_EQ(c.leaf_ecdsa.issuer, c.intermediate.subject);
  EXPECT_EQ(c.self_signed.issuer, c.self_signed.subject);
  EXPECT_TRUE(c.no_san.dns_names.empty());
}

TEST(CertCatalogue, ChainsVerifyOnlyWithTheIntermediate) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  EXPECT_EQ(verify(c, c.leaf_ecdsa, true).status, 0);
  EXPECT_EQ(verify(c, c.leaf_rsa, true).status, 0);
  EXPECT_NE(verify(c, c.leaf_ecdsa, false).status, 0);
  auto expired = verify(c, c.expired, true);
  EXPECT_NE(expired.status, 0);
  EXPECT_NE(expired.output.find("expired"), std::string::npos) << expired.output;
  auto future = verify(c, c.not_yet_valid, true);
  EXPECT_NE(future.output.find("not yet valid"), std::string::npos) << future.output;
  EXPECT_NE(verify(c, c.self_signed, true).status, 0);
  // The chain file holds leaf + intermediate.
  auto chain = read_file(c.leaf_ecdsa.chain);
  EXPECT_EQ(chain, read_file(c.leaf_ecdsa.cert) + read_file(c.intermediate.cert));
}

TEST(NginxOrigin, ServesTlsAndStops) {
  ES_REQUIRE_PROGRAM("nginx");
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  cfg.protocols = {"TLSv1.2"};
  auto port = 0;
  {
    NginxOrigin nginx(cfg);
    port = nginx.port();
    auto r = s_client(nginx.port(), {"-servername", c.host});
    EXPECT_NE(r.output.find("Protocol version: TLSv1.2"), std::string::npos) << r.output;
  }
  // Stopped: nothing listens any more.
  EXPECT_FALSE(wait_for_tcp("127.0.0.1", static_cast<std::uint16_t>(port), 200ms));
}

TEST(NginxOrigin, RejectingDefaultServerNeedsSni) {
  ES_REQUIRE_PROGRAM("nginx");
  const auto& c = shared_catalogue();
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::rejecting_default());
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin nginx(cfg);
  auto without = s_client(nginx.port(), {"-noservername"});
  EXPECT_NE(without.status, 0) << without.output;
  EXPECT_NE(without.output.find("unrecognized name"), std::string::npos) << without.output;
  auto with = s_client(nginx.port(), {"-servername", c.host});
  EXPECT_EQ(with.status, 0) << with.output;
}

TEST(NginxOrigin, BadConfigThrowsWithTheLog) {
  ES_REQUIRE_PROGRAM("nginx");
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls("/nonexistent.crt", "/nonexistent.key"));
  EXPECT_THROW(NginxOrigin nginx(cfg), std::runtime_error);
}

TEST(OpensslServer, StartsAndAnswers) {
  ES_REQUIRE_PROGRAM("openssl");
  const auto& c = shared_catalogue();
  OpensslServer server({.cert = c.leaf_ecdsa.cert,
                        .key = c.leaf_ecdsa.key,
                        .chain = c.intermediate.cert,
                        .no_tls1_3 = true});
  auto r = s_client(server.port());
  EXPECT_NE(r.output.find("TLSv1.2"), std::string::npos) << r.output;
}

namespace {
int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}
} // namespace

TEST(RawServer, HttpReplyAnswersAnything) {
  RawServer server(RawMode::http_reply);
  int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "hello", 5), 5);
  char buf[256] = {};
  auto n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, 8), "HTTP/1.1");
}

TEST(RawServer, ResetSendsRst) {
  RawServer server(RawMode::reset);
  int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "hello", 5), 5);
  char buf[16];
  auto n = ::read(fd, buf, sizeof buf);
  int err = errno;
  ::close(fd);
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, ECONNRESET);
}

TEST(RawServer, CloseSendsFin) {
  RawServer server(RawMode::close);
  int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  char buf[16];
  EXPECT_EQ(::read(fd, buf, sizeof buf), 0);
  ::close(fd);
}

TEST(RawServer, CaptureRecordsTheClientHello) {
  ES_REQUIRE_PROGRAM("openssl");
  RawServer server(RawMode::capture);
  s_client(server.port(), {"-servername", "capture.test", "-alpn", "h2,http/1.1", "-groups",
                           "X25519:P-256", "-ciphersuites", "TLS_AES_128_GCM_SHA256"});
  auto hellos = server.wait_for_captures(1, 5s);
  ASSERT_EQ(hellos.size(), 1u);
  auto hello = parse_client_hello(hellos[0]);
  ASSERT_TRUE(hello.ok) << hello.error;
  EXPECT_EQ(hello.sni, "capture.test");
  EXPECT_EQ(hello.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(hello.supported_groups, (std::vector<int>{0x001d, 0x0017}));
  ASSERT_FALSE(hello.cipher_suites.empty());
  EXPECT_EQ(hello.cipher_suites[0], 0x1301);
}
