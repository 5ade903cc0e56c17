#include "tests/support/listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace edgeshake::testing {

LoopbackListener::LoopbackListener(std::string owner, std::string address)
    : m_owner(std::move(owner)), m_address(std::move(address)) {
  const bool v6 = m_address.find(':') != std::string::npos;
  sockaddr_storage ss{};
  socklen_t ss_len = 0;
  if (v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, m_address.c_str(), &sa->sin6_addr) != 1)
      throw std::runtime_error(m_owner + ": not an IPv6 address: " + m_address);
    ss_len = sizeof(sockaddr_in6);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    if (::inet_pton(AF_INET, m_address.c_str(), &sa->sin_addr) != 1)
      throw std::runtime_error(m_owner + ": not an IPv4 address: " + m_address);
    ss_len = sizeof(sockaddr_in);
  }
  m_listen_fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m_listen_fd < 0)
    throw std::runtime_error(m_owner + ": socket failed");
  int one = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = ss_len;
  if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&ss), ss_len) != 0 ||
      ::listen(m_listen_fd, 512) != 0 ||
      ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(m_listen_fd);
    throw std::runtime_error(m_owner + ": bind/listen failed on " + m_address + ": " + why);
  }
  m_port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (::pipe2(m_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(m_listen_fd);
    throw std::runtime_error(m_owner + ": pipe failed");
  }
}

LoopbackListener::~LoopbackListener() {
  stop();
}

void LoopbackListener::start(std::function<void()> loop) {
  if (!m_thread.joinable() && m_listen_fd >= 0)
    m_thread = std::thread(std::move(loop));
}

void LoopbackListener::stop() {
  if (m_thread.joinable()) {
    char c = 'x';
    [[maybe_unused]] auto n = ::write(m_wake[1], &c, 1);
    m_thread.join();
  }
  for (int* fd : {&m_listen_fd, &m_wake[0], &m_wake[1]}) {
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
  }
}

std::vector<pollfd> LoopbackListener::poll_head() const {
  return {{m_wake[0], POLLIN, 0}, {m_listen_fd, POLLIN, 0}};
}

std::vector<int> LoopbackListener::accept_all() {
  std::vector<int> out;
  for (;;) {
    int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      break;
    ++m_accepted;
    out.push_back(fd);
  }
  return out;
}

} // namespace edgeshake::testing
