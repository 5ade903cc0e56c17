#include "cmd/report_resolve.hpp"

#include <fmt/core.h>

namespace edgeshake::cmd {

using nlohmann::json;

std::string_view to_string(AddressFamily f) {
  return f == AddressFamily::ipv6 ? "ipv6" : "ipv4";
}

json to_json(const resolve::ResolveResult& r) {
  json addresses = json::array();
  for (const auto& a : r.addresses)
    addresses.push_back({{"ip", a.ip}, {"family", to_string(a.family)}, {"ttl", a.ttl}});
  return {{"name", r.name},
          {"status", resolve::to_string(r.status)},
          {"detail", r.detail},
          {"cname_chain", r.cname_chain},
          {"addresses", std::move(addresses)},
          {"elapsed_ms", r.elapsed.count()},
          {"timeouts", r.timeouts}};
}

json to_json(const resolve::CdnMatch& m) {
  return {{"cdn", m.cdn},         {"name", m.name}, {"evidence_kind", m.evidence_kind},
          {"matched", m.matched}, {"on", m.on},     {"source", m.source}};
}

json to_json(const resolve::Target& t) {
  return {{"name", t.name},
          {"address", t.endpoint.address},
          {"port", t.endpoint.port},
          {"family", to_string(t.family)}};
}

json to_json(const resolve::TargetsResult& t) {
  json targets = json::array();
  for (const auto& x : t.targets)
    targets.push_back(to_json(x));
  std::string_view status =
      t.resolution ? resolve::to_string(t.resolution->status) : std::string_view("ok");
  return {{"input", t.input},
          {"status", status},
          {"resolution", t.resolution ? to_json(*t.resolution) : json(nullptr)},
          {"targets", std::move(targets)}};
}

std::string resolve_text(const resolve::ResolveResult& r, const Style& style) {
  std::string out = fmt::format("name     {}\n", style.bold(r.name));
  bool ok = r.status == resolve::ResolveStatus::ok;
  std::string status(resolve::to_string(r.status));
  out += fmt::format("status   {} ({} ms{}){}\n", ok ? style.green(status) : style.red(status),
                     r.elapsed.count(),
                     r.timeouts > 0 ? fmt::format(", {} timed-out tries", r.timeouts) : "",
                     r.detail.empty() ? "" : ": " + r.detail);
  if (!r.cname_chain.empty()) {
    std::string chain = r.name;
    for (const auto& c : r.cname_chain)
      chain += " -> " + c;
    out += fmt::format("chain    {}\n", chain);
  }
  for (const auto& a : r.addresses) {
    out += fmt::format("address  {:<40} {} ttl {}\n", a.ip,
                       a.family == AddressFamily::ipv6 ? "AAAA" : "A   ", a.ttl);
  }
  return out;
}

std::string cdn_text(const std::vector<resolve::CdnMatch>& evidence, const Style& style) {
  if (evidence.empty())
    return fmt::format("cdn      {}\n", style.dim("none detected"));
  const auto& first = evidence.front();
  std::string out = fmt::format("cdn      {} [{}]\n", style.cyan(first.name), first.cdn);
  for (const auto& m : evidence) {
    if (m.evidence_kind == "cname_suffix")
      out += fmt::format("evidence name {} is under {} ({})\n", m.on, m.matched, m.cdn);
    else
      out += fmt::format("evidence address {} is in {} ({})\n", m.on, m.matched, m.cdn);
    out += fmt::format("         {}\n", style.dim("source: " + m.source));
  }
  return out;
}

std::string targets_text(const resolve::TargetsResult& t, const Style& style) {
  std::string out;
  if (t.resolution && t.resolution->status != resolve::ResolveStatus::ok) {
    out += fmt::format("origin   {} -> {}{}\n", style.bold(t.input),
                       style.red(std::string(resolve::to_string(t.resolution->status))),
                       t.resolution->detail.empty() ? "" : ": " + t.resolution->detail);
    return out;
  }
  out += fmt::format("origin   {} -> {} target{}\n", style.bold(t.input), t.targets.size(),
                     t.targets.size() == 1 ? "" : "s");
  for (const auto& x : t.targets)
    out += fmt::format("target   {}\n", x.endpoint.to_string());
  return out;
}

} // namespace edgeshake::cmd
