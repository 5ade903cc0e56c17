#include "tests/support/openssl_server.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace edgeshake::testing {

OpensslServer::OpensslServer(OpensslServerConfig config) : m_config(std::move(config)) {
  auto openssl = find_program("openssl");
  if (!openssl)
    throw std::runtime_error("openssl is not installed");
  std::string last_log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    m_port = free_tcp_port(m_config.address.find(':') == std::string::npos ? m_config.address
                                                                           : "127.0.0.1");
    std::string host = m_config.address.find(':') == std::string::npos
                           ? m_config.address
                           : "[" + m_config.address + "]";
    std::vector<std::string> argv = {*openssl,  "s_server",
                                     "-accept", host + ":" + std::to_string(m_port),
                                     "-cert",   m_config.cert.string(),
                                     "-key",    m_config.key.string()};
    auto add = [&argv](std::string flag, const std::string& value) {
      if (!value.empty()) {
        argv.push_back(std::move(flag));
        argv.push_back(value);
      }
    };
    add("-cert_chain", m_config.chain.string());
    add("-cipher", m_config.cipher);
    add("-ciphersuites", m_config.ciphersuites);
    add("-groups", m_config.groups);
    if (m_config.min_protocol)
      add("-min_protocol", *m_config.min_protocol);
    if (m_config.max_protocol)
      add("-max_protocol", *m_config.max_protocol);
    if (m_config.no_tls1_3)
      argv.push_back("-no_tls1_3");
    if (m_config.verify_required > 0)
      add("-Verify", std::to_string(m_config.verify_required));
    else if (m_config.verify > 0)
      add("-verify", std::to_string(m_config.verify));
    add("-CAfile", m_config.ca_file.string());
    if (m_config.www)
      argv.push_back("-www");
    for (const auto& a : m_config.extra_args)
      argv.push_back(a);
    const fs::path log = m_dir / ("s_server." + std::to_string(attempt) + ".log");
    m_process = Process(argv, log, m_dir.path());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string text = m_process.log();
      if (text.find("ACCEPT") != std::string::npos)
        return;
      if (!m_process.running())
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    last_log = m_process.log();
    m_process.stop();
    if (last_log.find("in use") == std::string::npos)
      break;
  }
  throw std::runtime_error("openssl s_server did not start:\n" + last_log);
}

OpensslServer::~OpensslServer() {
  stop();
}

} // namespace edgeshake::testing
