// OpensslServer: `openssl s_server` on a free loopback port, for what nginx
// cannot express (certificate_required alerts via -Verify, exact -groups,
// -no_tls1_3 ...). Ready when its "ACCEPT" line appeared; stopped by PID.
// Throws std::runtime_error with the server's log when it does not start.
// Call ES_REQUIRE_PROGRAM("openssl") in the test first.
//
// Usage:
//   OpensslServerConfig cfg{.cert = c.leaf_ecdsa.cert, .key = c.leaf_ecdsa.key,
//                           .chain = c.intermediate.cert};
//   cfg.verify_required = 1; cfg.ca_file = c.ca_file;   // -Verify 1 -CAfile ...
//   OpensslServer server(cfg);
//   ... probe 127.0.0.1:server.port() ...
// s_server serves one connection at a time: use nginx for concurrency tests.
#pragma once

#include "tests/support/process.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgeshake::testing {

struct OpensslServerConfig {
  fs::path cert{};                           // -cert
  fs::path key{};                            // -key
  fs::path chain{};                          // -cert_chain (intermediates), optional
  std::string cipher{};                      // -cipher (TLS <= 1.2)
  std::string ciphersuites{};                // -ciphersuites (TLS 1.3)
  std::string groups{};                      // -groups
  bool no_tls1_3 = false;                    // -no_tls1_3
  std::optional<std::string> min_protocol{}; // -min_protocol TLSv1
  std::optional<std::string> max_protocol{}; // -max_protocol TLSv1.2
  int verify = 0;                            // -verify N: ask for a client certificate
  int verify_required = 0;                   // -Verify N: require one (TLS 1.3: alert 116 without)
  fs::path ca_file{}; // -CAfile (also the CA names sent in CertificateRequest)
  bool www = true;    // -www: answer HTTP GET with a status page
  std::vector<std::string> extra_args{};
  std::string address = "127.0.0.1";
};

class OpensslServer {
public:
  explicit OpensslServer(OpensslServerConfig config);
  ~OpensslServer();
  OpensslServer(const OpensslServer&) = delete;
  OpensslServer& operator=(const OpensslServer&) = delete;

  std::uint16_t port() const { return m_port; }
  const std::string& address() const { return m_config.address; }
  std::string log() const { return m_process.log(); }
  int pid() const { return m_process.pid(); }
  void stop() { m_process.stop(); }

private:
  OpensslServerConfig m_config;
  TempDir m_dir{"edgeshake-s_server"};
  std::uint16_t m_port = 0;
  Process m_process;
};

} // namespace edgeshake::testing
