// Runs the real `edgeshake diagnose` binary against real servers on loopback
// and hands the test its parsed JSON output.
#pragma once

#include "tests/support/json_schema.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace edgeshake::testing {

struct DiagnoseRun {
  int status = -1;
  std::string output;
  nlohmann::json json;

  const nlohmann::json* finding(const std::string& id) const {
    if (!json.contains("findings"))
      return nullptr;
    for (const auto& f : json["findings"]) {
      if (f["id"] == id)
        return &f;
    }
    return nullptr;
  }
  std::string ids() const {
    std::string s;
    if (!json.contains("findings"))
      return "<no json>: " + output;
    for (const auto& f : json["findings"])
      s += f["id"].get<std::string>() + " ";
    return s;
  }
  std::string verdict(const std::string& mode) const {
    for (const auto& v : json["verdicts"]) {
      if (v["mode"] == mode)
        return v["result"];
    }
    return "<no verdict " + mode + ">";
  }
};

inline std::string predicted(const nlohmann::json& finding, const std::string& mode) {
  for (const auto& p : finding["predicted"]) {
    if (p["mode"] == mode)
      return p["result"];
  }
  return "<no mode " + mode + ">";
}

inline bool evidence_names(const nlohmann::json& finding, const std::string& probe) {
  for (const auto& e : finding["evidence"]) {
    if (e["probe"] == probe)
      return true;
  }
  return false;
}

// `edgeshake diagnose HOST --json ARGS...`; the output must match docs/diagnose.schema.json.
inline DiagnoseRun run_diagnose(const std::string& host, std::vector<std::string> args) {
  std::vector<std::string> argv = {EDGESHAKE_BINARY, "diagnose", host, "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, std::chrono::seconds(60));
  DiagnoseRun out;
  out.status = r.status;
  out.output = r.output;
  auto brace = r.output.find('{');
  if ((r.status == 0 || r.status == 1 || r.status == 3) && brace != std::string::npos) {
    out.json = nlohmann::json::parse(r.output.substr(brace), nullptr, false);
    static const auto schema = load_json_file(EDGESHAKE_SOURCE_DIR "/docs/diagnose.schema.json");
    auto problems = check_schema(schema, out.json);
    EXPECT_TRUE(problems.empty()) << "schema: " << (problems.empty() ? "" : problems.front());
  }
  return out;
}

// Asserts a failure finding with its Full / Full (strict) predictions and the probe proving it.
inline void expect_failure(const DiagnoseRun& run, const std::string& id, const std::string& full,
                           const std::string& strict, const std::string& probe) {
  ASSERT_EQ(run.status, 1) << run.output;
  const auto* f = run.finding(id);
  ASSERT_NE(f, nullptr) << "findings: " << run.ids();
  EXPECT_EQ((*f)["severity"], "failure") << f->dump(2);
  EXPECT_EQ(predicted(*f, "full"), full) << f->dump(2);
  EXPECT_EQ(predicted(*f, "strict"), strict) << f->dump(2);
  EXPECT_TRUE(evidence_names(*f, probe))
      << "evidence does not name " << probe << ": " << f->dump(2);
  EXPECT_EQ(run.verdict("full"), full);
  EXPECT_EQ(run.verdict("strict"), strict);
}

} // namespace edgeshake::testing
