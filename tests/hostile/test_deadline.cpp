// --deadline against real slow servers: the hostile server's drip mode (one byte
// per second, forever), a silent DNS server, and healthy nginx origins in the
// same run. Every networked command must stop at its deadline (well before
// --timeout), name what was unfinished, report what finished, and exit 3.
// Timing bounds are generous upper limits (no sleeps); a hang fails through
// run_command's own 60 s limit.
#include "tests/support/certs.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/dnsmasq.hpp"
#include "tests/support/hostile_server.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/process.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace edgeshake {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using testing::HostileMode;
using testing::HostileServer;

// Upper bound for a run whose deadline is 1-2 s (process start, ASan, a loaded
// 2-core machine); every --timeout below is 30 s, so reaching it means the
// deadline did not work.
constexpr auto k_bound = 6s;

using testing::CliRun;
using testing::json_lines;

// The binary with stdout and stderr apart; killed (and failed) after 60 s.
CliRun run(std::vector<std::string> args, const fs::path& dir) {
  args.insert(args.begin(), EDGESHAKE_BINARY);
  return testing::run_cli(args, dir, "/dev/null", 60s);
}

std::string at(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in:\n" << text;
}

class Deadline : public ::testing::Test {
protected:
  const testing::CertCatalogue& c = testing::shared_catalogue();
  testing::TempDir dir{"edgeshake-deadline"};

  std::unique_ptr<testing::NginxOrigin> nginx() {
    testing::NginxConfig cfg;
    cfg.servers.push_back(
        testing::NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
    return std::make_unique<testing::NginxOrigin>(cfg);
  }
  // The run ended with exit 3 (incomplete) within k_bound, and not before
  // `at_least` (the deadline, less scheduling slack) when that is given.
  void expect_stopped(const char* what, const CliRun& r, std::chrono::milliseconds at_least = 0ms) {
    SCOPED_TRACE(what);
    std::cout << "[deadline] " << what << ": exit " << r.status << " after " << r.took.count()
              << " ms\n";
    EXPECT_EQ(r.status, 3) << r.err;
    if (at_least > 0ms) {
      EXPECT_GE(r.took, at_least);
    }
    EXPECT_LT(r.took, k_bound);
  }
};

TEST_F(Deadline, DiagnoseAgainstADripOriginStopsAtOneSecond) {
  HostileServer drip(HostileMode::drip);
  auto r = run({"diagnose", c.host, "--origin", at(drip.port()), "--no-edge", "--cdn", "cloudflare",
                "--timeout", "30s", "--deadline", "1s"},
               dir.path());
  expect_stopped("diagnose, drip origin, --deadline 1s", r, 900ms);
  // One line: where, the budget, the stage, and how many probes were left.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_contains(r.err, "edgeshake: --deadline: deadline of 1s reached while probing: ");
  expect_contains(r.err, " probes unfinished: ");
  expect_contains(r.err, at(drip.port()));
  EXPECT_GE(drip.accepted(), 1);
}

TEST_F(Deadline, DiagnoseNamesOnlyTheProbesThatDidNotFinish) {
  ES_REQUIRE_PROGRAM("nginx");
  auto good = nginx();
  HostileServer drip(HostileMode::drip);
  auto r = run({"diagnose", c.host, "--origin", at(good->port()), "--origin", at(drip.port()),
                "--no-edge", "--cdn", "cloudflare", "--trust-store", c.ca_file.string(),
                "--timeout", "30s", "--deadline", "2s"},
               dir.path());
  expect_stopped("diagnose, nginx + drip origins, --deadline 2s", r);
  expect_contains(r.err, "deadline of 2s reached while probing");
  expect_contains(r.err, at(drip.port()));
  // The healthy origin's probes finished: it is not among the unfinished.
  EXPECT_EQ(r.err.find(at(good->port())), std::string::npos) << r.err;
}

TEST_F(Deadline, DiagnoseWithinTheDeadlineIsUnchanged) {
  ES_REQUIRE_PROGRAM("nginx");
  auto good = nginx();
  auto r =
      run({"diagnose", c.host, "--origin", at(good->port()), "--no-edge", "--cdn", "cloudflare",
           "--trust-store", c.ca_file.string(), "--timeout", "5s", "--deadline", "20s", "--json"},
          dir.path());
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  auto j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(r.err, "");
}

TEST_F(Deadline, ProbeReportsFinishedAddressesAndNamesTheRest) {
  HostileServer drip(HostileMode::drip);
  auto r =
      run({"probe", at(drip.port()), "--timeout", "30s", "--deadline", "1s", "--json"}, dir.path());
  expect_stopped("probe, drip, --deadline 1s", r, 900ms);
  auto j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["verdict"], "deadline_exceeded");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_TRUE(j["probes"].empty()) << j.dump(2);
  // The OpenSSL probe and one wire probe per hello the edge may send.
  const auto hellos = j["profile"]["hellos"].size();
  ASSERT_EQ(j["unfinished"].size(), 1u + hellos) << j.dump(2);
  std::set<std::string> unfinished(j["unfinished"].begin(), j["unfinished"].end());
  EXPECT_TRUE(unfinished.count("probe/" + at(drip.port()))) << j.dump(2);
  expect_contains(r.err, fmt::format("deadline of 1s reached while probing: {0} of {0} probes "
                                     "unfinished",
                                     1 + hellos));
}

