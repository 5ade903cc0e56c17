#include "tests/support/gnutls_server.hpp"

#include <sstream>
#include <stdexcept>

#ifndef EDGESHAKE_LOOPBACK_BIND
#error "EDGESHAKE_LOOPBACK_BIND (the path of libes_loopback_bind.so) is set by CMake"
#endif

namespace edgeshake::testing {

GnutlsServer::GnutlsServer(GnutlsServerConfig config)
    : ChildServer("edgeshake-gnutls"), m_config(std::move(config)) {
  auto gnutls_serv = find_program("gnutls-serv");
  if (!gnutls_serv)
    throw std::runtime_error("gnutls-serv is not installed (Debian gnutls-bin)");
  // gnutls-serv starts with any priority string and fails each handshake on a bad
  // one ("Syntax error at: ..." in its log): check it up front instead.
  if (!m_config.priority.empty()) {
    auto check = run_command({"gnutls-cli", "--list", "--priority", m_config.priority});
    if (check.status != 0)
      throw std::runtime_error("GnuTLS rejects the priority string '" + m_config.priority + "':\n" +
                               check.output);
  }
  std::string last_log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    m_port = free_tcp_port(m_address);
    std::vector<std::string> argv = {"env",
                                     std::string("LD_PRELOAD=") + EDGESHAKE_LOOPBACK_BIND,
                                     *gnutls_serv,
                                     m_config.http ? "--http" : "--echo",
                                     "--port",
                                     std::to_string(m_port),
                                     "--x509certfile",
                                     m_config.cert.string(),
                                     "--x509keyfile",
                                     m_config.key.string()};
    if (!m_config.priority.empty())
      argv.insert(argv.end(), {"--priority", m_config.priority});
    if (!m_config.dh_params.empty())
      argv.insert(argv.end(), {"--dhparams", m_config.dh_params.string()});
    if (!m_config.request_client_cert)
      argv.push_back("--disable-client-cert");
    argv.insert(argv.end(), m_config.extra_args.begin(), m_config.extra_args.end());
    const fs::path log = m_dir / ("gnutls-serv." + std::to_string(attempt) + ".log");
    m_process = Process(argv, log, m_dir.path());
    // "... listening on IPv4 0.0.0.0 port N...done"; the IPv6 line ends in "bind() failed".
    const std::string ready = "port " + std::to_string(m_port) + "...done";
    if (wait_for_log(m_process, [&](const std::string& text) {
          return text.find(ready) != std::string::npos;
        }) == LogWait::ready)
      return;
    last_log = m_process.log();
    m_process.stop();
    if (last_log.find("in use") == std::string::npos)
      break;
  }
  throw std::runtime_error("gnutls-serv did not start:\n" + last_log);
}

std::vector<std::string> GnutlsServer::negotiated() const {
  std::vector<std::string> out;
  std::istringstream in(log());
  std::string line;
  const std::string prefix = "- Description: ";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0)
      out.push_back(line.substr(prefix.size()));
  return out;
}

std::vector<std::string>
GnutlsServer::wait_for_negotiated(std::size_t count, std::chrono::milliseconds timeout) const {
  return poll_until_count([this] { return negotiated(); }, count, timeout);
}

fs::path generate_dh_params(const fs::path& dir, int bits) {
  const fs::path out = dir / ("dh" + std::to_string(bits) + ".pem");
  auto r = run_command({"certtool", "--generate-dh-params", "--bits", std::to_string(bits),
                        "--outfile", out.string()});
  if (r.status != 0 || !fs::exists(out))
    throw std::runtime_error("certtool --generate-dh-params failed:\n" + r.output);
  return out;
}

} // namespace edgeshake::testing
