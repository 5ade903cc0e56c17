// Pure parts of compare and scan: resume keys, the compare table, the scan
// summary (the target-list parser is in target_list.cpp). See cmd/fleet.hpp
// and docs/fleet.md.
#include "cmd/fleet.hpp"

#include "cmd/report_probe.hpp"
#include "common/endpoint.hpp"
#include "common/tls.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "common/text.hpp"

namespace edgeshake::cmd {

using nlohmann::json;

std::set<std::string> finished_keys(std::string_view jsonl, std::size_t* ignored) {
  std::set<std::string> keys;
  std::size_t bad = 0;
  std::size_t pos = 0;
  while (pos < jsonl.size()) {
    std::size_t end = jsonl.find('\n', pos);
    if (end == std::string_view::npos)
      end = jsonl.size();
    std::string_view line = jsonl.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos)
      continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("scan") && j["scan"].is_object() && j["scan"].contains("key") &&
        j["scan"]["key"].is_string()) {
      const bool stopped = j.contains("error") && j["error"].is_object() &&
                           j["error"].contains("where") && j["error"]["where"] == "--deadline";
      if (!stopped)
        keys.insert(j["scan"]["key"].get<std::string>());
    } else {
      ++bad;
    }
  }
  if (ignored)
    *ignored = bad;
  return keys;
}

// ---- compare ----

std::string_view to_string(Column c) {
  switch (c) {
  case Column::status:
    return "handshake";
  case Column::version:
    return "version";
  case Column::cipher:
    return "cipher";
  case Column::group:
    return "group";
  case Column::alpn:
    return "alpn";
  case Column::certificate:
    return "certificate";
  case Column::subject:
    return "subject";
  case Column::expiry:
    return "expiry";
  case Column::chain:
    return "chain";
  case Column::sni:
    return "sni";
  case Column::verification:
    return "verification";
  }
  return "?";
}

bool affects_outcome(Column c) {
  return c != Column::cipher && c != Column::group;
}

bool CompareTable::equivalent() const {
  return std::none_of(differences.begin(), differences.end(),
                      [](const ColumnDifference& d) { return d.affects_outcome; });
}

namespace {

std::string status_cell(const handshake::ProbeResult& p) {
  if (p.status == handshake::ProbeStatus::ok)
    return "ok";
  if (p.alert)
    return fmt::format("alert {} {}", p.alert->code, p.alert->name);
  return std::string(handshake::to_string(p.status));
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

std::string date_of(handshake::SysSeconds t) {
  return iso8601(t).substr(0, 10);
}

// SNI behaviour from the primary (with SNI) and the no-SNI probe.
std::string sni_cell(const CompareInput& in) {
  const auto& p = *in.primary;
  if (!p.sni_sent)
    return "not sent";
  if (!in.no_sni)
    return "-";
  const auto& n = *in.no_sni;
  if (p.status != handshake::ProbeStatus::ok)
    return "-";
  if (n.status != handshake::ProbeStatus::ok)
    return "required (" + status_cell(n) + ")";
  if (!p.chain.empty() && !n.chain.empty() && p.chain[0].sha256 != n.chain[0].sha256)
    return "selects certificate";
  return "ignored (same certificate)";
}

std::string verification_cell(const handshake::ProbeResult& p) {
  const auto& v = p.verification;
  if (!v.performed)
    return "-";
  if (!v.chain_ok)
    return "failed: " + v.text;
  if (!v.hostname_ok)
    return "name mismatch (" + v.host + ")";
  return "ok";
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return n == 1 ? std::string(one) : std::string(many);
}

std::string join_targets(const std::vector<std::string>& t) {
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i > 0)
      out += i + 1 == t.size() ? " and " : ", ";
    out += t[i];
  }
  return out;
}

