// handshake::RunLimits::shared: several handshake::start runs on one loop share
// one connection budget (global and per address), as scan's sites do. Against
// a real silent TCP server, which counts the connections it accepted.
#include "handshake/handshake.hpp"
#include "tests/support/raw_server.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <gtest/gtest.h>

using namespace edgeshake;
using namespace edgeshake::testing;

namespace {

std::vector<handshake::ProbeSpec> specs(const RawServer& server, int n) {
  std::vector<handshake::ProbeSpec> out;
  for (int i = 0; i < n; ++i) {
    handshake::ProbeSpec s;
    s.label = "p" + std::to_string(i);
    s.target = Endpoint{server.address(), server.port()};
    s.timeout = std::chrono::milliseconds(400);
    out.push_back(s);
  }
  return out;
}

TEST(SharedBudget, PerAddressCapHoldsAcrossRuns) {
  RawServer silent(RawMode::silent);
  asio::io_context io;
  auto budget = handshake::make_shared_budget(8, 2);
  handshake::RunLimits limits;
  limits.max_in_flight = 8;
  limits.max_per_address = 8; // each run alone would open 5 at once
  limits.shared = budget;
  int done = 0;
  std::size_t results = 0;
  for (int run = 0; run < 2; ++run) {
    handshake::start(io, specs(silent, 5), limits, [&](std::vector<handshake::ProbeResult> r) {
      ++done;
      results += r.size();
      for (const auto& p : r)
        EXPECT_EQ(p.status, handshake::ProbeStatus::handshake_timeout) << p.reason;
    });
  }
  // Half-way through the first wave: only the budget's 2 connections are open.
  int accepted_mid = -1;
  asio::steady_timer t(io, std::chrono::milliseconds(250));
  t.async_wait([&](std::error_code) { accepted_mid = silent.accepted(); });
  const auto start = std::chrono::steady_clock::now();
  io.run();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(done, 2);
  EXPECT_EQ(results, 10u);
  EXPECT_EQ(accepted_mid, 2);
  EXPECT_EQ(silent.accepted(), 10);
  // 10 probes, 2 at a time, 400 ms each: 5 waves.
  EXPECT_GE(took, std::chrono::milliseconds(1900));
}

TEST(SharedBudget, GlobalCapAcrossAddresses) {
  RawServer a(RawMode::silent, "127.0.0.1");
  RawServer b(RawMode::silent, "127.0.0.2");
  asio::io_context io;
  handshake::RunLimits limits;
  limits.shared = handshake::make_shared_budget(3, 16);
  int done = 0;
  handshake::start(io, specs(a, 4), limits, [&](auto) { ++done; });
  handshake::start(io, specs(b, 4), limits, [&](auto) { ++done; });
  int mid = -1;
  asio::steady_timer t(io, std::chrono::milliseconds(250));
  t.async_wait([&](std::error_code) { mid = a.accepted() + b.accepted(); });
  io.run();
  EXPECT_EQ(done, 2);
  EXPECT_EQ(mid, 3);
  EXPECT_EQ(a.accepted() + b.accepted(), 8);
}

TEST(SharedBudget, WithoutASharedBudgetRunsAreIndependent) {
  RawServer silent(RawMode::silent);
  asio::io_context io;
  handshake::RunLimits limits;
  limits.max_per_address = 2;
  int done = 0;
  handshake::start(io, specs(silent, 3), limits, [&](auto) { ++done; });
  handshake::start(io, specs(silent, 3), limits, [&](auto) { ++done; });
  int mid = -1;
  asio::steady_timer t(io, std::chrono::milliseconds(250));
  t.async_wait([&](std::error_code) { mid = silent.accepted(); });
  io.run();
  EXPECT_EQ(done, 2);
  EXPECT_EQ(mid, 4); // 2 per run
}

} // namespace
