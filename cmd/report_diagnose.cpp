#include "cmd/report_diagnose.hpp"

#include "cmd/report_probe.hpp"
#include "cmd/report_resolve.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "common/text.hpp"

namespace edgeshake::cmd {

using compare::Severity;
using nlohmann::json;

int diagnose_exit_code(const DiagnoseReport& report) {
  if (!report.diagnosis.ok())
    return k_exit_problem;
  return report.diagnosis.untested() ? k_exit_incomplete : k_exit_ok;
}

namespace {

// A JSON array of one object per item, each filled in by fill(object, item).
template <class Items, class Fill>
json objects(const Items& items, Fill fill) {
  json out = json::array();
  for (const auto& item : items)
    fill(out.emplace_back(json::value_t::object), item);
  return out;
}

} // namespace

// Built key by key, not from nested initializer lists (half the cost; scan
// writes one per site): see report_probe.cpp.
json diagnose_to_json(const DiagnoseReport& r, bool verbose) {
  json j(json::value_t::object);
  j["schema_version"] = 1;
  j["command"] = "diagnose";
  j["host"] = r.host;
  j["ok"] = r.diagnosis.ok();
  j["exit_code"] = diagnose_exit_code(r);
  j["elapsed_ms"] = r.elapsed.count();
  json& cdn = j["cdn"];
  cdn["id"] = r.cdn.id;
  cdn["name"] = r.cdn.name;
  cdn["how"] = r.cdn_note;
  cdn["detection"] = r.cdn_match ? to_json(*r.cdn_match) : json(nullptr);
  json& variants = cdn["variants"];
  variants = json::object();
  for (const auto& [name, value] : r.cdn.variant_choice)
    variants[name] = value;
  json& hellos = cdn["hellos"];
  hellos = json::array();
  for (const auto& h : r.cdn.hellos)
    hellos.push_back(h.label);
  j["modes"] = r.modes;
  json& res = j["resolution"];
  res["host"] = r.host_resolution ? to_json(*r.host_resolution) : json(nullptr);
  json& origin_resolutions = res["origins"];
  origin_resolutions = json::array();
  for (const auto& t : r.origin_resolutions)
    origin_resolutions.push_back(to_json(t));
  j["edge"] = r.edge ? json(r.edge->to_string()) : json(nullptr);
  j["origins"] = objects(r.origins, [](json& o, const compare::OriginTarget& t) {
    o["name"] = t.name;
    o["address"] = t.endpoint.address;
    o["port"] = t.endpoint.port;
  });
  auto assumed = [](const std::vector<compare::AssumedField>& fields) {
    return objects(fields, [](json& a, const compare::AssumedField& f) {
      a["field"] = f.field;
      a["note"] = f.note;
    });
  };
  j["verdicts"] = objects(r.diagnosis.verdicts, [&assumed](json& o, const auto& v) {
    o["mode"] = v.mode;
    o["label"] = v.label;
    o["result"] = v.result;
    o["cause"] = v.cause;
    o["summary"] = v.summary;
    o["assumed"] = assumed(v.assumed);
  });
  j["findings"] = objects(r.diagnosis.findings, [&assumed](json& o, const compare::Finding& f) {
    o["id"] = f.id;
    o["severity"] = compare::to_string(f.severity);
    o["target"] = f.target;
    o["summary"] = f.summary;
    o["explanation"] = f.explanation;
    o["predicted"] = objects(f.predicted, [](json& p, const auto& m) {
      p["mode"] = m.mode;
      p["label"] = m.label;
      p["result"] = m.result;
    });
    o["evidence"] = objects(f.evidence, [](json& e, const auto& ev) {
      e["probe"] = ev.probe;
      e["target"] = ev.target;
      e["what"] = ev.what;
    });
    o["fixes"] = objects(f.fixes, [](json& x, const auto& fix) {
      x["server"] = fix.server;
      x["lines"] = fix.lines;
    });
    o["depends_on"] = f.depends_on;
    o["assumed"] = assumed(f.assumed);
  });
  j["capabilities"] = objects(r.capabilities, [](json& o, const compare::OriginCapabilities& c) {
    o["target"] = c.endpoint.to_string();
    json& suites = o["suites"];
    suites = json::object();
    for (const auto& [v, names] : c.suites)
      suites[std::string(to_string(v))] = names;
    o["groups"] = c.groups;
    o["connections"] = c.connections;
  });
  json& probes = j["probes"];
  probes = json::array();
  for (const auto& p : r.probes)
    probes.push_back(to_json(p, verbose));
  return j;
}

namespace {

std::string result_word(const Style& s, const std::string& result) {
  if (result == "ok")
    return s.green("ok");
  if (result == "untested")
    return s.dim("untested");
  return s.red(s.bold(result));
}

std::string indent(const std::string& text, const std::string& pad) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    out += pad + terminal_safe(line) + "\n"; // one line at a time: the newlines are ours
  return out;
}

// One column of the edge-versus-origin table.
std::vector<std::string> column(const handshake::ProbeResult* p, std::chrono::sys_seconds now) {
  if (!p)
    return std::vector<std::string>(13, "-");
  std::string handshake =
      p->status == handshake::ProbeStatus::ok
          ? "ok"
          : (p->alert ? fmt::format("alert {} {}", p->alert->code, p->alert->name)
                      : std::string(handshake::to_string(p->status)));
  std::string version = p->version ? std::string(to_string(*p->version)) : "-";
  const handshake::CertificateInfo* leaf = p->chain.empty() ? nullptr : &p->chain.front();
  std::string expires = "-";
  if (leaf) {
    auto days = std::chrono::duration_cast<std::chrono::days>(leaf->not_after - now).count();
    expires = fmt::format("{:%Y-%m-%d} ({} {})", leaf->not_after, std::llabs(days),
                          days >= 0 ? "days left" : "days ago");
  }
  std::string sans = "-";
  if (leaf && !(leaf->dns_names.empty() && leaf->ip_addresses.empty())) {
    std::vector<std::string> names = leaf->dns_names;
    names.insert(names.end(), leaf->ip_addresses.begin(), leaf->ip_addresses.end());
    sans = fmt::format("{}", fmt::join(names, ", "));
  }
  std::string verify = "-";
  if (p->verification.performed) {
    verify = p->verification.chain_ok && p->verification.hostname_ok ? "ok"
             : !p->verification.chain_ok                             ? p->verification.text
                                         : "name mismatch (" + p->verification.host + ")";
  }
  std::string http = "-";
  if (p->http.status == handshake::HttpStatus::ok) {
    http = std::to_string(p->http.code);
    for (const auto& [k, v] : p->http.headers) {
      if (k == "server" || k == "cf-ray")
        http += " " + k + "=" + v;
    }
  } else if (p->http.status != handshake::HttpStatus::not_attempted) {
    http = std::string(handshake::to_string(p->http.status));
  }
  return {handshake,
          version,
          p->cipher.empty() ? "-" : p->cipher,
          p->group.empty() ? "-" : p->group,
          p->alpn.empty() ? "-" : p->alpn,
          leaf ? leaf->subject : "-",
          leaf ? leaf->issuer : "-",
          sans,
          expires,
          p->chain.empty() ? "-" : std::to_string(p->chain.size()),
          verify,
          p->spec.sni ? "sent " + *p->spec.sni : "none sent",
          http};
}

} // namespace

