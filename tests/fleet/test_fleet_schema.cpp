// docs/compare.schema.json and docs/scan.schema.json held to the real binary's
// output: `edgeshake compare --json` and `edgeshake scan --json-lines` against
// nginx backends, refused ports, a plain-HTTP server and dnsmasq on loopback.
// Every object is validated; tampered copies must be rejected (so a schema that
// accepts anything fails here). The sharding and merging commands of
// docs/fleet.md ("Beyond one machine") run here on real scan output too.
#include "tests/support/certs.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/dnsmasq.hpp"
#include "tests/support/json_schema.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace edgeshake::testing;
using nlohmann::json;

namespace {

const json& compare_schema() {
  static const json s = load_json_file(EDGESHAKE_SOURCE_DIR "/docs/compare.schema.json");
  return s;
}

const json& scan_schema() {
  static const json s = load_json_file(EDGESHAKE_SOURCE_DIR "/docs/scan.schema.json");
  return s;
}

std::string problems_text(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems)
    out += "\n  " + p;
  return out;
}

using Run = CliRun;

Run run_argv(const std::vector<std::string>& argv, const fs::path& dir,
             const fs::path& in = "/dev/null") {
  return run_cli(argv, dir, in);
}

Run edgeshake(std::vector<std::string> args, const fs::path& dir,
              const fs::path& in = "/dev/null") {
  args.insert(args.begin(), EDGESHAKE_BINARY);
  return run_argv(args, dir, in);
}

// A shell pipeline (the documented commands), with edgeshake on PATH.
Run shell(const std::string& script, const fs::path& dir) {
  const std::string path = fs::path(EDGESHAKE_BINARY).parent_path().string() + ":" +
                           (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  return run_argv(
      {"/usr/bin/env", "PATH=" + path, "/bin/sh", "-c", "cd '" + dir.string() + "' && " + script},
      dir);
}

// The schema checks every line of scan output.
void expect_valid_lines(const std::vector<json>& sites) {
  for (const auto& s : sites) {
    auto problems = check_schema(scan_schema(), s);
    EXPECT_TRUE(problems.empty()) << s.dump().substr(0, 400) << problems_text(problems);
  }
}

// ---- the schema files themselves ----

TEST(FleetSchemaFiles, UseOnlyKeywordsTheCheckerEnforces) {
  for (const char* name : {"compare", "scan", "diagnose"}) {
    const auto schema =
        load_json_file(std::string(EDGESHAKE_SOURCE_DIR "/docs/") + name + ".schema.json");
    auto unknown = unsupported_keywords(schema);
    EXPECT_TRUE(unknown.empty()) << name << problems_text(unknown);
  }
}

TEST(FleetSchemaFiles, ProbeDefinitionsAreTheSameInBothSchemas) {
  for (const char* def : {"probe", "certificate", "timestamp"}) {
    ASSERT_TRUE(compare_schema()["$defs"].contains(def)) << def;
    EXPECT_EQ(compare_schema()["$defs"][def], scan_schema()["$defs"][def])
        << def << " differs between docs/compare.schema.json and docs/scan.schema.json";
  }
}

// The keywords added to the checker for these schemas, on small documents.
TEST(FleetSchemaFiles, CheckerEnforcesTheKeywordsTheSchemasUse) {
  const json s = json::parse(R"({
    "type": "object", "additionalProperties": false, "required": ["a", "b"],
    "properties": {
      "a": {"$ref": "#/$defs/small"},
      "b": {"oneOf": [{"type": "null"}, {"type": "string", "pattern": "^x+$"}]},
      "c": {"const": 1},
      "d": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "integer"}},
      "e": {"type": "object", "additionalProperties": {"type": "string"},
            "patternProperties": {"^n_": {"type": "integer"}}},
      "f": {"anyOf": [{"type": "string", "minLength": 2}, {"type": "integer"}]}
    },
    "$defs": {"small": {"type": "integer", "minimum": 0, "maximum": 9}}
  })");
  EXPECT_TRUE(unsupported_keywords(s).empty());
  EXPECT_TRUE(check_schema(s, json::parse(R"({"a": 3, "b": null})")).empty());
  EXPECT_TRUE(check_schema(s, json::parse(R"({"a": 0, "b": "xx", "c": 1, "d": [1, 2],
                                      "e": {"n_1": 1, "other": "s"}, "f": "ab"})"))
                  .empty());
  for (const char* bad : {
           R"({"a": 3})",                               // required
           R"({"a": 3, "b": null, "z": 1})",            // additionalProperties false
           R"({"a": 10, "b": null})",                   // $ref -> maximum
           R"({"a": -1, "b": null})",                   // $ref -> minimum
           R"({"a": 1, "b": "xy"})",                    // oneOf: pattern
           R"({"a": 1, "b": 5})",                       // oneOf: no branch
           R"({"a": 1, "b": null, "c": 2})",            // const
           R"({"a": 1, "b": null, "d": []})",           // minItems
           R"({"a": 1, "b": null, "d": [1,2,3]})",      // maxItems
           R"({"a": 1, "b": null, "e": {"n_1": "s"}})", // patternProperties
           R"({"a": 1, "b": null, "e": {"x": 1}})",     // additionalProperties schema
           R"({"a": 1, "b": null, "f": "a"})",          // anyOf: minLength
       }) {
    EXPECT_FALSE(check_schema(s, json::parse(bad)).empty()) << bad;
  }
  // oneOf with two matching branches is a violation.
  const json two = json::parse(R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})");
  EXPECT_FALSE(check_schema(two, json(3)).empty());
  EXPECT_TRUE(check_schema(two, json(3.5)).empty());
  // A keyword the checker does not know is reported, not silently ignored.
  EXPECT_EQ(unsupported_keywords(json::parse(R"({"properties": {"a": {"format": "date"}}})")),
            std::vector<std::string>{"#/properties/a: format"});
}

