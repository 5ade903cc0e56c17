#include "tests/support/dnsmasq.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace edgeshake::testing {

namespace {

std::string current_user() {
  if (const passwd* pw = ::getpwuid(::geteuid()))
    return pw->pw_name;
  return "nobody";
}

// Fills a sockaddr for a numeric loopback address; returns its length.
socklen_t make_addr(const std::string& address, std::uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (address.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, address.c_str(), &a->sin6_addr) != 1)
      throw std::runtime_error("bad IPv6 address " + address);
    return sizeof(sockaddr_in6);
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &a->sin_addr) != 1)
    throw std::runtime_error("bad IPv4 address " + address);
  return sizeof(sockaddr_in);
}

std::string bracket(const std::string& address, std::uint16_t port) {
  if (address.find(':') != std::string::npos)
    return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

} // namespace

std::vector<std::string> dnsmasq_zone_args(const std::string& zone) {
  std::vector<std::string> args;
  std::set<std::string> tlds;
  std::istringstream in(zone);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (auto hash = line.find('#'); hash != std::string::npos)
      line.erase(hash);
    std::istringstream words(line);
    std::string name, type, value;
    if (!(words >> name))
      continue;
    if (!(words >> type >> value))
      throw std::runtime_error("zone line " + std::to_string(lineno) +
                               ": expected NAME TYPE VALUE");
    std::string rest;
    std::getline(words, rest);
    value += rest;
    if (auto dot = name.rfind('.'); dot != std::string::npos)
      tlds.insert(name.substr(dot + 1));
    else
      tlds.insert(name);
    if (type == "A" || type == "AAAA") {
      args.push_back("--host-record=" + name + "," + value);
    } else if (type == "CNAME") {
      args.push_back("--cname=" + name + "," + value);
    } else if (type == "TXT") {
      args.push_back("--txt-record=" + name + "," + value);
    } else {
      throw std::runtime_error("zone line " + std::to_string(lineno) + ": unknown type " + type);
    }
  }
  for (const auto& tld : tlds)
    args.push_back("--local=/" + tld + "/"); // answer only from local data: NXDOMAIN otherwise
  return args;
}

Dnsmasq::Dnsmasq(const std::string& zone, DnsmasqOptions options) {
  auto program = find_program("dnsmasq");
  if (!program)
    throw std::runtime_error("dnsmasq is not installed");
  auto zone_args = dnsmasq_zone_args(zone);
  std::string last_log;
  for (int attempt = 0; attempt < 8; ++attempt) {
    m_port = free_udp_port("127.0.0.1");
    m_argv = {*program,
              "--keep-in-foreground",
              "--no-resolv", // no upstream from resolv.conf ...
              "--no-hosts",  // ... and no /etc/hosts
              "--no-poll",
              "--conf-file=/dev/null",
              "--pid-file=",
              "--user=" + current_user(),
              "--bind-interfaces",
              "--listen-address=127.0.0.1",
              "--port=" + std::to_string(m_port),
              "--local-ttl=" + std::to_string(options.ttl),
              "--log-queries",
              "--log-facility=-"};
    if (options.ipv6)
      m_argv.push_back("--listen-address=::1");
    m_argv.insert(m_argv.end(), zone_args.begin(), zone_args.end());
    m_argv.insert(m_argv.end(), options.extra_args.begin(), options.extra_args.end());
    auto log = m_dir / ("dnsmasq-" + std::to_string(attempt) + ".log");
    m_process = Process(m_argv, log);
    // Ready when it answers a query (any RCODE), not after a sleep.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && m_process.running()) {
      if (dns_query_rcode("127.0.0.1", m_port, "ready.edgeshake-fixture", 1, 100ms)) {
        if (!options.ipv6 || dns_query_rcode("::1", m_port, "ready.edgeshake-fixture", 1, 100ms))
          return;
      }
    }
    last_log = m_process.log();
    m_process.stop();
    // Port taken between free_udp_port() and bind (or TCP taken): try another.
    if (last_log.find("in use") == std::string::npos)
      break;
  }
  throw std::runtime_error("dnsmasq did not become ready; log:\n" + last_log);
}

std::string Dnsmasq::server() const {
  return bracket("127.0.0.1", m_port);
}

std::string Dnsmasq::server6() const {
  return bracket("::1", m_port);
}

bool loopback_ipv6_available() {
  int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0)
    return false;
  sockaddr_storage ss;
  socklen_t len = make_addr("::1", 0, ss);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  ::close(fd);
  return ok;
}

