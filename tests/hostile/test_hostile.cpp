// Hostile servers: for every misbehaviour of HostileServer, both probe engines and
// the real `edgeshake diagnose` binary return a classified result within the
// timeout, with bounded memory, and a healthy target probed in the same run
// still completes.
#include "handshake/enumerate/enumerate.hpp"
#include "handshake/handshake.hpp"
#include "profiles/profiles.hpp"
#include "tests/support/certs.hpp"
#include "tests/support/hostile_server.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>

namespace edgeshake {
namespace {

using namespace std::chrono_literals;
using handshake::ProbeStatus;
using testing::HostileMode;
using testing::HostileServer;
namespace en = handshake::enumerate;
using Clock = std::chrono::steady_clock;

constexpr auto k_timeout = 2s;    // per probe / per connection / diagnose --timeout
constexpr auto k_margin = 1500ms; // scheduling slack on a loaded 2-core machine
// Peak memory budgets (KiB). ASan's shadow memory and quarantine multiply RSS
// (measured: diagnose 94-201 MiB, enumerate growth up to 137 MiB under ASan).
#if defined(__SANITIZE_ADDRESS__)
constexpr long k_budget_scale = 8;
#else
constexpr long k_budget_scale = 1;
#endif
constexpr long k_in_process_growth_kib = 64 * 1024 * k_budget_scale; // VmHWM growth, one run
constexpr long k_binary_peak_kib = 64 * 1024 * k_budget_scale; // max RSS of `edgeshake diagnose`

struct Row {
  HostileMode mode;
  std::set<ProbeStatus> openssl; // acceptable classifications by the OpenSSL engine
  std::set<en::EnumerateStatus> enumerate;
};

// What each misbehaviour must be classified as. "ok" is never acceptable.
const std::vector<Row>& rows() {
  using S = ProbeStatus;
  using E = en::EnumerateStatus;
  static const std::vector<Row> r = {
      {HostileMode::garbage, {S::not_tls}, {E::not_tls}},
      // OpenSSL waits for the whole 16 KiB record before it looks at the 16 MiB
      // message length, and the record never completes: a handshake timeout. The
      // enumerator calls a target that accepts connections but never completes an
      // answer "no_answer".
      {HostileMode::huge_length, {S::handshake_timeout}, {E::no_answer}},
      {HostileMode::huge_length_slow, {S::handshake_timeout}, {E::no_answer}},
      {HostileMode::truncated_hello, {S::eof}, {E::unreachable}},
      {HostileMode::unoffered_cipher, {S::protocol_error, S::tls_alert}, {E::complete}},
      {HostileMode::drip, {S::handshake_timeout}, {E::no_answer}},
      {HostileMode::alert_flood, {S::protocol_error, S::tls_alert}, {E::complete}},
      {HostileMode::reset_in_certificate, {S::reset, S::eof}, {E::complete}},
      {HostileMode::huge_chain, {S::protocol_error, S::tls_alert}, {E::complete}},
      {HostileMode::huge_san, {S::protocol_error, S::tls_alert}, {E::complete}},
      {HostileMode::ssh_banner, {S::not_tls}, {E::not_tls}},
      {HostileMode::smtp_banner, {S::not_tls}, {E::not_tls}},
      {HostileMode::http_banner, {S::not_tls}, {E::not_tls}},
      {HostileMode::immediate_close, {S::eof, S::reset}, {E::unreachable}},
  };
  return r;
}

// VmHWM / VmRSS of this process, KiB.
long proc_status_kib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0)
      return std::stol(line.substr(key.size() + 1));
  return -1;
}

// Lower the high-water mark to the current RSS so VmHWM measures this run only.
void reset_peak() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

std::string set_words(const std::set<ProbeStatus>& s) {
  std::string out;
  for (auto v : s)
    out += std::string(handshake::to_string(v)) + " ";
  return out;
}

profiles::Profile cloudflare() {
  auto p = profiles::find("cloudflare");
  EXPECT_TRUE(p.has_value());
  return p.value();
}

handshake::ProbeSpec spec_for(std::uint16_t port, const std::string& label) {
  const auto& c = testing::shared_catalogue();
  handshake::ProbeSpec s;
  s.label = label;
  s.target = {"127.0.0.1", port};
  s.host = c.host;
  s.sni = c.host;
  s.profile = cloudflare();
  s.trust_store = c.ca_file.string();
  s.timeout = k_timeout;
  return s;
}

