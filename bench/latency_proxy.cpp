// latency_proxy: a loopback-only TCP proxy that delays every byte by a fixed
// one-way delay in each direction (so --delay-ms 25 adds 50 ms of round-trip
// time) and counts the connections it accepts. For benchmarks only.
//
//   latency_proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:8443 --delay-ms 25
//                 [--connect-rtt] [--count-file FILE]
//
// Prints "listening <port>" on stdout once ready. A real link also makes the TCP
// handshake cost one round trip; the kernel completes the client's connect at
// once, so --connect-rtt holds the client's first bytes back one more round
// trip (request/response timing then matches a real link of that RTT).
// Refuses any listen or upstream address outside 127.0.0.0/8 and ::1.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  tcp::endpoint listen;
  tcp::endpoint upstream;
  std::chrono::milliseconds delay{0};
  bool connect_rtt = false;
  std::string count_file;
};

std::size_t g_accepted = 0;

bool loopback(const asio::ip::address& a) {
  return a.is_loopback();
}

bool parse_endpoint(std::string_view text, tcp::endpoint& out) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return false;
    host = std::string(text.substr(1, close - 1));
    port = std::string(text.substr(close + 2));
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return false;
    host = std::string(text.substr(0, colon));
    port = std::string(text.substr(colon + 1));
  }
  std::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec || port.empty() || port.size() > 5)
    return false;
  for (char c : port)
    if (c < '0' || c > '9')
      return false;
  const auto p = std::stoul(port);
  if (p > 65535)
    return false;
  out = tcp::endpoint(addr, static_cast<unsigned short>(p));
  return true;
}

// One direction: read chunks, release each `delay` after it arrived, in order.
awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to,
                     Options opt, bool first_extra) {
  struct Chunk {
    Clock::time_point due;
    std::vector<char> data;
  };
  auto queue = std::make_shared<std::deque<Chunk>>();
  auto signal =
      std::make_shared<asio::steady_timer>(from->get_executor(), Clock::time_point::max());
  auto reading_done = std::make_shared<bool>(false);
  auto ex = from->get_executor();

  // Writer: sends each chunk when it is due.
  asio::co_spawn(
      ex,
      [queue, signal, reading_done, to]() -> awaitable<void> {
        asio::steady_timer wait(to->get_executor());
        std::error_code ec;
        for (;;) {
          if (queue->empty()) {
            if (*reading_done)
              break;
            signal->expires_at(Clock::time_point::max());
            co_await signal->async_wait(asio::redirect_error(use_awaitable, ec));
            continue;
          }
          wait.expires_at(queue->front().due);
          co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
          auto chunk = std::move(queue->front());
          queue->pop_front();
          co_await asio::async_write(*to, asio::buffer(chunk.data),
                                     asio::redirect_error(use_awaitable, ec));
          if (ec)
            break;
        }
        std::error_code ignore;
        to->shutdown(tcp::socket::shutdown_send, ignore);
      },
      asio::detached);

  const auto start = Clock::now();
  std::vector<char> buf(65536);
  std::error_code ec;
  for (;;) {
    const auto n =
        co_await from->async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
    if (n > 0) {
      auto due = Clock::now() + opt.delay;
      if (first_extra && opt.connect_rtt)
        due = std::max(due, start + 3 * opt.delay); // the connect round trip, then one way
      queue->push_back({due, std::vector<char>(buf.begin(), buf.begin() + static_cast<long>(n))});
      signal->cancel();
    }
    if (ec)
      break;
  }
  *reading_done = true;
  signal->cancel();
}

awaitable<void> serve(tcp::socket client, Options opt) {
  auto c = std::make_shared<tcp::socket>(std::move(client));
  auto u = std::make_shared<tcp::socket>(c->get_executor());
  std::error_code ec;
  co_await u->async_connect(opt.upstream, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    c->close(ec);
    co_return;
  }
  c->set_option(tcp::no_delay(true), ec);
  u->set_option(tcp::no_delay(true), ec);
  asio::co_spawn(c->get_executor(), pump(c, u, opt, true), asio::detached);
  asio::co_spawn(c->get_executor(), pump(u, c, opt, false), asio::detached);
}

void write_count(const Options& opt) {
  if (opt.count_file.empty())
    return;
  std::ofstream f(opt.count_file, std::ios::trunc);
  f << g_accepted << "\n";
}

awaitable<void> accept_loop(tcp::acceptor& acceptor, Options opt) {
  for (;;) {
    std::error_code ec;
    auto s = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted)
        co_return;
      continue;
    }
    ++g_accepted;
    write_count(opt);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(s), opt), asio::detached);
  }
}

int usage(const char* why) {
  std::fprintf(stderr,
               "latency_proxy: %s\nusage: latency_proxy --listen IP:PORT --upstream IP:PORT "
               "[--delay-ms N] [--connect-rtt] [--count-file FILE]\n",
               why);
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  Options opt;
  bool have_listen = false, have_upstream = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--listen" || a == "--upstream") {
      const char* v = value();
      if (v == nullptr)
        return usage("missing value");
      auto& ep = a == "--listen" ? opt.listen : opt.upstream;
      if (!parse_endpoint(v, ep))
        return usage("bad address (IP:PORT or [IPv6]:PORT)");
      (a == "--listen" ? have_listen : have_upstream) = true;
    } else if (a == "--delay-ms") {
      const char* v = value();
      if (v == nullptr)
        return usage("missing value");
      char* end = nullptr;
      const long ms = std::strtol(v, &end, 10);
      if (*end != '\0' || ms < 0 || ms > 10000)
        return usage("--delay-ms must be 0..10000");
      opt.delay = std::chrono::milliseconds(ms);
    } else if (a == "--connect-rtt") {
      opt.connect_rtt = true;
    } else if (a == "--count-file") {
      const char* v = value();
      if (v == nullptr)
        return usage("missing value");
      opt.count_file = v;
    } else {
      return usage("unknown argument");
    }
  }
  if (!have_listen || !have_upstream)
    return usage("--listen and --upstream are required");
  if (!loopback(opt.listen.address()) || !loopback(opt.upstream.address()))
    return usage("refusing a non-loopback address: only 127.0.0.0/8 and ::1 are allowed");

  asio::io_context io;
  tcp::acceptor acceptor(io);
  std::error_code ec;
  acceptor.open(opt.listen.protocol(), ec);
  if (!ec)
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(opt.listen, ec);
  if (!ec)
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "latency_proxy: cannot listen: %s\n", ec.message().c_str());
    return 3;
  }
  write_count(opt);
  std::printf("listening %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) {
    acceptor.close(ec);
    io.stop();
  });
  asio::co_spawn(io, accept_loop(acceptor, opt), asio::detached);
  io.run();
  std::fprintf(stderr, "latency_proxy: %zu connections accepted\n", g_accepted);
  return 0;
}
