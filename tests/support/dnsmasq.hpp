// Dnsmasq: a real dnsmasq (Debian dnsmasq-base) serving a test zone on a free
// loopback port, with no upstream servers (nothing leaves the machine), and
// small DNS helpers for tests (a silent UDP port, a raw query).
#pragma once

#include "tests/support/process.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace edgeshake::testing {

struct DnsmasqOptions {
  bool ipv6 = false;       // also listen on [::1]:port (see loopback_ipv6_available())
  std::uint32_t ttl = 300; // TTL of every local record (--local-ttl)
  std::vector<std::string> extra_args;
};

// Zone text, one record per line, '#' starts a comment:
//   www.example.test     A      127.0.0.10
//   www.example.test     AAAA   ::10
//   shop.example.test    CNAME  www.example.test
//   txt.example.test     TXT    hello
// A name may have several A/AAAA lines. Names under the zone's top-level labels
// that are not listed are NXDOMAIN (--local=/tld/); names under other TLDs are
// REFUSED (no upstream). Throws std::runtime_error if dnsmasq cannot start.
class Dnsmasq {
public:
  explicit Dnsmasq(const std::string& zone, DnsmasqOptions options = {});
  ~Dnsmasq() = default;
  Dnsmasq(const Dnsmasq&) = delete;
  Dnsmasq& operator=(const Dnsmasq&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string server() const;  // "127.0.0.1:PORT"
  std::string server6() const; // "[::1]:PORT" (only with options.ipv6)
  std::string log() const { return m_process.log(); }
  const std::vector<std::string>& argv() const { return m_argv; }

private:
  TempDir m_dir{"edgeshake-dnsmasq"};
  Process m_process;
  std::uint16_t m_port = 0;
  std::vector<std::string> m_argv;
};

// The dnsmasq command-line options a zone text turns into (exposed for tests).
std::vector<std::string> dnsmasq_zone_args(const std::string& zone);

// True if a socket can bind [::1] here (some containers have no IPv6 loopback).
bool loopback_ipv6_available();

// A bound UDP socket on loopback that reads nothing and answers nothing, so a
// resolver pointed at it times out (an unbound port would answer with ICMP).
class SilentUdpPort {
public:
  explicit SilentUdpPort(const std::string& address = "127.0.0.1");
  ~SilentUdpPort();
  SilentUdpPort(const SilentUdpPort&) = delete;
  SilentUdpPort& operator=(const SilentUdpPort&) = delete;
  std::uint16_t port() const { return m_port; }
  std::string server() const; // "127.0.0.1:PORT" / "[::1]:PORT"

private:
  int m_fd = -1;
  std::string m_address;
  std::uint16_t m_port = 0;
};

// A purpose-built DNS server for what dnsmasq cannot be made to do here: it
// answers every UDP query with the given RCODE (2 SERVFAIL, 5 REFUSED, ...) and
// no records, from its own thread, on a free loopback port.
class RcodeDnsServer {
public:
  explicit RcodeDnsServer(int rcode, const std::string& address = "127.0.0.1");
  ~RcodeDnsServer();
  RcodeDnsServer(const RcodeDnsServer&) = delete;
  RcodeDnsServer& operator=(const RcodeDnsServer&) = delete;
  std::uint16_t port() const { return m_port; }
  std::string server() const;
  int queries() const { return m_queries.load(); }

private:
  int m_fd = -1;
  int m_stop_pipe[2] = {-1, -1};
  std::string m_address;
  std::uint16_t m_port = 0;
  std::atomic<int> m_queries{0};
  std::thread m_thread;
};

// One DNS query over UDP; the response's RCODE (0 NOERROR, 3 NXDOMAIN, 5
// REFUSED, ...) or nullopt if nothing answered in time.
std::optional<int> dns_query_rcode(const std::string& address, std::uint16_t port,
                                   const std::string& name, std::uint16_t qtype = 1,
                                   std::chrono::milliseconds timeout = 200ms);

} // namespace edgeshake::testing
