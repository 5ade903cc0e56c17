// libes_loopback_bind.so: an LD_PRELOAD shim for servers that cannot be told
// which address to listen on. gnutls-serv binds the wildcard addresses
// (getaddrinfo(NULL, port, AI_PASSIVE): 0.0.0.0 and ::) and has no option to
// change that; under this shim a bind() to 0.0.0.0 becomes a bind() to
// 127.0.0.1, and a bind() to :: fails with EADDRNOTAVAIL (gnutls-serv then
// prints "bind() failed" for IPv6 and serves on IPv4 loopback only). Every
// other bind() is passed through unchanged. Used by GnutlsServer
// (gnutls_server.cpp); built without the sanitizers, since it is loaded into
// programs that are not built with them.
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

extern "C" int bind(int fd, const sockaddr* addr, socklen_t len) {
  using BindFn = int (*)(int, const sockaddr*, socklen_t);
  static const auto real_bind = reinterpret_cast<BindFn>(::dlsym(RTLD_NEXT, "bind"));
  if (!real_bind) {
    errno = ENOSYS;
    return -1;
  }
  if (addr && addr->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in sa{};
    std::memcpy(&sa, addr, sizeof sa);
    if (sa.sin_addr.s_addr == htonl(INADDR_ANY)) {
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      return real_bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    }
  }
  if (addr && addr->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 sa{};
    std::memcpy(&sa, addr, sizeof sa);
    if (IN6_IS_ADDR_UNSPECIFIED(&sa.sin6_addr)) {
      errno = EADDRNOTAVAIL;
      return -1;
    }
  }
  return real_bind(fd, addr, len);
}