// ---- compare ----

class CompareSchema : public ::testing::Test {
protected:
  void SetUp() override { ES_REQUIRE_PROGRAM("nginx"); }
  const CertCatalogue& c = shared_catalogue();
  TempDir dir{"edgeshake-fleet-schema"};

  std::unique_ptr<NginxOrigin>
  backend(const std::string& address, std::uint16_t port, const IssuedCert& cert,
          std::vector<std::string> protocols = {"TLSv1.2", "TLSv1.3"}) {
    NginxConfig cfg;
    cfg.address = address;
    cfg.port = port;
    cfg.protocols = std::move(protocols);
    cfg.servers.push_back(NginxServer::tls(cert.chain, cert.key, {c.host}));
    return std::make_unique<NginxOrigin>(cfg);
  }

  // Runs compare --json, validates the document, and checks what the schema
  // cannot say: exit_code agrees with equivalent, columns[].differs agrees with
  // differences[].
  json compare_json(const std::vector<std::string>& targets, std::vector<std::string> extra,
                    int expected_exit) {
    std::vector<std::string> args = {"compare"};
    args.insert(args.end(), targets.begin(), targets.end());
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--timeout", "3s", "--json"});
    auto r = edgeshake(args, dir.path());
    EXPECT_EQ(r.status, expected_exit) << r.out << r.err;
    json doc = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(doc.is_object()) << r.out << r.err;
    if (!doc.is_object())
      return doc;
    auto problems = check_schema(compare_schema(), doc);
    EXPECT_TRUE(problems.empty()) << doc.dump(2).substr(0, 3000) << problems_text(problems);
    EXPECT_EQ(doc["exit_code"], r.status);
    if (r.status != 3) {
      EXPECT_EQ(doc["equivalent"], r.status == 0);
    }
    std::set<std::string> differing;
    for (const auto& d : doc["differences"])
      differing.insert(d["column"].get<std::string>());
    for (const auto& col : doc["columns"])
      EXPECT_EQ(col["differs"].get<bool>(), differing.count(col["name"].get<std::string>()) > 0)
          << col.dump();
    EXPECT_EQ(doc["targets"].size(), targets.size()) << "one row per target (no --all-addresses)";
    return doc;
  }

