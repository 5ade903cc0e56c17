// The pure parts of `edgeshake compare` and `edgeshake scan` (docs/fleet.md):
// the scan target-list parser, the resume index over earlier JSON Lines, the
// compare table (rows, differing columns, summary sentences, JSON, text) and
// the scan summary. No network here: tests build ProbeResults by hand.
#pragma once

#include "cmd/command.hpp"
#include "cmd/target_list.hpp"
#include "common/result.hpp"
#include "handshake/handshake.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace edgeshake::cmd {

// ---- scan target lists: ScanTarget, parse_target_list (cmd/target_list.hpp) ----

// The site keys present in an earlier JSON Lines output (scan.key of each
// object). Lines that are not complete JSON objects (a run killed mid-write)
// are ignored, and counted in `*ignored` when given. Sites that a deadline
// stopped (error.where "--deadline") are not finished: --resume retries them.
std::set<std::string> finished_keys(std::string_view jsonl, std::size_t* ignored = nullptr);

// ---- compare ----

// What one backend showed: the primary probe (the profile's ClientHello, with
// SNI) and the same without SNI.
struct CompareInput {
  std::string input; // as the user wrote it
  std::string name;  // the name it came from (or the IP)
  std::optional<handshake::ProbeResult> primary;
  std::optional<handshake::ProbeResult> no_sni;
  // The profile's exact hellos on the wire (one per hello the edge may send):
  // they judge the status, version, cipher and group columns.
  std::vector<handshake::ProbeResult> wire;
  std::string resolve_error; // non-empty: the name did not resolve (no probes)
};

// The columns, in table order.
enum class Column {
  status,
  version,
  cipher,
  group,
  alpn,
  certificate, // leaf SHA-256
  subject,
  expiry,
  chain,
  sni,
  verification,
};
inline constexpr Column k_columns[] = {Column::status,  Column::version,     Column::cipher,
                                       Column::group,   Column::alpn,        Column::certificate,
                                       Column::subject, Column::expiry,      Column::chain,
                                       Column::sni,     Column::verification};
std::string_view to_string(Column c);
// Whether a difference in this column changes the outcome (docs/fleet.md):
// everything except cipher and group, which follow the server's preference
// order and succeed either way for this client.
bool affects_outcome(Column c);

struct CompareRow {
  std::string target; // "127.0.0.3:443" (or the input when it did not resolve)
  std::string name;
  std::map<Column, std::string> cells; // display values, comparable
  std::optional<handshake::SysSeconds> not_after;
};

struct ColumnDifference {
  Column column;
  bool affects_outcome = false;
  std::string summary; // one sentence
};

struct CompareTable {
  std::vector<CompareRow> rows;
  std::vector<ColumnDifference> differences; // in column order
  bool equivalent() const;                   // no outcome-changing difference
  bool any_unresolved = false;               // some input did not resolve / could not run
};

CompareTable build_compare_table(const std::vector<CompareInput>& inputs,
                                 std::chrono::system_clock::time_point now);
nlohmann::json compare_to_json(const CompareTable& table, const std::vector<CompareInput>& inputs,
                               const std::string& profile_id, int exit_code);
std::string compare_to_text(const CompareTable& table, const Style& style);
// 0 equivalent, 1 an outcome-changing difference, 3 some target could not be
// probed (did not resolve, or a client-side error).
int compare_exit_code(const CompareTable& table);

// ---- scan summary ----

struct ScanSummary {
  std::size_t total = 0;   // targets in the list
  std::size_t skipped = 0; // already in the --resume file
  std::size_t finished = 0;
  std::size_t ok = 0;
  std::size_t failing = 0;  // a selected mode would not be "ok"
  std::size_t untested = 0; // none would fail, but a TLS mode could not be tested (exit code 3)
  std::size_t errors = 0;   // could not be diagnosed (did not resolve, ...)
  std::size_t probes = 0;   // handshakes attempted (probes over all finished sites)
  long peak_rss_kib = 0;    // the process's peak resident memory (0: unknown)
  bool interrupted = false;
  bool deadline_reached = false; // --deadline fired
  std::size_t unfinished = 0;    // sites in flight or not started when it fired
  double seconds = 0;
  // finding id -> number of sites with it (failures and warnings; info too)
  std::map<std::string, std::size_t> findings;
  std::map<std::string, std::string> severity; // finding id -> severity
  std::map<std::string, std::size_t> error_kinds;

  // Adds one site's JSON Lines object (what scan writes).
  void add(const nlohmann::json& site);
};
std::string summary_text(const ScanSummary& s);
nlohmann::json summary_to_json(const ScanSummary& s);
// 3 interrupted or --deadline reached; 1 some site would fail or could not be
// diagnosed; 0 all ok.
int scan_exit_code(const ScanSummary& s);

// How many sites scan keeps in flight for a connection budget of `connections`
// with at most `per_address` per address: enough to keep the budget busy.
int max_sites_in_flight(int connections, int per_address);

} // namespace edgeshake::cmd
