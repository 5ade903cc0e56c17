// What the fixtures that run a server program and learn its readiness from its
// log share (GnutlsServer, NodeTlsServer): a temp dir for the log and the
// generated files, a child Process stopped by PID, the loopback address and
// port, and log polling (wait_for_log for readiness, poll_until_count for
// "N handshakes logged").
#pragma once

#include "tests/support/process.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace edgeshake::testing {

enum class LogWait { ready, exited, timed_out };

// Polls the child's log every 10 ms until `ready(text)` holds; stops early when
// the child exits, so a server that fails to start is reported at once.
LogWait wait_for_log(Process& process, const std::function<bool(const std::string&)>& ready,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Calls `read()` every 10 ms until it returns at least `count` items or
// `timeout` passed; returns the last result.
template <typename Read>
auto poll_until_count(Read read, std::size_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto out = read();
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    out = read();
  }
  return out;
}

class ChildServer {
public:
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;

  std::uint16_t port() const { return m_port; }
  const std::string& address() const { return m_address; }
  std::string log() const { return m_process.log(); }
  const fs::path& dir() const { return m_dir.path(); }
  int pid() const { return m_process.pid(); }
  void stop() { m_process.stop(); } // also run by the destructor

protected:
  explicit ChildServer(const std::string& dir_prefix) : m_dir(dir_prefix) {}
  ~ChildServer() = default;

  TempDir m_dir; // declared before m_process: the child stops before its dir goes
  std::string m_address = "127.0.0.1";
  std::uint16_t m_port = 0;
  Process m_process;
};

} // namespace edgeshake::testing
