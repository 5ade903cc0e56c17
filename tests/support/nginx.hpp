// NginxOrigin: a real nginx (Debian nginx-light 1.22) on a free loopback port,
// from a config generated into a temp dir (pid, logs and temp paths there too;
// nothing under /etc/nginx or /var is touched). Started in the constructor,
// ready when it returns (a TCP connect succeeded), stopped by PID in stop() /
// the destructor. Throws std::runtime_error (with nginx's error log) when nginx
// does not come up. Call ES_REQUIRE_PROGRAM("nginx") in the test first.
//
// Usage:
//   const auto& c = shared_catalogue();
//   NginxConfig cfg;
//   cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
//   cfg.protocols = {"TLSv1.2"};
//   cfg.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
//   NginxOrigin nginx(cfg);
//   ... probe 127.0.0.1:nginx.port() ...
//
// Several server blocks share one port; the first with default_server (or the
// first block) answers requests with an unknown or absent SNI. A default block
// with reject_handshake = true gives "SNI required" (alert 112 unrecognized_name).
// Directives in NginxConfig are written at http{} level and so apply to every
// server block; NginxServer::extra adds raw directives to one block.
#pragma once

#include "tests/support/process.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgeshake::testing {

struct NginxServer {
  std::vector<std::string> server_names{}; // empty: "_"
  fs::path certificate{};                  // ssl_certificate (PEM, chain as the server sends it)
  fs::path certificate_key{};              // ssl_certificate_key
  bool default_server = false;
  bool reject_handshake = false; // ssl_reject_handshake on (no certificate needed)
  bool ssl = true; // false: plain HTTP listener on the same port (all blocks must agree)
  int return_code = 200;
  std::string return_body = "edgeshake origin ok\n";
  std::vector<std::string> extra{}; // raw directives inside server{}, e.g. "ssl_verify_client on;"

  static NginxServer tls(fs::path cert, fs::path key, std::vector<std::string> names = {});
  static NginxServer rejecting_default(); // default_server + ssl_reject_handshake on
};

struct NginxConfig {
  std::string address = "127.0.0.1";  // loopback only ("::1" works too)
  std::uint16_t port = 0;             // 0: a free port
  std::vector<NginxServer> servers{}; // at least one
  // http{}-level TLS settings; empty strings / vectors leave nginx's default.
  // ssl_protocols. Default: a modern origin. Empty: nginx 1.22's own default
  // (TLSv1 TLSv1.1 TLSv1.2, no TLS 1.3).
  std::vector<std::string> protocols{"TLSv1.2", "TLSv1.3"};
  std::string ciphers{};            // ssl_ciphers (add ":@SECLEVEL=0" for TLSv1/1.1 or weak keys)
  std::string tls13_ciphersuites{}; // ssl_conf_command Ciphersuites ...
  std::string ecdh_curve{};         // ssl_ecdh_curve "X25519:prime256v1"
  std::optional<bool> prefer_server_ciphers{};
  std::string verify_client{}; // ssl_verify_client: "on", "optional", "optional_no_ca"
  fs::path client_ca{};        // ssl_client_certificate
  int verify_depth = 0;        // ssl_verify_depth (0: default)
  bool session_tickets = true;
  std::vector<std::string> http_extra{}; // raw directives at http{} level
};

class NginxOrigin {
public:
  explicit NginxOrigin(NginxConfig config);
  ~NginxOrigin();
  NginxOrigin(const NginxOrigin&) = delete;
  NginxOrigin& operator=(const NginxOrigin&) = delete;

  std::uint16_t port() const { return m_port; }
  const std::string& address() const { return m_config.address; }
  const fs::path& dir() const { return m_dir.path(); }
  std::string config_text() const;
  std::string error_log() const;
  int pid() const { return m_process.pid(); }
  void stop();

  // The text of nginx.conf for a config and port (exposed for tests and the lab).
  static std::string render(const NginxConfig& config, std::uint16_t port, const fs::path& prefix);

private:
  NginxConfig m_config;
  TempDir m_dir{"edgeshake-nginx"};
  std::uint16_t m_port = 0;
  Process m_process;
};

} // namespace edgeshake::testing
