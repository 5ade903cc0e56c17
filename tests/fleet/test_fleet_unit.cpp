// The pure parts of compare and scan: target-list parser (line numbers in
// errors), resume keys, the compare table, the scan summary.
#include "cmd/fleet.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace edgeshake::cmd {
namespace {

using namespace std::chrono_literals;

void list_should_fail(std::string_view text, std::string_view message, std::size_t line) {
  auto r = parse_target_list(text, "t.txt");
  ASSERT_FALSE(r) << "parsed: " << text;
  EXPECT_EQ(r.error().code, ErrorCode::input);
  EXPECT_NE(r.error().message.find(message), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().where, "t.txt:" + std::to_string(line));
}

TEST(TargetList, HostsOriginsCommentsBlankLines) {
  auto r = parse_target_list("# fleet\n\nWWW.Example.test.  10.0.0.1:8443\n"
                             "  shop.example.test\t# own addresses\r\n"
                             "api.example.test [::1]:443\n",
                             "t.txt");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0], (ScanTarget{3, "www.example.test", "10.0.0.1:8443"}));
  EXPECT_EQ((*r)[1], (ScanTarget{4, "shop.example.test", ""}));
  EXPECT_EQ((*r)[2].origin, "[::1]:443");
  EXPECT_EQ((*r)[2].line, 5u);
  EXPECT_EQ((*r)[0].key(), "www.example.test 10.0.0.1:8443");
  EXPECT_EQ((*r)[1].key(), "shop.example.test");
}

TEST(TargetList, NoTrailingNewlineIsFine) {
  auto r = parse_target_list("a.test", "t.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->front().line, 1u);
}

TEST(TargetList, ErrorsCarryTheLineNumber) {
  list_should_fail("a.test\nb.test c.test d.test\n", "expected 'HOST [ORIGIN]', got 3 fields", 2);
  list_should_fail("\n\nbad_host!\n", "bad HOST 'bad_host!'", 3);
  list_should_fail("a.test 10.0.0.1:99999\n", "bad ORIGIN '10.0.0.1:99999'", 1);
  list_should_fail("a.test\nb.test\nA.test.\n", "already listed on line 1", 3);
  list_should_fail("a.test\nb\x01.test\n", "control character", 2);
  list_should_fail("a.test\n" + std::string("b.test 10.0.0.1:") + "\n", "bad ORIGIN", 2);
  // A port on HOST: the list is refused at once, not one error line per site later.
  list_should_fail("a.test\nb.test:8443\n", "HOST 'b.test:8443' takes no port", 2);
  list_should_fail("[::1]:443 10.0.0.1\n", "takes no port", 1);
}

TEST(TargetList, EmptyListIsAnError) {
  for (std::string_view text : {"", "\n\n", "# only comments\n   \n"}) {
    auto r = parse_target_list(text, "t.txt");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("no targets"), std::string::npos);
  }
}

TEST(TargetList, SameHostWithDifferentOriginsIsTwoSites) {
  auto r = parse_target_list("a.test 10.0.0.1\na.test 10.0.0.2\n", "t.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 2u);
}

TEST(Resume, KeysFromCompleteLinesOnly) {
  std::size_t ignored = 0;
  auto keys = finished_keys("{\"scan\":{\"key\":\"a.test\"}}\n"
                            "\n"
                            "{\"scan\":{\"key\":\"b.test 10.0.0.1\"},\"ok\":true}\n"
                            "not json\n"
                            "{\"scan\":{\"key\":\"c.te",
                            &ignored);
  EXPECT_EQ(keys, (std::set<std::string>{"a.test", "b.test 10.0.0.1"}));
  EXPECT_EQ(ignored, 2u);
}

handshake::ProbeResult ok_probe(const std::string& address, const std::string& sha,
                                handshake::SysSeconds not_after, bool sni = true) {
  handshake::ProbeResult r;
  r.spec.target = Endpoint{address, 443};
  r.status = handshake::ProbeStatus::ok;
  r.phase = handshake::ProbePhase::done;
  r.version = TlsVersion::tls1_3;
  r.cipher = "TLS_AES_128_GCM_SHA256";
  r.group = "X25519";
  r.sni_sent = sni;
  handshake::CertificateInfo leaf;
  leaf.subject = "CN=origin.test";
  leaf.sha256 = sha;
  leaf.not_after = not_after;
  r.chain = {leaf, handshake::CertificateInfo{}};
  r.verification.performed = true;
  r.verification.chain_ok = true;
  r.verification.hostname_ok = true;
  return r;
}

CompareInput input(handshake::ProbeResult p) {
  CompareInput in;
  in.input = p.spec.target.to_string();
  in.name = p.spec.target.address;
  auto n = p;
  n.sni_sent = false;
  in.no_sni = n;
  in.primary = std::move(p);
  return in;
}

const auto k_now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 25} + 12h;