std::string expiry_phrase(std::optional<handshake::SysSeconds> not_after,
                          std::chrono::system_clock::time_point now) {
  if (!not_after)
    return "no certificate";
  auto days = std::chrono::duration_cast<std::chrono::hours>(*not_after - now).count() / 24;
  if (*not_after < now)
    return fmt::format("a certificate that expired {} days ago ({})", -days, date_of(*not_after));
  return fmt::format("a certificate that expires in {} {} ({})", days,
                     plural(static_cast<std::size_t>(days), "day", "days"), date_of(*not_after));
}

struct Group {
  std::string value;
  std::vector<std::size_t> rows;
};

ColumnDifference describe(Column col, const std::vector<Group>& groups,
                          const std::vector<CompareRow>& rows,
                          std::chrono::system_clock::time_point now) {
  // The majority is the largest group (first seen on a tie).
  std::size_t major = 0;
  for (std::size_t g = 1; g < groups.size(); ++g)
    if (groups[g].rows.size() > groups[major].rows.size())
      major = g;
  std::string text;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (g == major)
      continue;
    std::vector<std::string> names;
    for (auto r : groups[g].rows)
      names.push_back(rows[r].target);
    const bool one = names.size() == 1;
    if (!text.empty())
      text += "; ";
    if (col == Column::expiry) {
      text += fmt::format("{} {} {}", join_targets(names), one ? "serves" : "serve",
                          expiry_phrase(rows[groups[g].rows[0]].not_after, now));
    } else if (col == Column::certificate) {
      text += fmt::format("{} {} a different certificate (SHA-256 {})", join_targets(names),
                          one ? "serves" : "serve", groups[g].value.substr(0, 23));
    } else {
      text += fmt::format("{} {} {} {}", join_targets(names), one ? "has" : "have", to_string(col),
                          shown(groups[g].value));
    }
  }
  const auto& m = groups[major];
  const std::size_t n = m.rows.size();
  std::string others = n == rows.size() ? "all" : fmt::format("the other {}", n);
  if (groups.size() == 2 && n == 1)
    others = rows[m.rows[0]].target;
  if (col == Column::expiry) {
    const auto na = rows[m.rows[0]].not_after;
    text += fmt::format(
        "; {} {}", others,
        na ? fmt::format("{} one valid until {}", n == 1 ? "serves" : "serve", date_of(*na))
           : std::string("serve no certificate"));
  } else if (col == Column::certificate) {
    text += fmt::format("; {} {} {}", others, n == 1 ? "serves" : "serve", m.value.substr(0, 23));
  } else {
    text += fmt::format("; {} {} {}", others, n == 1 ? "has" : "have", shown(m.value));
  }
  return ColumnDifference{col, affects_outcome(col), text};
}

} // namespace

