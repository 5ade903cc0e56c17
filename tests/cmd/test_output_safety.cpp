// Output safety (docs/guarantees.md, "Output safety and local faults"): the
// real binary with a closed or full stderr, a full stdout (/dev/full), a file
// size limit standing in for a full filesystem, and a reader that goes away.
#include "tests/cmd/spawn.hpp"
#include "tests/support/certs.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/process.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace edgeshake::testing;

namespace {

std::vector<std::string> edgeshake(std::vector<std::string> args) {
  args.insert(args.begin(), EDGESHAKE_BINARY);
  return args;
}

// `n` sites whose origin refuses at once (127.0.0.1:1): a scan that needs no server.
fs::path refused_targets(const TempDir& dir, int n) {
  std::string text;
  for (int i = 1; i <= n; ++i)
    text += "s" + std::to_string(i) + ".test 127.0.0.1:1\n";
  const auto path = dir / "targets.txt";
  write_file(path, text);
  return path;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// ---- 1. a closed or full stderr never aborts (it used to exit 134) ----

TEST(CliStderrClosed, UsageErrorKeepsItsExitCode) {
  TempDir dir;
  SpawnSpec s{edgeshake({"probe", "bad..name"}), (dir / "out").string(), std::nullopt};
  EXPECT_EQ(spawn_and_wait(s), 2);
  s.stderr_ = "/dev/full";
  EXPECT_EQ(spawn_and_wait(s), 2);
}

TEST(CliStderrClosed, ScanSummaryOnClosedStderrKeepsTheResults) {
  TempDir dir;
  SpawnSpec s{edgeshake({"scan", "--targets", refused_targets(dir, 3).string(), "--no-edge"}),
              (dir / "out").string(), std::nullopt};
  EXPECT_EQ(spawn_and_wait(s), 1); // every site would fail (connection refused)
  EXPECT_EQ(lines_of(read_file(dir / "out")).size(), 3u);
  s.stderr_ = "/dev/full";
  EXPECT_EQ(spawn_and_wait(s), 1);
}

// ---- 2. a write error on stdout: exit 3 and one line, never exit 0 ----

TEST(CliStdoutFull, ProfilesListToDevFullExits3) {
  TempDir dir;
  SpawnSpec s{edgeshake({"profiles", "list"}), "/dev/full", (dir / "err").string()};
  EXPECT_EQ(spawn_and_wait(s), 3);
  const auto err = read_file(dir / "err");
  EXPECT_EQ(err, "edgeshake: stdout: write error: No space left on device\n");
}

TEST(CliStdoutFull, HelpAndJsonToDevFullExit3) {
  TempDir dir;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"profiles", "show", "cloudflare", "--json"}}) {
    SpawnSpec s{edgeshake(args), "/dev/full", (dir / "err").string()};
    EXPECT_EQ(spawn_and_wait(s), 3) << args.front();
  }
}