  // Tampered copies of a valid document must each be rejected.
  void expect_tampering_rejected(const json& doc) {
    ASSERT_TRUE(check_schema(compare_schema(), doc).empty());
    auto rejected = [&](const std::string& what, auto&& change) {
      json t = doc;
      change(t);
      EXPECT_FALSE(check_schema(compare_schema(), t).empty()) << what;
    };
    rejected("missing equivalent", [](json& t) { t.erase("equivalent"); });
    rejected("unknown top-level member", [](json& t) { t["extra"] = 1; });
    rejected("schema_version 2", [](json& t) { t["schema_version"] = 2; });
    rejected("exit_code 2", [](json& t) { t["exit_code"] = 2; });
    rejected("chain as a number", [](json& t) { t["targets"][0]["chain"] = 2; });
    rejected("unknown handshake", [](json& t) { t["targets"][0]["handshake"] = "fine"; });
    rejected("probe status outside the enum",
             [](json& t) { t["targets"][0]["probes"]["primary"]["status"] = "timeout"; });
    rejected("probe without tls",
             [](json& t) { t["targets"][0]["probes"]["primary"].erase("tls"); });
    rejected("unknown column", [](json& t) { t["columns"][0]["name"] = "colour"; });
    rejected("a resolved target with no probe",
             [](json& t) { t["targets"][0]["probes"]["primary"] = nullptr; });
    rejected("short fingerprint", [](json& t) {
      t["targets"][0]["probes"]["primary"]["chain"] =
          json::array({t["targets"][0]["probes"]["primary"]["chain"].empty()
                           ? json::object()
                           : t["targets"][0]["probes"]["primary"]["chain"][0]});
      t["targets"][0]["probes"]["primary"]["chain"][0]["sha256"] = "AB:CD";
    });
  }
};

TEST_F(CompareSchema, EquivalentBackends) {
  const std::vector<std::string> addrs = {"127.0.0.2", "127.0.0.3"};
  const auto port = common_port(addrs);
  auto a = backend(addrs[0], port, c.leaf_ecdsa);
  auto b = backend(addrs[1], port, c.leaf_ecdsa);
  const auto p = ":" + std::to_string(port);
  auto doc = compare_json({addrs[0] + p, addrs[1] + p},
                          {"--sni", c.host, "--trust-store", c.ca_file.string()}, 0);
  ASSERT_TRUE(doc.is_object());
  EXPECT_TRUE(doc["differences"].empty());
  for (const auto& t : doc["targets"]) {
    EXPECT_EQ(t["handshake"], "ok");
    EXPECT_EQ(t["certificate"], c.leaf_ecdsa.sha256);
    EXPECT_TRUE(t["probes"]["no_sni"].is_object()) << "SNI sent: the no-SNI probe runs";
  }
  expect_tampering_rejected(doc);
}

TEST_F(CompareSchema, DifferingBackends) {
  // Another certificate, TLS 1.2 only, and a backend that requires SNI.
  const std::vector<std::string> addrs = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
  const auto port = common_port(addrs);
  auto a = backend(addrs[0], port, c.leaf_ecdsa);
  auto b = backend(addrs[1], port, c.leaf_rsa, {"TLSv1.2"});
  NginxConfig cfg;
  cfg.address = addrs[2];
  cfg.port = port;
  cfg.servers.push_back(NginxServer::rejecting_default());
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin sni_required(cfg);
  const auto p = ":" + std::to_string(port);
  auto doc = compare_json({addrs[0] + p, addrs[1] + p, addrs[2] + p},
                          {"--sni", c.host, "--trust-store", c.ca_file.string()}, 1);
  ASSERT_TRUE(doc.is_object());
  std::set<std::string> cols;
  for (const auto& d : doc["differences"])
    cols.insert(d["column"].get<std::string>());
  EXPECT_TRUE(cols.count("version") && cols.count("certificate") && cols.count("sni"))
      << doc["differences"].dump(2);
  EXPECT_EQ(doc["targets"][1]["version"], "TLSv1.2");
  EXPECT_EQ(doc["targets"][2]["sni"].get<std::string>().rfind("required (alert 112", 0), 0u)
      << doc["targets"][2]["sni"];
  expect_tampering_rejected(doc);
}

