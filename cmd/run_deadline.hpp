// --deadline on a command's one event loop, and the "one run per probe" start
// that lets a deadline say which probes finished. Private to cmd/; it includes
// Asio, so only the command .cpp files that run a loop include it.
#pragma once

#include "handshake/handshake.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace edgeshake::cmd {

// When the deadline fires the loop stops and hit() turns true. No limit: never.
class RunDeadline {
public:
  RunDeadline(asio::io_context& io, std::optional<std::chrono::milliseconds> limit) : m_timer(io) {
    if (!limit)
      return;
    m_timer.expires_after(*limit);
    m_timer.async_wait([this, &io](std::error_code ec) {
      if (!ec) {
        m_hit = true;
        io.stop();
      }
    });
  }
  RunDeadline(const RunDeadline&) = delete;
  RunDeadline& operator=(const RunDeadline&) = delete;
  bool hit() const { return m_hit; }
  void cancel() { m_timer.cancel(); }

private:
  asio::steady_timer m_timer;
  bool m_hit = false;
};

// Starts every spec as its own run (all on one shared connection budget) and
// runs the loop until every probe has finished or the deadline stopped it.
// An entry is empty for a probe that did not finish.
inline std::vector<std::optional<handshake::ProbeResult>>
probe_each(asio::io_context& io, std::vector<handshake::ProbeSpec> specs, RunDeadline& deadline) {
  std::vector<std::optional<handshake::ProbeResult>> results(specs.size());
  std::size_t left = specs.size();
  handshake::RunLimits limits;
  limits.shared = handshake::make_shared_budget(limits.max_in_flight, limits.max_per_address);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    handshake::start(io, {std::move(specs[i])}, limits,
                     [&, i](std::vector<handshake::ProbeResult> r) {
                       results[i] = r.empty() ? handshake::ProbeResult{} : std::move(r.front());
                       if (--left == 0)
                         deadline.cancel(); // the loop ends with the last probe
                     });
  }
  if (left > 0)
    io.run();
  deadline.cancel();
  return results;
}

} // namespace edgeshake::cmd
