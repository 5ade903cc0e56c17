// compare and scan end to end: the real binary against real nginx backends
// (on 127.0.0.x addresses), dnsmasq and purpose-built silent servers on loopback.
#include "tests/support/certs.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/dnsmasq.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

using namespace edgeshake::testing;
using nlohmann::json;

namespace {

// The binary as a user runs it (tests/support/cli.hpp).
CliRun run(std::vector<std::string> args, const fs::path& dir, const fs::path& in = "/dev/null") {
  args.insert(args.begin(), EDGESHAKE_BINARY);
  return run_cli(args, dir, in);
}

bool has_finding(const json& site, const std::string& id) {
  for (const auto& f : site["findings"])
    if (f["id"] == id)
      return true;
  return false;
}

class Fleet : public ::testing::Test {
protected:
  void SetUp() override { ES_REQUIRE_PROGRAM("nginx"); }
  const CertCatalogue& c = shared_catalogue();
  TempDir dir{"edgeshake-fleet"};

  std::unique_ptr<NginxOrigin> backend(const std::string& address, std::uint16_t port,
                                       const IssuedCert& cert) {
    NginxConfig cfg;
    cfg.address = address;
    cfg.port = port;
    cfg.servers.push_back(NginxServer::tls(cert.chain, cert.key, {c.host}));
    return std::make_unique<NginxOrigin>(cfg);
  }
  IssuedCert expiring_in_4_days() {
    CertFactory f(dir.path());
    CertOptions o;
    o.common_name = c.host;
    o.dns_names = {c.host};
    o.not_after = std::chrono::hours(24 * 4 + 1);
    return f.issue(c.intermediate, "expiring", o);
  }
};

// ---- compare ----

TEST_F(Fleet, CompareNamesTheBackendWithTheExpiringCertificate) {
  const std::vector<std::string> addrs = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
  const auto port = common_port(addrs);
  auto soon = expiring_in_4_days();
  auto a = backend(addrs[0], port, c.leaf_ecdsa);
  auto b = backend(addrs[1], port, soon);
  auto d = backend(addrs[2], port, c.leaf_ecdsa);
  std::vector<std::string> targets;
  for (const auto& x : addrs)
    targets.push_back(x + ":" + std::to_string(port));
  std::vector<std::string> args = {"compare"};
  args.insert(args.end(), targets.begin(), targets.end());
  args.insert(args.end(),
              {"--sni", c.host, "--trust-store", c.ca_file.string(), "--timeout", "5s"});

  auto text = run(args, dir.path());
  EXPECT_EQ(text.status, 1) << text.out << text.err;
  EXPECT_NE(text.out.find("! expiry"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("! certificate"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(targets[1] + " serves a certificate that expires in 4 days"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("the other 2 serve one valid until"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\033'), std::string::npos) << "colour when not a terminal";

  args.push_back("--json");
  auto j = run(args, dir.path());
  ASSERT_EQ(j.status, 1) << j.out << j.err;
  auto doc = json::parse(j.out);
  EXPECT_EQ(doc["equivalent"], false);
  ASSERT_EQ(doc["targets"].size(), 3u);
  EXPECT_EQ(doc["targets"][1]["certificate"], soon.sha256);
  EXPECT_EQ(doc["targets"][0]["certificate"], c.leaf_ecdsa.sha256);
  std::set<std::string> cols;
  for (const auto& x : doc["differences"])
    cols.insert(x["column"]);
  EXPECT_TRUE(cols.count("expiry") && cols.count("certificate")) << doc["differences"].dump(2);
  EXPECT_FALSE(cols.count("handshake") || cols.count("version") || cols.count("verification"))
      << doc["differences"].dump(2);
}

TEST_F(Fleet, CompareIdenticalBackendsIsEquivalent) {
  const std::vector<std::string> addrs = {"127.0.0.2", "127.0.0.3"};
  const auto port = common_port(addrs);
  auto a = backend(addrs[0], port, c.leaf_ecdsa);
  auto b = backend(addrs[1], port, c.leaf_ecdsa);
  auto r =
      run({"compare", addrs[0] + ":" + std::to_string(port), addrs[1] + ":" + std::to_string(port),
           "--sni", c.host, "--trust-store", c.ca_file.string(), "--json"},
          dir.path());
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto doc = json::parse(r.out);
  EXPECT_EQ(doc["equivalent"], true);
  EXPECT_TRUE(doc["differences"].empty()) << doc["differences"].dump(2);
  EXPECT_EQ(doc["targets"][0]["verification"], "ok");
  EXPECT_EQ(doc["targets"][0]["handshake"], "ok");
  EXPECT_EQ(doc["targets"][0]["chain"], "2");
}

// --profile picks the ClientHello every backend gets: a TLS 1.3-only backend
// passes with Cloudflare's (TLS 1.0-1.3) and fails with CloudFront's (up to 1.2).
TEST_F(Fleet, CompareUsesTheChosenProfilesHello) {
  const std::vector<std::string> addrs = {"127.0.0.2", "127.0.0.3"};
  const auto port = common_port(addrs);
  auto modern = backend(addrs[0], port, c.leaf_ecdsa);
  NginxConfig only13;
  only13.address = addrs[1];
  only13.port = port;
  only13.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  only13.protocols = {"TLSv1.3"};
  NginxOrigin tls13(only13);
  std::vector<std::string> args = {"compare",
                                   addrs[0] + ":" + std::to_string(port),
                                   addrs[1] + ":" + std::to_string(port),
                                   "--sni",
                                   c.host,
                                   "--trust-store",
                                   c.ca_file.string(),
                                   "--json",
                                   "--profile"};
  auto with = [&](const std::string& profile) {
    auto a = args;
    a.push_back(profile);
    auto r = run(a, dir.path());
    auto doc = json::parse(r.out.empty() ? "{}" : r.out);
    doc["exit"] = r.status;
    return doc;
  };
  auto cloudflare = with("cloudflare");
  EXPECT_EQ(cloudflare["exit"], 0) << cloudflare.dump(2);
  EXPECT_EQ(cloudflare["profile"], "cloudflare");
  EXPECT_EQ(cloudflare["equivalent"], true) << cloudflare["differences"].dump(2);
  auto cloudfront = with("cloudfront");
  EXPECT_EQ(cloudfront["exit"], 1) << cloudfront.dump(2);
  EXPECT_EQ(cloudfront["profile"], "cloudfront");
  EXPECT_EQ(cloudfront["equivalent"], false);
  ASSERT_EQ(cloudfront["targets"].size(), 2u);
  EXPECT_EQ(cloudfront["targets"][0]["handshake"], "ok");
  EXPECT_EQ(cloudfront["targets"][0]["version"], "TLSv1.2");
  EXPECT_NE(cloudfront["targets"][1]["handshake"], "ok") << cloudfront["targets"][1].dump(2);
  std::set<std::string> cols;
  for (const auto& x : cloudfront["differences"])
    cols.insert(x["column"]);
  EXPECT_TRUE(cols.count("handshake")) << cloudfront["differences"].dump(2);
  EXPECT_EQ(with("no-such-profile")["exit"], 2);
}

TEST_F(Fleet, CompareAllAddressesOfOneNameViaDns) {
  ES_REQUIRE_PROGRAM("dnsmasq");
  const std::vector<std::string> addrs = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
  const auto port = common_port(addrs);
  auto a = backend(addrs[0], port, c.leaf_ecdsa);
  auto b = backend(addrs[1], port, c.leaf_ecdsa);
  auto d = backend(addrs[2], port, c.self_signed);
  Dnsmasq dns("origin.test A 127.0.0.2\norigin.test A 127.0.0.3\norigin.test A 127.0.0.4\n");
  auto r = run({"compare", "origin.test:" + std::to_string(port), "--all-addresses", "--resolver",
                dns.server(), "--trust-store", c.ca_file.string(), "--json"},
               dir.path());
  ASSERT_EQ(r.status, 1) << r.out << r.err;
  auto doc = json::parse(r.out);
  ASSERT_EQ(doc["targets"].size(), 3u) << r.out;
  std::set<std::string> seen;
  for (const auto& t : doc["targets"]) {
    seen.insert(t["target"].get<std::string>());
    EXPECT_EQ(t["name"], "origin.test");
  }
  for (const auto& x : addrs)
    EXPECT_TRUE(seen.count(x + ":" + std::to_string(port))) << x;
  std::string verification_summary;
  for (const auto& x : doc["differences"])
    if (x["column"] == "verification")
      verification_summary = x["summary"];
  EXPECT_NE(verification_summary.find("127.0.0.4:" + std::to_string(port)), std::string::npos)
      << doc["differences"].dump(2);
}

TEST_F(Fleet, CompareUsageErrors) {
  EXPECT_EQ(run({"compare", "127.0.0.1:1"}, dir.path()).status, 2);
  auto r = run({"compare", "127.0.0.1:1", "not a host!"}, dir.path());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("not a host!"), std::string::npos) << r.err;
}

// ---- scan ----

class Scan : public Fleet {
protected:
  std::vector<std::string> scan_args(const fs::path& targets) const {
    return {"scan",       "--targets",     targets.string(),   "--cdn",
            "cloudflare", "--trust-store", c.ca_file.string(), "--timeout",
            "3s",         "--json-lines",  "--no-progress"};
  }
};

TEST_F(Scan, MixedFleetOneObjectPerSiteAndSummary) {
  NginxConfig good_cfg;
  good_cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin good(good_cfg);
  NginxConfig expired_cfg;
  expired_cfg.servers.push_back(NginxServer::tls(c.expired.chain, c.expired.key, {c.host}));
  NginxOrigin expired(expired_cfg);
  const auto refused = free_tcp_port();
  const auto targets = dir / "targets.txt";
  write_file(targets, "origin.test 127.0.0.1:" + std::to_string(good.port()) + "\n# comment\n\n" +
                          "origin.test 127.0.0.1:" + std::to_string(expired.port()) + "\n" +
                          "third.test 127.0.0.1:" + std::to_string(refused) +
                          "   # nothing listens\n");
  auto r = run(scan_args(targets), dir.path());
  EXPECT_EQ(r.status, 1) << r.err;
  auto sites = json_lines(r.out);
  ASSERT_EQ(sites.size(), 3u) << r.out << r.err;
  std::map<int, json> by_line;
  for (auto& s : sites)
    by_line[s["scan"]["line"].get<int>()] = s;
  ASSERT_TRUE(by_line.count(1) && by_line.count(4) && by_line.count(5)) << r.out;
  EXPECT_EQ(by_line[1]["ok"], true) << by_line[1].dump(2);
  EXPECT_EQ(by_line[1]["command"], "diagnose");
  EXPECT_EQ(by_line[1]["scan"]["key"], "origin.test 127.0.0.1:" + std::to_string(good.port()));
  EXPECT_EQ(by_line[4]["ok"], false);
  EXPECT_TRUE(has_finding(by_line[4], "cert_expired")) << by_line[4]["findings"].dump(2);
  EXPECT_TRUE(has_finding(by_line[5], "connection_refused")) << by_line[5]["findings"].dump(2);
  EXPECT_NE(r.err.find("ok            1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("would fail    2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cert_expired"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("connection_refused"), std::string::npos) << r.err;

  // Resume: the three finished sites are skipped; only the new line runs.
  write_file(dir / "first.jsonl", r.out);
  NginxOrigin good2(good_cfg);
  write_file(targets,
             read_file(targets) + "origin.test 127.0.0.1:" + std::to_string(good2.port()) + "\n");
  auto args = scan_args(targets);
  args.insert(args.end(), {"--resume", (dir / "first.jsonl").string()});
  auto again = run(args, dir.path());
  auto more = json_lines(again.out);
  ASSERT_EQ(more.size(), 1u) << again.out << again.err;
  EXPECT_EQ(more[0]["scan"]["line"], 6);
  EXPECT_EQ(more[0]["ok"], true);
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("3 skipped"), std::string::npos) << again.err;
}

TEST_F(Scan, TargetsFromStdinAndTextOutput) {
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin good(cfg);
  write_file(dir / "in.txt", "origin.test 127.0.0.1:" + std::to_string(good.port()) + "\n");
  auto r = run({"scan", "--targets", "-", "--cdn", "cloudflare", "--trust-store",
                c.ca_file.string(), "--no-progress"},
               dir.path(), dir / "in.txt");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1\torigin.test 127.0.0.1:" + std::to_string(good.port()) + "\tok"),
            std::string::npos)
      << r.out;
}

TEST_F(Scan, InterruptPrintsTheSummaryOfFinishedSites) {
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin good(cfg);
  RawServer silent(RawMode::silent);
  std::string list = "origin.test 127.0.0.1:" + std::to_string(good.port()) + "\n";
  for (int i = 0; i < 40; ++i)
    list += "site" + std::to_string(i) + ".test 127.0.0.1:" + std::to_string(silent.port()) + "\n";
  write_file(dir / "targets.txt", list);
  auto args = scan_args(dir / "targets.txt");
  args.insert(args.end(), {"--concurrency", "2"});
  args.insert(args.begin(), EDGESHAKE_BINARY);
  Child child(args, dir / "out", dir / "err");
  // Wait until the healthy site is written (it is first), then interrupt.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (read_file(dir / "out").find('\n') == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_NE(read_file(dir / "out").find('\n'), std::string::npos) << read_file(dir / "err");
  const auto sent = std::chrono::steady_clock::now();
  child.signal(SIGINT);
  const int status = child.wait(20s);
  const auto took = std::chrono::steady_clock::now() - sent;
  EXPECT_EQ(status, 3) << read_file(dir / "err");
  EXPECT_LT(took, 8s) << "in-flight sites are bounded by --timeout 3s";
  auto sites = json_lines(read_file(dir / "out"));
  EXPECT_GE(sites.size(), 1u);
  EXPECT_LT(sites.size(), 41u);
  const auto err = read_file(dir / "err");
  EXPECT_NE(err.find("interrupted"), std::string::npos) << err;
  EXPECT_NE(err.find(std::to_string(sites.size()) + " of 41 sites finished"), std::string::npos)
      << err;
}

// Scan starts only the sites its connection budget needs (max_sites_in_flight:
// 1 site at --concurrency 1, 2 at --concurrency 4 --per-address 4), so a site's
// elapsed_ms is its own probes' time, not time spent queued behind other sites'
// probes. Then the sites' elapsed times add up to at most (sites in flight) x
// the scan's wall time; a scan that started every site at once would have 16
// sites overlapping for most of the run.
TEST_F(Scan, OnlyTheSitesTheBudgetNeedsAreInFlight) {
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin good(cfg);
  std::string list;
  for (int i = 0; i < 16; ++i)
    list += "site" + std::to_string(i) + ".test 127.0.0.1:" + std::to_string(good.port()) + "\n";
  write_file(dir / "targets.txt", list);
  for (const auto& [concurrency, sites_in_flight] : {std::pair{"1", 1}, std::pair{"4", 2}}) {
    SCOPED_TRACE(std::string("--concurrency ") + concurrency);
    auto args = scan_args(dir / "targets.txt");
    args.insert(args.end(), {"--concurrency", concurrency, "--per-address", concurrency});
    const auto start = std::chrono::steady_clock::now();
    auto r = run(args, dir.path());
    const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    EXPECT_EQ(r.status, 1) << r.err; // the names do not match the certificate
    auto sites = json_lines(r.out);
    ASSERT_EQ(sites.size(), 16u) << r.out << r.err;
    long long elapsed_sum = 0;
    for (const auto& site : sites) {
      ASSERT_TRUE(site.contains("elapsed_ms")) << site.dump();
      EXPECT_EQ(site["probes"].size(), 16u); // 13 + one wire probe per hello + one in one segment
      elapsed_sum += site["elapsed_ms"].get<long long>();
    }
    EXPECT_LE(elapsed_sum, sites_in_flight * wall_ms)
        << "sites overlapped more than " << sites_in_flight << " at a time";
  }
}

// What a scan writes on stderr when stderr is a terminal (a pseudo-terminal
// here): the progress line, redrawn every 500 ms, with the rate and the ETA;
// then the line is erased and the summary follows. Not on a file, not with
// --no-progress.
TEST_F(Scan, ProgressLineOnlyOnATerminal) {
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin good(cfg);
  RawServer silent(RawMode::silent); // its sites take --timeout: the scan lasts > 1 s
  std::string list;
  for (int i = 0; i < 3; ++i)
    list += "good" + std::to_string(i) + ".test 127.0.0.1:" + std::to_string(good.port()) + "\n";
  for (int i = 0; i < 2; ++i)
    list += "slow" + std::to_string(i) + ".test 127.0.0.1:" + std::to_string(silent.port()) + "\n";
  write_file(dir / "targets.txt", list);
  auto args = scan_args(dir / "targets.txt");
  args.erase(std::find(args.begin(), args.end(), "--no-progress"));
  *(std::find(args.begin(), args.end(), "3s")) = "800ms"; // --timeout
  args.insert(args.begin(), EDGESHAKE_BINARY);

  // stderr on a terminal: everything the scan writes there, read as it comes.
  auto on_terminal = [&](std::vector<std::string> argv) {
    int master = -1, slave = -1;
    char name[256] = {};
    std::string seen;
    if (openpty(&master, &slave, name, nullptr, nullptr) != 0) {
      ADD_FAILURE() << "openpty: " << std::strerror(errno);
      return seen;
    }
    {
      Child child(argv, dir / "out", name);
      close(slave); // the child has its own; EOF on the master once it exits
      int status = -1;
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{master, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
          char buf[4096];
          const ssize_t n = read(master, buf, sizeof buf);
          if (n > 0)
            seen.append(buf, static_cast<std::size_t>(n));
        }
        if ((status = child.wait(0ms)) >= 0)
          break;
      }
      EXPECT_EQ(status, 1) << seen; // the silent sites would fail
    }
    pollfd p{master, POLLIN, 0};
    char buf[4096];
    ssize_t n = 0;
    while (poll(&p, 1, 0) > 0 && (n = read(master, buf, sizeof buf)) > 0)
      seen.append(buf, static_cast<std::size_t>(n));
    close(master);
    return seen;
  };

  const std::string tty = on_terminal(args);
  EXPECT_NE(tty.find("/5] "), std::string::npos) << tty; // [finished/total]
  EXPECT_NE(tty.find("\r\033[K["), std::string::npos) << tty;
  EXPECT_NE(tty.find("sites/s, ETA "), std::string::npos) << tty;
  EXPECT_NE(tty.find(" in flight, "), std::string::npos) << tty;
  // Erased before the summary, which ends the output.
  const auto summary = tty.find("scan: 5 of 5 sites finished");
  ASSERT_NE(summary, std::string::npos) << tty;
  EXPECT_EQ(tty.rfind("\033[K", summary), summary - 3) << tty;
  EXPECT_EQ(json_lines(read_file(dir / "out")).size(), 5u);

  auto quiet = args;
  quiet.push_back("--no-progress");
  const std::string no_progress = on_terminal(quiet);
  EXPECT_EQ(no_progress.find("sites/s, ETA"), std::string::npos) << no_progress;
  EXPECT_NE(no_progress.find("scan: 5 of 5 sites finished"), std::string::npos) << no_progress;

  args.erase(args.begin()); // run() adds the binary
  auto to_file = run(args, dir.path());
  EXPECT_EQ(to_file.status, 1) << to_file.err;
  EXPECT_EQ(to_file.err.find("sites/s, ETA"), std::string::npos) << to_file.err;
  EXPECT_EQ(to_file.err.find('\033'), std::string::npos) << to_file.err;
  EXPECT_NE(to_file.err.find("scan: 5 of 5 sites finished"), std::string::npos) << to_file.err;
}

TEST_F(Scan, BadTargetFilesAreUsageErrorsWithTheLineNumber) {
  write_file(dir / "bad.txt", "ok.test 127.0.0.1:443\n\nbad.test one two\n");
  auto r = run(scan_args(dir / "bad.txt"), dir.path());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("bad.txt:3:"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << "nothing scanned: " << r.out;
  write_file(dir / "empty.txt", "# nothing\n");
  EXPECT_EQ(run(scan_args(dir / "empty.txt"), dir.path()).status, 2);
  EXPECT_EQ(run(scan_args(dir / "missing.txt"), dir.path()).status, 2);
}

} // namespace