TEST_F(CompareSchema, UnreachableAndNotTlsBackends) {
  // An IP target without --sni: no SNI sent, so no no_sni probe (null).
  auto good = backend("127.0.0.1", 0, c.leaf_ecdsa);
  const auto closed = free_tcp_port();
  RawServer http(RawMode::http_reply);
  auto doc = compare_json({"127.0.0.1:" + std::to_string(good->port()),
                           "127.0.0.1:" + std::to_string(closed),
                           "127.0.0.1:" + std::to_string(http.port())},
                          {"--trust-store", c.ca_file.string()}, 1);
  ASSERT_TRUE(doc.is_object());
  ASSERT_EQ(doc["targets"].size(), 3u);
  EXPECT_EQ(doc["targets"][0]["sni"], "not sent");
  EXPECT_TRUE(doc["targets"][0]["probes"]["no_sni"].is_null());
  EXPECT_EQ(doc["targets"][1]["handshake"], "tcp_refused");
  EXPECT_EQ(doc["targets"][1]["not_after"], nullptr);
  EXPECT_EQ(doc["targets"][2]["handshake"], "not_tls");
  EXPECT_TRUE(doc["targets"][2]["probes"]["primary"]["first_bytes"].is_string());
  expect_tampering_rejected(doc);
}

TEST_F(CompareSchema, UnresolvableName) {
  ES_REQUIRE_PROGRAM("dnsmasq");
  auto good = backend("127.0.0.1", 0, c.leaf_ecdsa);
  Dnsmasq dns("origin.test A 127.0.0.1\n");
  const auto p = ":" + std::to_string(good->port());
  auto doc = compare_json({"origin.test" + p, "gone.test" + p},
                          {"--resolver", dns.server(), "--trust-store", c.ca_file.string()}, 3);
  ASSERT_TRUE(doc.is_object());
  ASSERT_EQ(doc["targets"].size(), 2u);
  EXPECT_EQ(doc["targets"][0]["handshake"], "ok");
  EXPECT_EQ(doc["targets"][0]["verification"], "ok");
  const auto& gone = doc["targets"][1];
  EXPECT_EQ(gone["handshake"], "unresolved (nxdomain)");
  EXPECT_EQ(gone["resolve_error"], "nxdomain");
  EXPECT_TRUE(gone["probes"]["primary"].is_null());
  // The unresolved row is its own variant: a probe on it, or a non-"-" column, is rejected.
  json t = doc;
  t["targets"][1]["version"] = "TLSv1.3";
  EXPECT_FALSE(check_schema(compare_schema(), t).empty());
  t = doc;
  t["targets"][1]["probes"]["primary"] = doc["targets"][0]["probes"]["primary"];
  EXPECT_FALSE(check_schema(compare_schema(), t).empty());
  expect_tampering_rejected(doc);
}

// --deadline stops compare with the backends that finished: the JSON (exit_code 3)
// lists only those, and still matches the schema.
TEST_F(CompareSchema, DeadlineShowsTheBackendsThatFinished) {
  auto good = backend("127.0.0.1", 0, c.leaf_ecdsa);
  RawServer silent(RawMode::silent);
  auto r = edgeshake({"compare", "127.0.0.1:" + std::to_string(good->port()),
                      "127.0.0.1:" + std::to_string(silent.port()), "--trust-store",
                      c.ca_file.string(), "--timeout", "10s", "--deadline", "1s", "--json"},
                     dir.path());
  EXPECT_EQ(r.status, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("deadline"), std::string::npos) << r.err;
  auto doc = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.out << r.err;
  auto problems = check_schema(compare_schema(), doc);
  EXPECT_TRUE(problems.empty()) << doc.dump(2).substr(0, 3000) << problems_text(problems);
  EXPECT_EQ(doc["exit_code"], 3);
  ASSERT_EQ(doc["targets"].size(), 1u) << "the silent backend did not finish";
  EXPECT_EQ(doc["targets"][0]["handshake"], "ok");
}

// ---- scan ----

class ScanSchema : public CompareSchema {
protected:
  std::vector<std::string> scan_args(const std::string& targets,
                                     const std::string& timeout = "3s") const {
    return {"scan",          "--targets",        targets,     "--cdn", "cloudflare",
            "--trust-store", c.ca_file.string(), "--timeout", timeout, "--json-lines",
            "--no-progress"};
  }
};

