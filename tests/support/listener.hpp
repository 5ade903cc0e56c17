// LoopbackListener: what the purpose-built servers of tests/support (RawServer,
// HostileServer) share: a non-blocking listening TCP socket on a loopback
// address with its port from the kernel (bind port 0, read it back), a wake pipe,
// and the background thread that runs the server's poll loop.
//
// Usage (inside a server class):
//   LoopbackListener m_listener{"MyServer", "127.0.0.1"}; // listening when constructed
//   m_listener.start([this] { loop(); });
//   void loop() {
//     for (;;) {
//       auto fds = m_listener.poll_head();       // [0] wake pipe, [1] listening socket
//       ... push the connections' pollfds, poll(...) ...
//       if (fds[0].revents) break;              // stop() was called
//       if (fds[1].revents & POLLIN)
//         for (int fd : m_listener.accept_all()) ...
//     }
//   }
// stop() (also run by the destructor) wakes the loop, joins the thread and closes
// the listening socket and the pipe; the loop closes its own connections.
#pragma once

#include <poll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace edgeshake::testing {

class LoopbackListener {
public:
  // Listening when it returns; throws std::runtime_error("<owner>: ...") otherwise.
  explicit LoopbackListener(std::string owner, std::string address = "127.0.0.1");
  ~LoopbackListener();
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  std::uint16_t port() const { return m_port; }
  const std::string& address() const { return m_address; }
  // Connections accepted so far (by accept_all()).
  int accepted() const { return m_accepted.load(); }

  // Runs `loop` in the background thread (once).
  void start(std::function<void()> loop);
  // Wakes the loop (it must leave when poll_head()[0] is readable), joins it, and
  // closes the listening socket and the pipe. Idempotent.
  void stop();

  // The two pollfds every loop starts with: [0] the wake pipe, [1] the listening socket.
  std::vector<pollfd> poll_head() const;
  // Every connection waiting to be accepted (non-blocking, close-on-exec fds).
  std::vector<int> accept_all();

private:
  std::string m_owner;
  std::string m_address;
  std::uint16_t m_port = 0;
  int m_listen_fd = -1;
  int m_wake[2] = {-1, -1};
  std::thread m_thread;
  std::atomic<int> m_accepted{0};
};

} // namespace edgeshake::testing