SilentUdpPort::SilentUdpPort(const std::string& address) : m_address(address) {
  sockaddr_storage ss;
  socklen_t len = make_addr(address, 0, ss);
  m_fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    throw std::runtime_error("SilentUdpPort: cannot bind " + address);
  socklen_t got = sizeof ss;
  ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&ss), &got);
  m_port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

SilentUdpPort::~SilentUdpPort() {
  if (m_fd >= 0)
    ::close(m_fd);
}

std::string SilentUdpPort::server() const {
  return bracket(m_address, m_port);
}

RcodeDnsServer::RcodeDnsServer(int rcode, const std::string& address) : m_address(address) {
  sockaddr_storage ss;
  socklen_t len = make_addr(address, 0, ss);
  m_fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    throw std::runtime_error("RcodeDnsServer: cannot bind " + address);
  socklen_t got = sizeof ss;
  ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&ss), &got);
  m_port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (::pipe(m_stop_pipe) != 0)
    throw std::runtime_error("RcodeDnsServer: pipe failed");
  m_thread = std::thread([this, rcode] {
    for (;;) {
      pollfd p[2] = {{m_fd, POLLIN, 0}, {m_stop_pipe[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0 || (p[1].revents & POLLIN))
        return;
      unsigned char buf[512];
      sockaddr_storage from;
      socklen_t from_len = sizeof from;
      ssize_t n =
          ::recvfrom(m_fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 12)
        continue;
      ++m_queries;
      buf[2] = static_cast<unsigned char>(0x80 | (buf[2] & 0x79)); // QR, keep opcode and RD
      buf[3] = static_cast<unsigned char>(0x80 | (rcode & 0x0f));  // RA, RCODE
      buf[6] = buf[7] = buf[8] = buf[9] = buf[10] = buf[11] = 0;   // no answers, no EDNS
      // Echo the question section only (header + first question).
      ssize_t end = 12;
      while (end < n && buf[end] != 0)
        end += buf[end] + 1;
      end = std::min<ssize_t>(end + 5, n);
      ::sendto(m_fd, buf, static_cast<std::size_t>(end), 0, reinterpret_cast<sockaddr*>(&from),
               from_len);
    }
  });
}

RcodeDnsServer::~RcodeDnsServer() {
  if (m_stop_pipe[1] >= 0) {
    char c = 'x';
    [[maybe_unused]] auto w = ::write(m_stop_pipe[1], &c, 1);
  }
  if (m_thread.joinable())
    m_thread.join();
  for (int fd : {m_fd, m_stop_pipe[0], m_stop_pipe[1]}) {
    if (fd >= 0)
      ::close(fd);
  }
}

std::string RcodeDnsServer::server() const {
  return bracket(m_address, m_port);
}

std::optional<int> dns_query_rcode(const std::string& address, std::uint16_t port,
                                   const std::string& name, std::uint16_t qtype,
                                   std::chrono::milliseconds timeout) {
  std::vector<unsigned char> q;
  std::uint16_t id = static_cast<std::uint16_t>(::getpid() ^ std::hash<std::string>{}(name));
  unsigned char header[12] = {static_cast<unsigned char>(id >> 8),
                              static_cast<unsigned char>(id & 0xff),
                              0x01, // RD
                              0x00,
                              0x00,
                              0x01,
                              0,
                              0,
                              0,
                              0,
                              0,
                              0};
  q.insert(q.end(), header, header + 12);
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos)
      dot = name.size();
    q.push_back(static_cast<unsigned char>(dot - start));
    q.insert(q.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  q.push_back(0);
  q.push_back(static_cast<unsigned char>(qtype >> 8));
  q.push_back(static_cast<unsigned char>(qtype & 0xff));
  q.push_back(0);
  q.push_back(1); // IN

  sockaddr_storage ss;
  socklen_t len = make_addr(address, port, ss);
  int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return std::nullopt;
  std::optional<int> rcode;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
      ::send(fd, q.data(), q.size(), 0) == static_cast<ssize_t>(q.size())) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!rcode) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) != 1)
        break;
      unsigned char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0) {
        // ECONNREFUSED: nothing listens yet; wait out the rest of the slot.
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(left, 20ms));
        break;
      }
      if (n >= 12 && buf[0] == header[0] && buf[1] == header[1])
        rcode = buf[3] & 0x0f;
    }
  }
  ::close(fd);
  return rcode;
}

} // namespace edgeshake::testing