// Error-site and diagnosed-site objects must not be mistaken for each other.
void expect_scan_tampering_rejected(const json& site) {
  ASSERT_TRUE(check_schema(scan_schema(), site).empty());
  auto rejected = [&](const std::string& what, auto&& change) {
    json t = site;
    change(t);
    EXPECT_FALSE(check_schema(scan_schema(), t).empty()) << what << ": " << t.dump().substr(0, 300);
  };
  rejected("no scan member", [](json& t) { t.erase("scan"); });
  rejected("scan.line 0", [](json& t) { t["scan"]["line"] = 0; });
  rejected("scan.key missing", [](json& t) { t["scan"].erase("key"); });
  rejected("unknown member", [](json& t) { t["progress"] = 0.5; });
  rejected("command scan", [](json& t) { t["command"] = "scan"; });
  if (site.contains("error")) {
    rejected("error without kind", [](json& t) { t["error"].erase("kind"); });
    rejected("error kind outside the enum", [](json& t) { t["error"]["kind"] = "dns"; });
    rejected("ok true with an error", [](json& t) { t["ok"] = true; });
    rejected("error and probes", [](json& t) { t["probes"] = json::array(); });
  } else {
    rejected("ok disagrees with exit_code", [](json& t) { t["ok"] = !t["ok"].get<bool>(); });
    rejected("severity outside the enum", [](json& t) {
      t["findings"].push_back({{"id", "x"},
                               {"severity", "fatal"},
                               {"target", "edge"},
                               {"summary", "s"},
                               {"explanation", ""},
                               {"predicted", json::array()},
                               {"evidence", json::array()},
                               {"fixes", json::array()}});
    });
    rejected("probe without status", [](json& t) { t["probes"][0].erase("status"); });
    rejected("both an error and a diagnosis", [](json& t) {
      t["error"] = {{"kind", "runtime"}, {"message", "x"}, {"where", ""}};
    });
  }
}

TEST_F(ScanSchema, EveryLineOfAMixedFleet) {
  ES_REQUIRE_PROGRAM("dnsmasq");
  NginxConfig good_cfg;
  good_cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin good(good_cfg);
  NginxConfig expired_cfg;
  expired_cfg.servers.push_back(NginxServer::tls(c.expired.chain, c.expired.key, {c.host}));
  NginxOrigin expired(expired_cfg);
  NginxConfig wrong_cfg;
  wrong_cfg.servers.push_back(NginxServer::tls(c.wrong_host.chain, c.wrong_host.key, {c.host}));
  NginxOrigin wrong_host(wrong_cfg);
  RawServer http(RawMode::http_reply);
  const auto refused = free_tcp_port();
  // own.test resolves to loopback (its own origin); gone.test does not exist.
  Dnsmasq dns("own.test A 127.0.0.1\n");
  auto at = [](std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); };
  const std::string list = "origin.test " + at(good.port()) + "\n" +       // 1 healthy
                           "origin.test " + at(expired.port()) + "\n" +    // 2 expired
                           "origin.test " + at(wrong_host.port()) + "\n" + // 3 wrong name
                           "refused.test " + at(refused) + "\n" +          // 4 refused
                           "plain.test " + at(http.port()) + "\n" +        // 5 not TLS
                           "own.test\n" +                                  // 6 HOST alone
                           "gone.test\n";                                  // 7 nxdomain
  write_file(dir / "targets.txt", list);
  auto args = scan_args((dir / "targets.txt").string());
  args.insert(args.end(), {"--resolver", dns.server()});
  auto r = edgeshake(args, dir.path());
  EXPECT_EQ(r.status, 1) << r.err;
  auto sites = json_lines(r.out);
  ASSERT_EQ(sites.size(), 7u) << r.out << r.err;
  expect_valid_lines(sites);
  std::map<int, json> by_line;
  for (auto& s : sites)
    by_line[s["scan"]["line"].get<int>()] = s;
  ASSERT_EQ(by_line.size(), 7u);
  EXPECT_EQ(by_line[1]["ok"], true) << by_line[1]["findings"].dump(2);
  for (int line : {2, 3, 4, 5})
    EXPECT_EQ(by_line[line]["ok"], false) << line;
  EXPECT_FALSE(by_line[6].contains("error")) << by_line[6].dump(2);
  EXPECT_EQ(by_line[6]["scan"]["origin"], "");
  ASSERT_TRUE(by_line[7].contains("error")) << by_line[7].dump(2);
  EXPECT_EQ(by_line[7]["exit_code"], 3);
  EXPECT_NE(by_line[7]["error"]["message"].get<std::string>().find("nxdomain"), std::string::npos)
      << by_line[7].dump(2);
  expect_scan_tampering_rejected(by_line[1]); // healthy
  expect_scan_tampering_rejected(by_line[2]); // failing
  expect_scan_tampering_rejected(by_line[7]); // error
}