CompareTable build_compare_table(const std::vector<CompareInput>& inputs,
                                 std::chrono::system_clock::time_point now) {
  CompareTable t;
  for (const auto& in : inputs) {
    CompareRow row;
    row.name = in.name;
    if (!in.primary) {
      row.target = in.input;
      for (auto c : k_columns)
        row.cells[c] = "-";
      row.cells[Column::status] = "unresolved (" + in.resolve_error + ")";
      t.any_unresolved = true;
      t.rows.push_back(std::move(row));
      continue;
    }
    const auto& primary = *in.primary;
    if (primary.status == handshake::ProbeStatus::client_error)
      t.any_unresolved = true;
    row.target = primary.spec.target.to_string();
    // The wire decides the handshake: the first hello the edge may send that
    // is refused, else the first one; OpenSSL's primary gives the certificate
    // (unless it could not complete what the wire got).
    const handshake::ProbeResult* judge = &primary;
    for (const auto& w : in.wire)
      if (judge == &primary ||
          (w.status != handshake::ProbeStatus::ok && judge->status == handshake::ProbeStatus::ok))
        judge = &w;
    row.cells[Column::status] = status_cell(*judge);
    // Name the hello only when the edge's hellos fare differently (one refused,
    // another accepted); a refused connection refuses them all.
    const bool mixed = std::any_of(in.wire.begin(), in.wire.end(), [](const auto& w) {
      return w.status == handshake::ProbeStatus::ok;
    });
    if (judge != &primary && judge->status != handshake::ProbeStatus::ok && mixed &&
        !judge->wire.hello_label.empty())
      row.cells[Column::status] += " (" + judge->wire.hello_label + " hello)";
    row.cells[Column::version] = judge->version ? std::string(to_string(*judge->version)) : "-";
    row.cells[Column::cipher] = or_dash(judge->cipher);
    row.cells[Column::group] = or_dash(judge->group);
    row.cells[Column::alpn] = or_dash(primary.alpn);
    const handshake::ProbeResult* with_chain = &primary;
    if (primary.chain.empty())
      for (const auto& w : in.wire)
        if (!w.chain.empty()) {
          with_chain = &w;
          break;
        }
    const auto& p = *with_chain;
    if (!p.chain.empty()) {
      const auto& leaf = p.chain.front();
      row.cells[Column::certificate] = leaf.sha256;
      row.cells[Column::subject] = leaf.subject;
      row.cells[Column::expiry] = date_of(leaf.not_after);
      row.not_after = leaf.not_after;
    } else {
      row.cells[Column::certificate] = row.cells[Column::subject] = row.cells[Column::expiry] = "-";
    }
    row.cells[Column::chain] = p.chain.empty() ? "-" : std::to_string(p.chain.size());
    row.cells[Column::sni] = sni_cell(in);
    row.cells[Column::verification] = verification_cell(p);
    t.rows.push_back(std::move(row));
  }
  // Differences: the handshake status over every row; the rest over the rows
  // whose handshake completed (a failed one has no version to compare).
  for (auto col : k_columns) {
    std::vector<Group> groups;
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      if (col != Column::status && t.rows[r].cells[Column::status] != "ok")
        continue;
      const auto& v = t.rows[r].cells[col];
      auto g =
          std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.value == v; });
      if (g == groups.end())
        groups.push_back({v, {r}});
      else
        g->rows.push_back(r);
    }
    if (groups.size() > 1)
      t.differences.push_back(describe(col, groups, t.rows, now));
  }
  return t;
}

int compare_exit_code(const CompareTable& table) {
  if (table.any_unresolved)
    return k_exit_incomplete;
  return table.equivalent() ? k_exit_ok : k_exit_problem;
}

json compare_to_json(const CompareTable& table, const std::vector<CompareInput>& inputs,
                     const std::string& profile_id, int exit_code) {
  json j;
  j["schema_version"] = 1;
  j["command"] = "compare";
  j["profile"] = profile_id;
  j["equivalent"] = table.equivalent();
  j["exit_code"] = exit_code;
  j["columns"] = json::array();
  for (auto c : k_columns) {
    bool differs = std::any_of(table.differences.begin(), table.differences.end(),
                               [c](const ColumnDifference& d) { return d.column == c; });
    j["columns"].push_back(
        {{"name", to_string(c)}, {"differs", differs}, {"affects_outcome", affects_outcome(c)}});
  }
  j["differences"] = json::array();
  for (const auto& d : table.differences) {
    j["differences"].push_back({{"column", to_string(d.column)},
                                {"affects_outcome", d.affects_outcome},
                                {"summary", d.summary}});
  }
  j["targets"] = json::array();
  for (std::size_t i = 0; i < table.rows.size() && i < inputs.size(); ++i) {
    const auto& row = table.rows[i];
    json t;
    t["input"] = inputs[i].input;
    t["name"] = row.name;
    t["target"] = row.target;
    for (auto c : k_columns)
      t[std::string(to_string(c))] = row.cells.at(c);
    t["not_after"] = row.not_after ? json(iso8601(*row.not_after)) : json(nullptr);
    t["resolve_error"] =
        inputs[i].resolve_error.empty() ? json(nullptr) : json(inputs[i].resolve_error);
    t["probes"] = json::object();
    t["probes"]["primary"] = inputs[i].primary ? to_json(*inputs[i].primary, false) : json(nullptr);
    t["probes"]["no_sni"] = inputs[i].no_sni ? to_json(*inputs[i].no_sni, false) : json(nullptr);
    t["probes"]["wire"] = json::array();
    for (const auto& w : inputs[i].wire)
      t["probes"]["wire"].push_back(to_json(w, false));
    j["targets"].push_back(std::move(t));
  }
  return j;
}