TEST_F(Deadline, EnumerateAgainstADripServerStops) {
  HostileServer drip(HostileMode::drip);
  auto r = run({"enumerate", at(drip.port()), "--timeout", "30s", "--deadline", "1s"}, dir.path());
  expect_stopped("enumerate, drip, --deadline 1s", r, 900ms);
  expect_contains(r.err, "deadline of 1s reached while enumerating " + at(drip.port()));
}

TEST_F(Deadline, CompareShowsTheBackendsThatFinished) {
  ES_REQUIRE_PROGRAM("nginx");
  auto good = nginx();
  auto good2 = nginx();
  HostileServer drip(HostileMode::drip);
  auto r =
      run({"compare", at(good->port()), at(good2->port()), at(drip.port()), "--sni", c.host,
           "--trust-store", c.ca_file.string(), "--timeout", "30s", "--deadline", "2s", "--json"},
          dir.path());
  expect_stopped("compare, 2 nginx + drip, --deadline 2s", r);
  auto j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  ASSERT_EQ(j["targets"].size(), 2u) << j.dump(2);
  EXPECT_EQ(j["exit_code"], 3);
  // Per backend: primary and no_sni, and a wire probe per hello (classical,
  // post_quantum); the drip backend's four are unfinished.
  expect_contains(r.err, "deadline of 2s reached while probing: 4 of 12 probes unfinished");
  expect_contains(r.err, at(drip.port()));
}

TEST_F(Deadline, ResolveAgainstASilentServerStops) {
  testing::SilentUdpPort silent;
  auto r = run({"resolve", "plain.example.test", "--resolver", silent.server(), "--timeout", "5s",
                "--tries", "3", "--deadline", "1s"},
               dir.path());
  expect_stopped("resolve, silent DNS (5s x 3 tries), --deadline 1s", r, 900ms);
  expect_contains(r.err, "deadline of 1s reached while resolving: 1 of 1 lookups unfinished: "
                         "plain.example.test");
}

TEST_F(Deadline, DiagnoseNamesTheLookupsWhenDnsIsSlow) {
  testing::SilentUdpPort silent;
  auto r = run({"diagnose", "www.example.test", "--origin", "origin.example.test:8443", "--no-edge",
                "--resolver", silent.server(), "--timeout", "30s", "--deadline", "1s"},
               dir.path());
  expect_stopped("diagnose, silent DNS, --deadline 1s", r);
  expect_contains(r.err, "deadline of 1s reached while resolving: 1 of 1 DNS lookups unfinished: "
                         "origin.example.test");
}