TEST_F(ScanSchema, InterruptedAndResumedOutputStaysValid) {
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin good(cfg);
  RawServer silent(RawMode::silent);
  std::string list = "origin.test 127.0.0.1:" + std::to_string(good.port()) + "\n";
  for (int i = 0; i < 3; ++i)
    list += "site" + std::to_string(i) + ".test 127.0.0.1:" + std::to_string(silent.port()) + "\n";
  write_file(dir / "targets.txt", list);
  const auto args = scan_args((dir / "targets.txt").string(), "1s");
  {
    Child child(
        [&] {
          std::vector<std::string> v = {EDGESHAKE_BINARY};
          v.insert(v.end(), args.begin(), args.end());
          v.insert(v.end(), {"--concurrency", "2"});
          return v;
        }(),
        dir / "out.jsonl", dir / "err1");
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (read_file(dir / "out.jsonl").find('\n') == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    child.signal(SIGINT);
    EXPECT_EQ(child.wait(20s), 3) << read_file(dir / "err1");
  }
  const auto first = json_lines(read_file(dir / "out.jsonl"));
  ASSERT_GE(first.size(), 1u);
  ASSERT_LT(first.size(), 4u) << "interrupted before the end";
  expect_valid_lines(first);

  // The restarted-pod idiom of docs/fleet.md: resume from the file, append to it.
  auto resume = args;
  resume.insert(resume.end(), {"--concurrency", "16", "--resume", "out.jsonl"});
  std::string cmd = "edgeshake";
  for (const auto& a : resume)
    cmd += " '" + a + "'";
  auto r = shell(cmd + " >> out.jsonl", dir.path());
  EXPECT_EQ(r.status, 1) << r.err << "(the silent sites time out: would fail)";
  const auto all = json_lines(read_file(dir / "out.jsonl"));
  expect_valid_lines(all);
  std::multiset<std::string> keys;
  for (const auto& s : all)
    keys.insert(s["scan"]["key"].get<std::string>());
  EXPECT_EQ(keys.size(), 4u) << read_file(dir / "out.jsonl").substr(0, 2000);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 4u) << "no site twice";
}

// The script of docs/fleet.md ("Beyond one machine"), as written there.
std::string shard_script_from_docs() {
  const std::string doc = read_file(EDGESHAKE_SOURCE_DIR "/docs/fleet.md");
  const std::string open = "```sh\n#!/bin/sh\n# scan-shard.sh";
  auto begin = doc.find(open);
  if (begin == std::string::npos)
    return {};
  begin += 6; // past "```sh\n"
  auto end = doc.find("\n```", begin);
  return end == std::string::npos ? std::string() : doc.substr(begin, end - begin + 1);
}

struct Lines {
  std::vector<json> objects; // the lines that parse as JSON
  int bad = 0;               // the lines that do not (partial writes)
};
Lines read_lines(const fs::path& file) {
  Lines out;
  std::istringstream in(read_file(file));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded())
      ++out.bad;
    else
      out.objects.push_back(std::move(j));
  }
  return out;
}

std::multiset<std::string> keys_of(const std::vector<json>& sites) {
  std::multiset<std::string> keys;
  for (const auto& s : sites)
    keys.insert(s["scan"]["key"].get<std::string>());
  return keys;
}