TEST(CliStdoutFull, ScanToDevFullExits3AndCountsNothing) {
  TempDir dir;
  SpawnSpec s{edgeshake({"scan", "--targets", refused_targets(dir, 5).string(), "--no-edge",
                         "--json-lines", "--no-progress"}),
              "/dev/full", (dir / "err").string()};
  EXPECT_EQ(spawn_and_wait(s), 3);
  const auto err = read_file(dir / "err");
  EXPECT_NE(err.find("stdout: write error: No space left on device (0 records written"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("scan: 0 of 5 sites finished"), std::string::npos) << err;
}

// A full filesystem, as a 64 KiB file size limit (RLIMIT_FSIZE; writes past it
// fail with EFBIG): the file keeps whole lines only, the summary counts them,
// exit 3 (docs/fleet.md: scan-shard.sh then does not treat the shard as done).
TEST(CliStdoutFull, ScanOnAFullFilesystemKeepsWholeLinesAndSaysHowMany) {
  TempDir dir;
  const auto out = dir / "out.jsonl";
  SpawnSpec s{edgeshake({"scan", "--targets", refused_targets(dir, 200).string(), "--no-edge",
                         "--json-lines", "--no-progress"}),
              out.string(), (dir / "err").string()};
  s.max_file_size = 64 * 1024;
  EXPECT_EQ(spawn_and_wait(s), 3);
  const auto text = read_file(out);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "a cut line was left in the file";
  const auto lines = lines_of(text);
  for (const auto& line : lines)
    EXPECT_TRUE(nlohmann::json::accept(line)) << line.substr(0, 80);
  const auto err = read_file(dir / "err");
  EXPECT_NE(err.find("(" + std::to_string(lines.size()) + " records written"), std::string::npos)
      << err;
  EXPECT_NE(err.find("scan: " + std::to_string(lines.size()) + " of 200 sites finished"),
            std::string::npos)
      << err;
}

// A reader that goes away (`scan ... | head -c 1`): quiet, exit 3, no
// "internal error ... Broken pipe" (200 JSON lines are far more than a pipe holds).
TEST(CliStdoutClosedPipe, EndsQuietlyWithExit3) {
  TempDir dir;
  const auto script = std::string(EDGESHAKE_BINARY) + " scan --targets " +
                      refused_targets(dir, 200).string() +
                      " --no-edge --json-lines --no-progress 2>" + (dir / "err").string() +
                      " | head -c 1 >/dev/null; echo ${PIPESTATUS[0]} > " + (dir / "rc").string();
  SpawnSpec s{{"/bin/bash", "-c", script}, (dir / "o").string(), (dir / "e").string()};
  ASSERT_EQ(spawn_and_wait(s), 0);
  EXPECT_EQ(read_file(dir / "rc"), "3\n");
  const auto err = read_file(dir / "err");
  EXPECT_EQ(err.find("internal error"), std::string::npos) << err;
  EXPECT_EQ(err.find("Broken pipe"), std::string::npos) << err;
}

// diagnose or probe against 127.0.0.1:1 (nothing listens: any traffic would show).
std::vector<std::string> against_refusing_port(const std::string& command) {
  std::vector<std::string> args = {EDGESHAKE_BINARY, command};
  if (command == "diagnose")
    args.insert(args.end(), {"origin.test", "--origin", "127.0.0.1:1", "--no-edge"});
  else
    args.insert(args.end(), {"origin.test:1", "--connect", "127.0.0.1"});
  return args;
}

// ---- 5. local faults are not blamed on the origin: exit 2 before any traffic ----

TEST(CliLocalFaults, UnusableTrustStoreIsExit2NamingTheFile) {
  TempDir dir;
  const auto& c = shared_catalogue();
  write_file(dir / "empty.pem", "");
  write_file(dir / "binary.pem", std::string("\x00\xff\x13"
                                             "binary\x80",
                                             10));
  fs::create_directory(dir / "nohash");
  write_file(dir / "nohash" / "ca.pem", read_file(c.ca_file));
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  for (const std::string& store :
       {(dir / "empty.pem").string(), (dir / "binary.pem").string(), c.ca.key.string(),
        std::string("/dev/null"), (dir / "fifo").string(), (dir / "nohash").string()}) {
    for (const std::string command : {"diagnose", "probe"}) {
      auto args = against_refusing_port(command);
      args.insert(args.end(), {"--trust-store", store, "--deadline", "5s"});
      auto r = run_cli(args, dir.path());
      EXPECT_EQ(r.status, 2) << command << " " << store << ": " << r.out << r.err;
      EXPECT_NE(r.err.find("--trust-store"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(fs::path(store).filename().string()), std::string::npos) << r.err;
      EXPECT_TRUE(r.out.empty()) << r.out; // no verdict
    }
  }
}

TEST(CliLocalFaults, ClientKeyNotMatchingTheCertificateIsExit2) {
  TempDir dir;
  const auto& c = shared_catalogue();
  for (const std::string command : {"diagnose", "probe"}) {
    auto args = against_refusing_port(command);
    args.insert(args.end(), {"--client-cert", c.client.cert.string(), "--client-key",
                             c.leaf_ecdsa.key.string()});
    auto r = run_cli(args, dir.path());
    EXPECT_EQ(r.status, 2) << command << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("is not the private key of"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

// ---- 7. target lists: regular files only, bounded (no hang, no "internal error") ----

TEST(CliScanInput, DirectoryFifoAndDeviceListsAreExit2) {
  TempDir dir;
  fs::create_directory(dir / "adir");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  const auto good = refused_targets(dir, 1).string();
  for (const std::string& bad :
       {(dir / "adir").string(), (dir / "fifo").string(), std::string("/dev/zero")}) {
    for (const std::string flag : {"--targets", "--resume"}) {
      std::vector<std::string> args = {EDGESHAKE_BINARY, "scan", "--no-edge"};
      args.insert(args.end(), {"--targets", flag == "--targets" ? bad : good});
      if (flag == "--resume")
        args.insert(args.end(), {"--resume", bad});
      auto r = run_cli(args, dir.path(), "/dev/null", std::chrono::seconds(20));
      EXPECT_EQ(r.status, 2) << flag << " " << bad << ": " << r.err;
      EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    }
  }
}

} // namespace