std::string compare_to_text(const CompareTable& table, const Style& style) {
  // Transposed: one line per column, one column per target.
  constexpr std::size_t k_max = 30;
  // Cells hold server data: escaped, then cut (after escaping: no escape is split).
  auto shorten = [](const std::string& s, Column c) {
    return terminal_safe(s, c == Column::certificate ? 24 : k_max);
  };
  auto chars = [](const std::string& x) {
    return static_cast<std::size_t>(std::count_if(x.begin(), x.end(), [](char ch) {
      return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
    }));
  };
  std::size_t label_w = 14;
  std::vector<std::size_t> widths;
  for (const auto& row : table.rows) {
    std::size_t w = chars(terminal_safe(row.target));
    for (auto c : k_columns)
      w = std::max(w, chars(shorten(row.cells.at(c), c)));
    widths.push_back(w);
  }
  auto diff_of = [&](Column c) -> const ColumnDifference* {
    for (const auto& d : table.differences)
      if (d.column == c)
        return &d;
    return nullptr;
  };
  auto pad = [&chars](const std::string& s, std::size_t w) {
    const std::size_t n = chars(s);
    return n >= w ? s : s + std::string(w - n, ' ');
  };
  std::string out = "  " + pad("", label_w);
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    std::string cell = i + 1 == table.rows.size()
                           ? terminal_safe(table.rows[i].target)
                           : pad(terminal_safe(table.rows[i].target), widths[i]);
    out += (i ? "  " : "") + style.bold(cell);
  }
  out += "\n";
  for (auto c : k_columns) {
    const auto* d = diff_of(c);
    std::string mark = !d ? " " : d->affects_outcome ? "!" : "~";
    out += mark + " " + pad(std::string(to_string(c)), label_w);
    for (std::size_t i = 0; i < table.rows.size(); ++i) {
      std::string v = shorten(table.rows[i].cells.at(c), c);
      std::string cell = i + 1 == table.rows.size() ? v : pad(v, widths[i]);
      if (d)
        cell = d->affects_outcome ? style.yellow(cell) : style.cyan(cell);
      out += (i ? "  " : "") + cell;
    }
    out += "\n";
  }
  out += "\n";
  if (table.differences.empty()) {
    out += style.green("equivalent") +
           fmt::format(": all {} targets present the same TLS\n", table.rows.size());
  } else {
    for (const auto& d : table.differences) {
      out +=
          fmt::format("{} {}: {}\n", d.affects_outcome ? style.red("differs") : style.dim("note"),
                      to_string(d.column), terminal_safe(d.summary));
    }
    out += table.equivalent()
               ? style.green("equivalent") + " (only cipher/group preferences differ)\n"
               : style.red(style.bold("not equivalent")) + "\n";
  }
  out += style.dim("(! differs and changes the outcome, ~ differs without changing it)\n");
  return out;
}

// ---- scan summary ----

void ScanSummary::add(const json& site) {
  ++finished;
  if (site.contains("error") && site["error"].is_object()) {
    ++errors;
    ++error_kinds[site["error"].value("kind", std::string("error"))];
    return;
  }
  if (site.contains("probes") && site["probes"].is_array())
    probes += site["probes"].size();
  if (!site.value("ok", false))
    ++failing;
  else if (site.value("exit_code", 0) == k_exit_incomplete)
    ++untested;
  else
    ++ok;
  std::set<std::string> ids;
  if (site.contains("findings") && site["findings"].is_array()) {
    for (const auto& f : site["findings"]) {
      auto id = f.value("id", std::string());
      if (id.empty() || !ids.insert(id).second)
        continue;
      ++findings[id];
      severity[id] = f.value("severity", std::string());
    }
  }
}