TEST(CompareTable, IdenticalBackendsAreEquivalent) {
  const auto until = std::chrono::floor<std::chrono::seconds>(k_now + 24h * 60);
  std::vector<CompareInput> in = {input(ok_probe("10.0.0.1", "AA:01", until)),
                                  input(ok_probe("10.0.0.2", "AA:01", until))};
  auto t = build_compare_table(in, k_now);
  EXPECT_TRUE(t.differences.empty());
  EXPECT_TRUE(t.equivalent());
  EXPECT_EQ(compare_exit_code(t), 0);
  EXPECT_EQ(t.rows[0].cells[Column::sni], "ignored (same certificate)");
  EXPECT_EQ(t.rows[0].cells[Column::chain], "2");
}

TEST(CompareTable, ExpiringCertificateIsNamedWithTheOtherBackends) {
  const auto far = std::chrono::floor<std::chrono::seconds>(k_now + 24h * 90);
  const auto soon = std::chrono::floor<std::chrono::seconds>(k_now + 24h * 4 + 1h);
  std::vector<CompareInput> in = {
      input(ok_probe("10.0.0.1", "AA:01", far)), input(ok_probe("10.0.0.2", "AA:01", far)),
      input(ok_probe("10.0.0.3", "BB:02", soon)), input(ok_probe("10.0.0.4", "AA:01", far))};
  auto t = build_compare_table(in, k_now);
  EXPECT_FALSE(t.equivalent());
  EXPECT_EQ(compare_exit_code(t), 1);
  std::map<Column, std::string> diffs;
  for (const auto& d : t.differences)
    diffs[d.column] = d.summary;
  ASSERT_TRUE(diffs.count(Column::expiry)) << "differences: " << t.differences.size();
  EXPECT_TRUE(diffs.count(Column::certificate));
  EXPECT_FALSE(diffs.count(Column::version));
  EXPECT_EQ(diffs[Column::expiry],
            "10.0.0.3:443 serves a certificate that expires in 4 days (2026-11-29); the other 3 "
            "serve one valid until 2027-02-23");
}

TEST(CompareTable, CipherPreferenceAloneDoesNotChangeTheOutcome) {
  const auto until = std::chrono::floor<std::chrono::seconds>(k_now + 24h * 60);
  auto a = ok_probe("10.0.0.1", "AA", until);
  auto b = ok_probe("10.0.0.2", "AA", until);
  b.cipher = "TLS_AES_256_GCM_SHA384";
  auto t = build_compare_table({input(a), input(b)}, k_now);
  ASSERT_EQ(t.differences.size(), 1u);
  EXPECT_EQ(t.differences[0].column, Column::cipher);
  EXPECT_FALSE(t.differences[0].affects_outcome);
  EXPECT_TRUE(t.equivalent());
  EXPECT_EQ(compare_exit_code(t), 0);
}

TEST(CompareTable, FailedHandshakeDiffersOnlyInStatus) {
  const auto until = std::chrono::floor<std::chrono::seconds>(k_now + 24h * 60);
  auto a = ok_probe("10.0.0.1", "AA", until);
  handshake::ProbeResult b;
  b.spec.target = Endpoint{"10.0.0.2", 443};
  b.status = handshake::ProbeStatus::tls_alert;
  b.alert = handshake::Alert{true, 2, 40, "handshake_failure"};
  b.sni_sent = true;
  auto t = build_compare_table({input(a), input(b)}, k_now);
  ASSERT_EQ(t.differences.size(), 1u);
  EXPECT_EQ(t.differences[0].column, Column::status);
  EXPECT_NE(t.differences[0].summary.find("alert 40 handshake_failure"), std::string::npos);
  EXPECT_EQ(compare_exit_code(t), 1);
}

TEST(CompareTable, SniRequiredAndUnresolvedInputs) {
  const auto until = std::chrono::floor<std::chrono::seconds>(k_now + 24h * 60);
  auto in = input(ok_probe("10.0.0.1", "AA", until));
  in.no_sni->status = handshake::ProbeStatus::tls_alert;
  in.no_sni->alert = handshake::Alert{true, 2, 112, "unrecognized_name"};
  CompareInput missing;
  missing.input = "gone.test";
  missing.resolve_error = "nxdomain";
  auto t = build_compare_table({in, missing}, k_now);
  EXPECT_EQ(t.rows[0].cells[Column::sni], "required (alert 112 unrecognized_name)");
  EXPECT_EQ(t.rows[1].cells[Column::status], "unresolved (nxdomain)");
  EXPECT_EQ(compare_exit_code(t), 3);
  auto j = compare_to_json(t, {in, missing}, "cloudflare", 3);
  EXPECT_EQ(j["targets"][1]["resolve_error"], "nxdomain");
  EXPECT_EQ(j["targets"][0]["sni"], "required (alert 112 unrecognized_name)");
}