void PrintTo(const Row& row, std::ostream* os) {
  *os << to_string(row.mode);
}

class Hostile : public ::testing::TestWithParam<Row> {};

TEST_P(Hostile, OpensslEngineClassifiesAndTheHealthyProbeOfTheSameRunCompletes) {
  ES_REQUIRE_PROGRAM("nginx");
  const Row& row = GetParam();
  const auto& c = testing::shared_catalogue();
  testing::NginxConfig cfg;
  cfg.servers.push_back(testing::NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  testing::NginxOrigin nginx(cfg);
  HostileServer server(row.mode);

  // The healthy target is listed between two hostile probes (one with HTTP).
  std::vector<handshake::ProbeSpec> specs;
  specs.push_back(spec_for(server.port(), "hostile"));
  specs.push_back(spec_for(nginx.port(), "healthy"));
  specs.push_back(spec_for(server.port(), "hostile/http"));
  specs.back().http = true;
  specs.push_back(spec_for(nginx.port(), "healthy/http"));
  specs.back().http = true;

  reset_peak();
  const long rss_before = proc_status_kib("VmRSS");
  const auto start = Clock::now();
  auto results = handshake::run(specs);
  const auto elapsed = Clock::now() - start;
  const long growth = proc_status_kib("VmHWM") - rss_before;

  EXPECT_LT(elapsed, k_timeout + k_margin);
  EXPECT_LT(growth, k_in_process_growth_kib) << "VmHWM grew by " << growth << " KiB";
  ASSERT_EQ(results.size(), specs.size());
  for (std::size_t i : {0u, 2u}) {
    const auto& r = results[i];
    EXPECT_TRUE(row.openssl.count(r.status))
        << to_string(row.mode) << ": got " << handshake::to_string(r.status) << " (" << r.reason
        << "), expected one of " << set_words(row.openssl);
    EXPECT_FALSE(r.reason.empty()) << "a failure carries a one-line reason";
    EXPECT_LE(r.timings.total, k_timeout + 500ms);
    // 256 raw bytes are kept; non-printable ones are escaped (up to 4 characters each).
    EXPECT_LE(r.first_bytes.size(), 4 * 256u);
    EXPECT_LE(r.error_queue.size(), 16u);
  }
  for (std::size_t i : {1u, 3u}) {
    EXPECT_EQ(results[i].status, ProbeStatus::ok) << results[i].reason;
  }
  EXPECT_EQ(results[3].http.code, 200);
  std::cout << "[hostile] " << to_string(row.mode)
            << " openssl: " << handshake::to_string(results[0].status) << " (" << results[0].reason
            << ") " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
            << " ms, VmHWM +" << growth << " KiB\n";
}

TEST_P(Hostile, EnumerateEngineClassifies) {
  const Row& row = GetParam();
  HostileServer server(row.mode);
  en::EnumerateSpec spec;
  spec.target = {"127.0.0.1", server.port()};
  spec.sni = "origin.test";
  spec.timeout = k_timeout;
  spec.max_connections = 8;

  reset_peak();
  const long rss_before = proc_status_kib("VmRSS");
  const auto start = Clock::now();
  auto r = en::run_enumerate(spec);
  const auto elapsed = Clock::now() - start;
  const long growth = proc_status_kib("VmHWM") - rss_before;

  EXPECT_TRUE(row.enumerate.count(r.status))
      << to_string(row.mode) << ": got " << en::to_string(r.status) << " (" << r.detail << ")";
  EXPECT_NE(r.status, en::EnumerateStatus::error) << r.detail;
  EXPECT_LT(growth, k_in_process_growth_kib) << "VmHWM grew by " << growth << " KiB";
  EXPECT_LE(r.peak_in_flight, 8u);
  // Every connection is bounded by the per-connection timeout; connections run
  // at most 8 at a time, so the whole run is bounded by rounds of the timeout.
  const auto rounds = (r.connections + 7) / 8;
  EXPECT_LT(elapsed, k_timeout * static_cast<long>(std::max<std::size_t>(rounds, 1)) + k_margin)
      << r.connections << " connections";
  EXPECT_LT(elapsed, 60s) << "the whole enumeration stays well inside the ctest timeout";
  std::chrono::milliseconds slowest{0};
  for (const auto& p : r.probes) {
    slowest = std::max(slowest, p.elapsed);
    EXPECT_LE(p.elapsed, k_timeout + 500ms) << p.purpose;
    EXPECT_NE(p.outcome, en::ProbeOutcome::network_error) << p.purpose << ": " << p.detail;
  }
  // Nothing that never sent a ServerHello is reported as supporting a version.
  const bool sends_hello =
      row.mode == HostileMode::huge_chain || row.mode == HostileMode::huge_san ||
      row.mode == HostileMode::reset_in_certificate || row.mode == HostileMode::unoffered_cipher;
  if (!sends_hello) {
    for (const auto& v : r.versions)
      EXPECT_NE(v.status, en::VersionStatus::supported) << to_string(v.version);
  }
  std::cout << "[hostile] " << to_string(row.mode) << " enumerate: " << en::to_string(r.status)
            << ", " << r.connections << " connections, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
            << " ms (slowest connection " << slowest.count() << " ms), VmHWM +" << growth
            << " KiB\n";
}

TEST_P(Hostile, DiagnoseBinaryReportsAFindingWithExitCode1) {
  ES_REQUIRE_PROGRAM("time");
  const Row& row = GetParam();
  HostileServer server(row.mode);
  testing::TempDir dir("edgeshake-hostile-diag");
  const auto time_file = dir / "maxrss";
  const auto start = Clock::now();
  auto res = testing::run_command({"/usr/bin/time", "-f", "%M", "-o", time_file.string(),
                                   EDGESHAKE_BINARY, "diagnose", "origin.test", "--origin",
                                   "127.0.0.1:" + std::to_string(server.port()), "--no-edge",
                                   "--cdn", "cloudflare", "--timeout", "2s", "--json"},
                                  60s);
  const auto elapsed = Clock::now() - start;
  ASSERT_LT(res.status, 128) << "crashed or killed:\n" << res.output;
  EXPECT_EQ(res.status, 1) << res.output;
  // diagnose runs its probes in phases; each phase is bounded by --timeout.
  EXPECT_LT(elapsed, 3 * k_timeout + k_margin);
  // GNU time writes "Command exited with non-zero status N" before the figure.
  std::string time_out = testing::read_file(time_file);
  while (!time_out.empty() && time_out.back() == '\n')
    time_out.pop_back();
  const long max_rss = std::stol(time_out.substr(time_out.find_last_of('\n') + 1));
  EXPECT_LT(max_rss, k_binary_peak_kib) << "max RSS " << max_rss << " KiB";

  auto brace = res.output.find('{');
  ASSERT_NE(brace, std::string::npos) << res.output;
  auto j = nlohmann::json::parse(res.output.substr(brace), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << res.output;
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["ok"], false);
  ASSERT_TRUE(j["findings"].is_array());
  ASSERT_FALSE(j["findings"].empty()) << j.dump(2);
  for (const auto& f : j["findings"])
    EXPECT_FALSE(f["id"].get<std::string>().empty());
  std::cout << "[hostile] " << to_string(row.mode) << " diagnose: finding "
            << j["findings"][0]["id"].get<std::string>() << ", "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
            << " ms, max RSS " << max_rss << " KiB\n";
}

std::string row_name(const ::testing::TestParamInfo<Row>& info) {
  return std::string(to_string(info.param.mode));
}

INSTANTIATE_TEST_SUITE_P(Modes, Hostile, ::testing::ValuesIn(rows()), row_name);

TEST(HostileServerFixture, EveryModeHasARowAndTheBigModesAreAsAdvertised) {
  EXPECT_EQ(rows().size(), testing::all_hostile_modes().size());
  for (auto m : testing::all_hostile_modes())
    EXPECT_TRUE(std::any_of(rows().begin(), rows().end(), [&](const Row& r) {
      return r.mode == m;
    })) << to_string(m);
  HostileServer chain(HostileMode::huge_chain);
  EXPECT_EQ(chain.certificate_count(), 200u);
  EXPECT_GT(chain.certificate_bytes(), 1900u * 1024);
  HostileServer san(HostileMode::huge_san);
  EXPECT_EQ(san.certificate_count(), 1u);
  EXPECT_GT(san.certificate_bytes(), 10000u * 20);
}

} // namespace
} // namespace edgeshake