json summary_to_json(const ScanSummary& s) {
  json j = {{"total", s.total},
            {"skipped", s.skipped},
            {"finished", s.finished},
            {"ok", s.ok},
            {"failing", s.failing},
            {"untested", s.untested},
            {"errors", s.errors},
            {"interrupted", s.interrupted},
            {"deadline_reached", s.deadline_reached},
            {"unfinished", s.unfinished},
            {"seconds", s.seconds},
            {"probes", s.probes},
            {"peak_rss_kib", s.peak_rss_kib}};
  j["findings"] = json::object();
  for (const auto& [id, n] : s.findings)
    j["findings"][id] = {{"sites", n}, {"severity", s.severity.at(id)}};
  j["error_kinds"] = s.error_kinds;
  j["exit_code"] = scan_exit_code(s);
  return j;
}

std::string summary_text(const ScanSummary& s) {
  std::string out;
  out += fmt::format("scan: {} of {} sites finished{}{}{} in {:.1f}s ({:.1f} sites/s)\n",
                     s.finished, s.total - s.skipped, s.interrupted ? " (interrupted)" : "",
                     s.deadline_reached
                         ? fmt::format(" (deadline reached: {} unfinished)", s.unfinished)
                         : std::string(),
                     s.skipped ? fmt::format(", {} skipped (already in the resume file)", s.skipped)
                               : std::string(),
                     s.seconds, s.seconds > 0 ? static_cast<double>(s.finished) / s.seconds : 0.0);
  out += fmt::format("  ok            {}\n  would fail    {}\n", s.ok, s.failing);
  if (s.untested > 0)
    out += fmt::format("  untested      {}\n", s.untested);
  out += fmt::format("  not diagnosed {}\n", s.errors);
  out +=
      fmt::format("  handshakes    {} ({:.1f}/s), peak RSS {} KiB\n", s.probes,
                  s.seconds > 0 ? static_cast<double>(s.probes) / s.seconds : 0.0, s.peak_rss_kib);
  // Failures first, then warnings, then info; most frequent first.
  std::vector<std::pair<std::string, std::size_t>> ids(s.findings.begin(), s.findings.end());
  auto rank = [&](const std::string& id) {
    const auto& sev = s.severity.at(id);
    return sev == "failure" ? 0 : sev == "warning" ? 1 : 2;
  };
  std::stable_sort(ids.begin(), ids.end(), [&](const auto& a, const auto& b) {
    if (rank(a.first) != rank(b.first))
      return rank(a.first) < rank(b.first);
    return a.second > b.second;
  });
  if (!ids.empty())
    out += "  findings (sites):\n";
  for (const auto& [id, n] : ids)
    out += fmt::format("    {:<32} {:>6}  {}\n", id, n, s.severity.at(id));
  for (const auto& [kind, n] : s.error_kinds)
    out += fmt::format("  not diagnosed: {:<22} {:>6}\n", kind, n);
  return out;
}

int scan_exit_code(const ScanSummary& s) {
  if (s.interrupted || s.deadline_reached)
    return k_exit_incomplete;
  if (s.failing > 0 || s.errors > 0)
    return k_exit_problem;
  return s.untested > 0 ? k_exit_incomplete : k_exit_ok;
}

// A site makes about 16 probes (diagnose --mode all against one origin with the
// Cloudflare profile's two hellos), all to one address, so at most
// min(16, per_address) of them run at once. Twice the
// sites that fill the connection budget leaves room for sites still resolving
// or finishing; more only hold memory (a site keeps its probes' results until
// the last one ends) and make every site take longer. At --concurrency 64 the
// cap took 3-8 % off the client CPU per handshake (bench/README.md, scan).
int max_sites_in_flight(int connections, int per_address) {
  constexpr int k_probes_per_site = 16;
  const int per_site = std::max(1, std::min(per_address, k_probes_per_site));
  const int filling = (std::max(1, connections) + per_site - 1) / per_site;
  return std::min(std::max(1, connections), std::max(2, 2 * filling));
}

} // namespace edgeshake::cmd
