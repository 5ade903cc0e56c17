// Private: one c-ares channel driven by the caller's asio::io_context (the
// nghttpx DNSResolver shape, c-ares 1.18.1 API). Only resolver.cpp uses it.
#pragma once

#include "common/result.hpp"
#include "resolve/resolve.hpp"

#include <ares.h>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace edgeshake::resolve {

struct BridgeOptions {
  std::string servers_csv; // for ares_set_servers_ports_csv; empty = resolv.conf
  int timeout_ms = 3000;
  int tries = 2;
};

class AresBridge : public std::enable_shared_from_this<AresBridge> {
public:
  static Result<std::shared_ptr<AresBridge>> create(asio::io_context& io,
                                                    const BridgeOptions& options);
  ~AresBridge();
  AresBridge(const AresBridge&) = delete;
  AresBridge& operator=(const AresBridge&) = delete;

  asio::io_context& io() { return m_io; }

  // ares_getaddrinfo(AF_UNSPEC): A and AAAA in parallel. `on_done` is posted to
  // the loop with the copied answer; dropped if the bridge is shut down first.
  void getaddrinfo(const std::string& name, std::function<void(ResolveResult)> on_done);

  // ares_destroy; pending lookups are dropped. Idempotent.
  void shutdown();

private:
  struct Watcher {
    explicit Watcher(asio::io_context& io, int fd, std::uint64_t gen);
    ~Watcher();
    asio::posix::stream_descriptor sd;
    std::uint64_t generation;
    bool want_read = false;
    bool want_write = false;
    bool read_pending = false;
    bool write_pending = false;
  };

  explicit AresBridge(asio::io_context& io);

  static void sock_state_cb(void* data, ares_socket_t fd, int readable, int writable) noexcept;
  void on_sock_state(int fd, bool readable, bool writable);
  void arm(int fd);
  void on_ready(int fd, std::uint64_t generation, bool write, const std::error_code& ec);
  void rearm_timer();

  asio::io_context& m_io;
  ares_channel m_channel = nullptr;
  std::unordered_map<int, std::unique_ptr<Watcher>> m_watchers;
  std::uint64_t m_next_generation = 1;
  asio::steady_timer m_timer;
  std::uint64_t m_timer_generation = 0;
};

} // namespace edgeshake::resolve