TEST_F(Deadline, ScanReportsFinishedSitesAndMarksTheRest) {
  ES_REQUIRE_PROGRAM("nginx");
  auto good = nginx();
  auto good2 = nginx();
  HostileServer drip(HostileMode::drip);
  HostileServer drip2(HostileMode::drip);
  const auto targets = dir / "targets.txt";
  testing::write_file(targets, "fast.test " + at(good->port()) + "\n" + "slow.test " +
                                   at(drip.port()) + "\n" + "fast2.test " + at(good2->port()) +
                                   "\n" + "slow2.test " + at(drip2.port()) + "\n");
  std::vector<std::string> args = {"scan", "--targets", targets.string(), "--cdn", "cloudflare",
                                   "--trust-store", c.ca_file.string(), "--timeout", "30s",
                                   "--deadline", "2s", "--json-lines", "--no-progress",
                                   // Room for every site's probes at once (all four sites are
                                   // on 127.0.0.1): the nginx sites must not queue behind the
                                   // drip sites' 16 held connections each.
                                   "--per-address", "64"};
  auto r = run(args, dir.path());
  expect_stopped("scan, 2 nginx + 2 drip sites, --deadline 2s", r);
  auto sites = json_lines(r.out);
  ASSERT_EQ(sites.size(), 4u) << r.out << r.err;
  std::map<int, json> by_line;
  for (auto& s : sites)
    by_line[s["scan"]["line"].get<int>()] = s;
  // The nginx sites finished and are reported as usual (their own certificate
  // is for origin.test, so they are diagnosed, not marked).
  for (int line : {1, 3})
    EXPECT_TRUE(by_line[line].contains("findings")) << by_line[line].dump(2);
  // The drip sites are marked: an error at --deadline (docs/scan.schema.json's
  // error_site), exit_code 3.
  for (int line : {2, 4}) {
    EXPECT_EQ(by_line[line]["ok"], false) << by_line[line].dump(2);
    EXPECT_EQ(by_line[line]["exit_code"], 3);
    EXPECT_EQ(by_line[line]["error"]["kind"], "runtime");
    EXPECT_EQ(by_line[line]["error"]["where"], "--deadline");
    EXPECT_EQ(by_line[line]["error"]["message"],
              "deadline of 2s reached before this site finished (in flight)");
  }
  expect_contains(r.err, "scan: --deadline: deadline of 2s reached (2 in flight, 0 not started): "
                         "2 of 4 sites unfinished");
  expect_contains(r.err, "2 of 4 sites finished (deadline reached: 2 unfinished)");

  // --resume retries the sites the deadline stopped, and only those.
  testing::write_file(dir / "first.jsonl", r.out);
  args.insert(args.end(), {"--resume", (dir / "first.jsonl").string()});
  auto again = run(args, dir.path());
  EXPECT_EQ(again.status, 3) << again.err;
  expect_contains(again.err, "2 skipped");
  auto retried = json_lines(again.out);
  ASSERT_EQ(retried.size(), 2u) << again.out;
  for (const auto& s : retried)
    EXPECT_EQ(s["error"]["where"], "--deadline") << s.dump(2);
}

TEST_F(Deadline, ScanMarksSitesThatNeverStarted) {
  ES_REQUIRE_PROGRAM("nginx");
  auto good = nginx();
  HostileServer drip(HostileMode::drip);
  const auto targets = dir / "targets.txt";
  testing::write_file(targets,
                      "slow.test " + at(drip.port()) + "\nfast.test " + at(good->port()) + "\n");
  auto r = run({"scan", "--targets", targets.string(), "--cdn", "cloudflare", "--trust-store",
                c.ca_file.string(), "--timeout", "30s", "--deadline", "1s", "--concurrency", "1",
                "--no-progress"},
               dir.path());
  expect_stopped("scan --concurrency 1, drip first, --deadline 1s", r);
  expect_contains(r.out, "1\tslow.test " + at(drip.port()) +
                             "\tdeadline_exceeded: deadline of 1s "
                             "reached before this site finished (in flight)");
  expect_contains(r.out, "2\tfast.test " + at(good->port()) +
                             "\tdeadline_exceeded: deadline of "
                             "1s reached before this site finished (not started)");
  expect_contains(r.err, "(1 in flight, 1 not started)");
}

TEST_F(Deadline, BadValuesAreUsageErrors) {
  for (const char* cmd : {"diagnose", "probe", "compare", "enumerate", "resolve"}) {
    std::vector<std::string> args = {cmd, "127.0.0.1:1"};
    if (std::string(cmd) == "compare")
      args.push_back("127.0.0.1:2");
    args.insert(args.end(), {"--deadline", "soon"});
    auto r = run(args, dir.path());
    EXPECT_EQ(r.status, 2) << cmd << ": " << r.err;
    expect_contains(r.err, "--deadline");
  }
  const auto targets = dir / "t.txt";
  testing::write_file(targets, "a.test\n");
  auto r = run({"scan", "--targets", targets.string(), "--deadline", "-1s"}, dir.path());
  EXPECT_EQ(r.status, 2) << r.err;
  expect_contains(r.err, "--deadline");
}

} // namespace
} // namespace edgeshake