TEST(CompareTable, TextMarksDifferingRowsWithoutColour) {
  const auto far = std::chrono::floor<std::chrono::seconds>(k_now + 24h * 90);
  auto t = build_compare_table(
      {input(ok_probe("10.0.0.1", "AA", far)), input(ok_probe("10.0.0.2", "BB", far))}, k_now);
  auto text = compare_to_text(t, Style(false));
  EXPECT_EQ(text.find('\033'), std::string::npos);
  EXPECT_NE(text.find("! certificate"), std::string::npos) << text;
  EXPECT_NE(text.find("  version"), std::string::npos) << text;
  EXPECT_NE(text.find("not equivalent"), std::string::npos) << text;
}

// On a terminal the differing columns are highlighted: yellow where the
// difference changes the outcome (the "!" rows), nothing on equal rows.
TEST(CompareTable, TextHighlightsDifferingCellsInColour) {
  const auto far = std::chrono::floor<std::chrono::seconds>(k_now + 24h * 90);
  auto t = build_compare_table(
      {input(ok_probe("10.0.0.1", "AA", far)), input(ok_probe("10.0.0.2", "BB", far))}, k_now);
  auto text = compare_to_text(t, Style(true));
  std::istringstream lines(text);
  std::string line, certificate, version;
  while (std::getline(lines, line)) {
    if (line.rfind("! certificate", 0) == 0)
      certificate = line;
    if (line.rfind("  version", 0) == 0)
      version = line;
  }
  EXPECT_NE(certificate.find("\033[33m"), std::string::npos) << text;
  ASSERT_FALSE(version.empty()) << text;
  EXPECT_EQ(version.find('\033'), std::string::npos) << version;
}

TEST(ScanSummary, CountsSitesAndFindingIds) {
  ScanSummary s;
  s.total = 4;
  s.add(nlohmann::json::parse(R"({"ok":true,"findings":[],"probes":[{},{}]})"));
  s.add(nlohmann::json::parse(
      R"({"ok":false,"findings":[{"id":"cert_expired","severity":"failure"},{"id":"cert_expired","severity":"failure"}],"probes":[{}]})"));
  s.add(nlohmann::json::parse(
      R"({"ok":false,"findings":[{"id":"cert_expired","severity":"failure"},{"id":"weak_key","severity":"warning"}]})"));
  s.add(nlohmann::json::parse(R"({"ok":false,"error":{"kind":"runtime","message":"x"}})"));
  EXPECT_EQ(s.finished, 4u);
  EXPECT_EQ(s.ok, 1u);
  EXPECT_EQ(s.failing, 2u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.probes, 3u);
  EXPECT_EQ(s.findings.at("cert_expired"), 2u);
  EXPECT_EQ(s.findings.at("weak_key"), 1u);
  EXPECT_EQ(scan_exit_code(s), 1);
  s.interrupted = true;
  EXPECT_EQ(scan_exit_code(s), 3);
  auto text = summary_text(s);
  EXPECT_NE(text.find("cert_expired"), std::string::npos);
  EXPECT_LT(text.find("cert_expired"), text.find("weak_key"));
}

TEST(ScanSites, InFlightAreEnoughToFillTheConnectionBudget) {
  // One connection: one site at a time.
  EXPECT_EQ(max_sites_in_flight(1, 16), 1);
  // A site runs up to 16 probes at once: 16 connections take 1 site; twice that.
  EXPECT_EQ(max_sites_in_flight(16, 16), 2);
  EXPECT_EQ(max_sites_in_flight(64, 64), 8);
  EXPECT_EQ(max_sites_in_flight(256, 256), 32);
  // A low per-address cap means more sites to fill the budget, never more than it.
  EXPECT_EQ(max_sites_in_flight(64, 2), 64);
  EXPECT_EQ(max_sites_in_flight(64, 4), 32);
  EXPECT_EQ(max_sites_in_flight(3, 16), 2);
  // Nonsense in, sane out.
  EXPECT_EQ(max_sites_in_flight(0, 0), 1);
}

} // namespace
} // namespace edgeshake::cmd