// --deadline: every unfinished site gets a placeholder line (an error at
// --deadline); --resume retries those, so the file then holds the placeholder and
// the real line of each site. Both validate; the documented jq filter keeps one
// line per site.
TEST_F(ScanSchema, DeadlinePlaceholdersValidateAndAreSuperseded) {
  // First a silent server on the sites' port, so that no site can finish before
  // the 1 ms deadline (against nginx, a loaded machine could see one finish
  // first); then nginx on the same port for the resumed run.
  auto silent = std::make_unique<RawServer>(RawMode::silent);
  const auto port = silent->port();
  const auto at = " 127.0.0.1:" + std::to_string(port) + "\n";
  write_file(dir / "sites.txt", "origin.test" + at + "a.test" + at + "b.test" + at);
  std::string cmd = "edgeshake";
  for (const auto& a : scan_args("sites.txt"))
    cmd += " '" + a + "'";
  auto first = shell(cmd + " --deadline 1ms > all.jsonl", dir.path());
  silent.reset();
  NginxConfig cfg;
  cfg.port = port;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin good(cfg);
  EXPECT_EQ(first.status, 3) << first.err;
  auto lines = read_lines(dir / "all.jsonl");
  ASSERT_EQ(lines.objects.size(), 3u) << first.err;
  expect_valid_lines(lines.objects);
  for (const auto& l : lines.objects) {
    EXPECT_EQ(l.value("/error/where"_json_pointer, std::string()), "--deadline") << l.dump();
    EXPECT_EQ(l["exit_code"], 3);
  }
  expect_scan_tampering_rejected(lines.objects.front());

  auto resumed = shell(cmd + " --resume all.jsonl >> all.jsonl", dir.path());
  EXPECT_EQ(resumed.status, 1) << resumed.err << "(a.test, b.test: hostname_mismatch)";
  lines = read_lines(dir / "all.jsonl");
  ASSERT_EQ(lines.objects.size(), 6u);
  expect_valid_lines(lines.objects);
  std::map<std::string, int> real;
  for (const auto& l : lines.objects)
    if (l.value("/error/where"_json_pointer, std::string()) != "--deadline")
      ++real[l["scan"]["key"].get<std::string>()];
  EXPECT_EQ(real.size(), 3u);
  for (const auto& [key, n] : real)
    EXPECT_EQ(n, 1) << key;

  if (find_program("jq")) { // docs/fleet.md, Merging: the filter for deadline placeholders
    auto jq = shell("jq -sc '(INDEX(.[] | select(.error.where != \"--deadline\"); .scan.key)) "
                    "as $done | .[] | select(.error.where != \"--deadline\" or "
                    "$done[.scan.key] == null)' all.jsonl > final.jsonl",
                    dir.path());
    ASSERT_EQ(jq.status, 0) << jq.err;
    auto final_lines = read_lines(dir / "final.jsonl");
    ASSERT_EQ(final_lines.objects.size(), 3u);
    for (const auto& l : final_lines.objects)
      EXPECT_FALSE(l.contains("error")) << l.dump();
  }
}