std::string diagnose_to_text(const DiagnoseReport& r, const Style& s, bool verbose) {
  std::string out;
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  out += fmt::format("{} {}  ->  {} ({})\n", s.bold("edgeshake diagnose"), terminal_safe(r.host),
                     r.cdn.name, terminal_safe(r.cdn_note));
  if (r.edge)
    out += fmt::format("  edge    {}\n", r.edge->to_string());
  for (const auto& o : r.origins) {
    out += fmt::format("  origin  {}{}\n", o.endpoint.to_string(),
                       o.name != o.endpoint.address ? " (" + terminal_safe(o.name) + ")" : "");
  }
  if (!r.cdn.hellos.empty()) {
    std::vector<std::string> choice, hellos;
    for (const auto& [name, value] : r.cdn.variant_choice)
      choice.push_back(name + "=" + value);
    for (const auto& h : r.cdn.hellos)
      hellos.push_back(h.label.empty() ? "one" : h.label);
    out += fmt::format("  hellos  {} ({}{})\n", fmt::join(hellos, ", "),
                       choice.empty() ? "" : fmt::format("{}", fmt::join(choice, " ")),
                       choice.empty() ? "no variants" : "");
  }

  out += "\n" + s.bold("Verdict") + "\n";
  std::size_t width = 0;
  for (const auto& v : r.diagnosis.verdicts)
    width = std::max(width, v.label.size());
  for (const auto& v : r.diagnosis.verdicts) {
    std::string tail = v.result == "ok" ? "" : "  " + terminal_safe(v.summary);
    if (v.result == "ok" && v.cause == "none")
      tail = "";
    out += fmt::format("  {} {:<{}}  {}{}\n", r.cdn.name, v.label + ":", width + 1,
                       result_word(s, v.result), tail);
  }
  // One line for the assumed fields the verdicts rest on (the same for most
  // modes: listed once, with the modes that rest on them).
  std::vector<std::string> assumed_fields;
  for (const auto& v : r.diagnosis.verdicts)
    for (const auto& a : v.assumed)
      if (std::find(assumed_fields.begin(), assumed_fields.end(), a.field) == assumed_fields.end())
        assumed_fields.push_back(a.field);
  if (!assumed_fields.empty())
    out += "  " +
           s.dim(fmt::format("(these verdicts rest on what the {} profile assumes, not on "
                             "what {} documents: {}; edgeshake profiles show {})",
                             r.cdn.id, r.cdn.name, fmt::join(assumed_fields, ", "), r.cdn.id)) +
           "\n";
  for (const auto& p : r.probes) {
    if (p.spec.label == compare::probe_label::edge && p.http.status == handshake::HttpStatus::ok &&
        p.http.code >= 500) {
      out += fmt::format("  (the edge answers visitors with HTTP {} right now)\n", p.http.code);
    }
  }

  out += "\n" + s.bold("Findings") + "\n";
  for (const auto& f : r.diagnosis.findings) {
    std::string mark = f.severity == Severity::failure   ? s.red("FAIL")
                       : f.severity == Severity::warning ? s.yellow("WARN")
                                                         : s.green("INFO");
    out += fmt::format("  {} {}  {}\n", mark, s.bold(f.id), terminal_safe(f.summary));
    std::vector<std::string> preds;
    for (const auto& m : f.predicted)
      preds.push_back(m.label + ": " + result_word(s, m.result));
    if (!preds.empty())
      out += fmt::format("       {}\n", fmt::join(preds, "   "));
    if (f.target != "all origins")
      out += fmt::format("       target: {}\n", terminal_safe(f.target));
    out += indent(f.explanation, "       ");
    for (const auto& a : f.assumed)
      out += fmt::format("       {}\n", s.dim(fmt::format("rests on assumed {}: {}", a.field,
                                                          terminal_safe(a.note))));
    if (!f.evidence.empty()) {
      out += "       " + s.dim("evidence:") + "\n";
      for (const auto& e : f.evidence) {
        out += fmt::format("         [{}] {}\n", e.probe, terminal_safe(e.what));
      }
    }
    for (const auto& x : f.fixes) {
      if (!verbose && f.severity == Severity::info)
        break;
      out += fmt::format("       {}\n", s.dim("fix (" + x.server + "):"));
      out += indent(x.lines, "         ");
    }
  }

  // Edge versus origin(s), side by side.
  std::vector<std::pair<std::string, std::vector<std::string>>> cols;
  for (const auto& p : r.probes) {
    if (p.spec.label == compare::probe_label::edge) {
      cols.push_back({"edge (browser)", column(&p, now)});
    }
  }
  if (!cols.empty())
    cols.back().second.insert(cols.back().second.begin(), "-");
  for (const auto& o : r.origins) {
    // The edge's exact hellos on the wire, then OpenSSL's primary handshake.
    std::vector<std::string> wire;
    for (const auto& p : r.probes) {
      if (p.spec.target != o.endpoint || p.spec.engine != handshake::Engine::wire ||
          p.spec.label.rfind(compare::probe_label::wire, 0) != 0 ||
          p.spec.label.find(compare::probe_label::one_segment) != std::string::npos)
        continue;
      std::string what = p.wire.hello_label.empty() ? "" : p.wire.hello_label + " ";
      if (p.status == handshake::ProbeStatus::ok)
        what += "accepted";
      else if (p.alert && p.alert->received)
        what += fmt::format("alert {}", p.alert->code);
      else
        what += std::string(handshake::to_string(p.status));
      wire.push_back(what);
    }
    for (const auto& p : r.probes) {
      if (p.spec.label == compare::probe_label::primary && p.spec.target == o.endpoint) {
        auto cells = column(&p, now);
        cells.insert(cells.begin(),
                     wire.empty() ? std::string("-") : fmt::format("{}", fmt::join(wire, ", ")));
        cols.push_back({"origin " + o.endpoint.to_string() + " (" + r.cdn.id + ")", cells});
      }
    }
  }
  static const char* rows[] = {"edge's hello", "handshake", "version", "cipher", "group",
                               "ALPN",         "subject",   "issuer",  "SANs",   "expires",
                               "chain length", "verify",    "SNI",     "HTTP"};
  out += "\n" + s.bold("Edge vs origin") + "\n";
  // Every cell holds server data: escaped, then cut to 48 characters (after
  // escaping, so that no escape is split). fmt pads by characters.
  for (auto& col : cols) {
    col.first = terminal_safe(col.first, 48);
    for (auto& cell : col.second)
      cell = terminal_safe(cell, 48);
  }
  auto chars = [](const std::string& x) {
    return static_cast<std::size_t>(std::count_if(x.begin(), x.end(), [](char ch) {
      return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
    }));
  };
  std::vector<std::size_t> w(cols.size(), 0);
  for (std::size_t c = 0; c < cols.size(); ++c) {
    w[c] = chars(cols[c].first);
    for (const auto& cell : cols[c].second)
      w[c] = std::max(w[c], chars(cell));
  }
  auto clip = [](const std::string& x) { return x; };
  std::string header = fmt::format("  {:<13}", "");
  for (std::size_t c = 0; c < cols.size(); ++c)
    header += fmt::format("  {:<{}}", clip(cols[c].first), w[c]);
  out += header.substr(0, header.find_last_not_of(' ') + 1) + "\n";
  for (std::size_t row = 0; row < std::size(rows); ++row) {
    std::string line = fmt::format("  {:<13}", rows[row]);
    for (std::size_t c = 0; c < cols.size(); ++c) {
      line += fmt::format("  {:<{}}", clip(cols[c].second[row]), w[c]);
    }
    out += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
  }
  std::size_t probes = r.probes.size();
  std::size_t enumerated = 0;
  for (const auto& c : r.capabilities)
    enumerated += c.connections;
  std::string count = fmt::format("{} probes", probes);
  if (enumerated > 0)
    count += fmt::format(" + {} enumeration connections", enumerated);
  out += fmt::format("\n{}\n", s.dim(fmt::format("{} ({} connections) in {} ms", count,
                                                 probes + enumerated, r.elapsed.count())));
  return out;
}

} // namespace edgeshake::cmd