// docs/fleet.md "Beyond one machine": the shard script on three shards, a shard
// killed in the middle of a line and run again, the documented merges, and a
// resume of the merged file. Every site once, every complete line valid.
TEST_F(ScanSchema, DocumentedShardScriptAndMerge) {
  const auto script = shard_script_from_docs();
  ASSERT_FALSE(script.empty()) << "docs/fleet.md lost its scan-shard.sh block";
  write_file(dir / "scan-shard.sh", script);
  NginxConfig cfg;
  cfg.servers.push_back(NginxServer::tls(c.leaf_ecdsa.chain, c.leaf_ecdsa.key, {c.host}));
  NginxOrigin good(cfg);
  const auto refused = free_tcp_port();
  std::string list = "# fleet\n\n";
  std::set<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    const auto port = i % 3 == 2 ? refused : good.port();
    const std::string line = "site" + std::to_string(i) + ".test 127.0.0.1:" + std::to_string(port);
    list += line + (i == 3 ? "   # a comment after the fields\n" : "\n");
    if (i == 4)
      list += "   # an indented comment line\n";
    expected.insert(line);
  }
  write_file(dir / "sites.txt", list);
  const std::string opts =
      " --cdn cloudflare --trust-store '" + c.ca_file.string() + "' --timeout 3s";
  auto shard = [&](int i) {
    return shell("sh scan-shard.sh " + std::to_string(i) + " 3 sites.txt shard-" +
                     std::to_string(i) + ".jsonl" + opts,
                 dir.path());
  };
  for (int i = 0; i < 3; ++i) {
    auto r = shard(i);
    EXPECT_EQ(r.status, 0) << "shard " << i << ": " << r.err;
  }
  ASSERT_EQ(shell("cat shard-*.jsonl > all.jsonl", dir.path()).status, 0);
  auto all = read_lines(dir / "all.jsonl");
  EXPECT_EQ(all.bad, 0);
  expect_valid_lines(all.objects);
  auto keys = keys_of(all.objects);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()), expected);
  EXPECT_EQ(keys.size(), expected.size()) << "every site exactly once";
  std::set<int> shard0_lines;
  for (const auto& s : read_lines(dir / "shard-0.jsonl").objects)
    shard0_lines.insert(s["scan"]["line"].get<int>());
  EXPECT_EQ(shard0_lines, (std::set<int>{1, 2, 3})) << "line numbers count the shard's own list";

  // Shard 1 killed in the middle of its last line, then run again.
  auto text = read_file(dir / "shard-1.jsonl");
  ASSERT_GE(text.size(), 2u);
  auto last = text.rfind('\n', text.size() - 2);
  last = last == std::string::npos ? 0 : last + 1;
  write_file(dir / "shard-1.jsonl", text.substr(0, last + (text.size() - last) / 2));
  auto again = shard(1);
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("ignored 1 incomplete line"), std::string::npos) << again.err;
  auto shard1 = read_lines(dir / "shard-1.jsonl");
  EXPECT_EQ(shard1.bad, 1) << read_file(dir / "shard-1.jsonl");
  expect_valid_lines(shard1.objects);
  EXPECT_EQ(keys_of(shard1.objects).size(), 2u) << "shard 1 has 2 sites, each once";

  ASSERT_EQ(shell("cat shard-*.jsonl > all.jsonl", dir.path()).status, 0);
  all = read_lines(dir / "all.jsonl");
  EXPECT_EQ(all.bad, 1);
  keys = keys_of(all.objects);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()), expected);
  EXPECT_EQ(keys.size(), expected.size()) << "every site exactly once";

  // Re-run only what is missing: nothing.
  auto resume = shell("edgeshake scan --targets sites.txt --json-lines" + opts +
                          " --resume all.jsonl >> all.jsonl",
                      dir.path());
  EXPECT_EQ(resume.status, 0) << resume.err;
  EXPECT_NE(resume.err.find("7 skipped"), std::string::npos) << resume.err;
  EXPECT_EQ(read_lines(dir / "all.jsonl").objects.size(), expected.size());

  // Shard 0 killed in the middle of its last line and not re-run: the documented
  // merge for damaged shards keeps the other shards' lines whole and drops the
  // partial one; a resume of the merged file scans only the site that was lost.
  text = read_file(dir / "shard-0.jsonl");
  last = text.rfind('\n', text.size() - 2);
  last = last == std::string::npos ? 0 : last + 1;
  write_file(dir / "shard-0.jsonl", text.substr(0, last + (text.size() - last) / 2));
  const bool have_jq = find_program("jq").has_value();
  // Without jq (not a test dependency), the awk half of the pipeline alone.
  auto damaged =
      shell(have_jq ? "awk 1 shard-*.jsonl | jq -cR 'fromjson? | select(.scan)' > all.jsonl"
                    : "awk 1 shard-*.jsonl > all.jsonl",
            dir.path());
  ASSERT_EQ(damaged.status, 0) << damaged.err;
  all = read_lines(dir / "all.jsonl");
  EXPECT_EQ(all.bad, have_jq ? 0 : 2) << "the cut line of shard 0 and the old one of shard 1";
  expect_valid_lines(all.objects);
  EXPECT_EQ(keys_of(all.objects).size(), expected.size() - 1) << read_file(dir / "all.jsonl");
  auto missing = shell("edgeshake scan --targets sites.txt --json-lines" + opts +
                           " --resume all.jsonl >> all.jsonl",
                       dir.path());
  EXPECT_EQ(missing.status, 1) << missing.err << "(site6.test: hostname_mismatch)";
  EXPECT_NE(missing.err.find("6 skipped"), std::string::npos) << missing.err;
  all = read_lines(dir / "all.jsonl");
  expect_valid_lines(all.objects);
  keys = keys_of(all.objects);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()), expected);
  EXPECT_EQ(keys.size(), expected.size()) << "every site exactly once";
}

} // namespace
