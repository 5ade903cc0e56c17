// ProbeResult -> text (fmt) and -> JSON (nlohmann::json). docs/probe.md
// documents the JSON; keep the two in step.
#include "cmd/report_probe.hpp"

#include "common/tls_registry.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "common/text.hpp"

namespace edgeshake::cmd {

using nlohmann::json;

std::string iso8601(handshake::SysSeconds t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

// The objects below are built key by key: nlohmann's nested initializer lists
// cost twice as much (each pair is first an array), and scan writes one of
// these per probe, 13 per site (bench/README.md, scan, "JSON built key by key").
json to_json(const handshake::CertificateInfo& c) {
  json j(json::value_t::object);
  j["subject"] = c.subject;
  j["issuer"] = c.issuer;
  j["dns_names"] = c.dns_names;
  j["ip_addresses"] = c.ip_addresses;
  j["not_before"] = iso8601(c.not_before);
  j["not_after"] = iso8601(c.not_after);
  j["key_type"] = c.key_type;
  j["key_bits"] = c.key_bits;
  j["curve"] = c.curve.empty() ? json(nullptr) : json(c.curve);
  j["signature_algorithm"] = c.signature_algorithm;
  j["sha256"] = c.sha256;
  j["serial"] = c.serial;
  j["is_ca"] = c.is_ca;
  j["self_issued"] = c.self_issued;
  return j;
}

namespace {

json optional_ms(const std::optional<std::chrono::milliseconds>& ms) {
  return ms ? json(ms->count()) : json(nullptr);
}

json nullable(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

} // namespace

profiles::Verify default_verify(const profiles::Profile& p) {
  for (const auto& m : p.modes)
    if (m.name == p.default_mode)
      return m.verify;
  return profiles::Verify::none;
}

std::string_view probe_verdict(const handshake::ProbeResult& r, profiles::Verify verify,
                               const std::vector<const handshake::ProbeResult*>& wire) {
  using handshake::ProbeStatus;
  const bool wire_failed = std::any_of(wire.begin(), wire.end(),
                                       [](const auto* w) { return w->status != ProbeStatus::ok; });
  if (wire_failed)
    return "handshake_failed"; // a hello the edge sends is refused
  if (r.status != ProbeStatus::ok && !wire.empty()) {
    // The edge's hellos are accepted; OpenSSL could not complete the handshake
    // (e.g. an ML-KEM group), so the certificate is judged from a TLS <= 1.2
    // wire probe that read it in the clear, or not at all.
    if (verify == profiles::Verify::none)
      return "ok";
    for (const auto* w : wire)
      if (!w->chain.empty())
        return probe_verdict(*w, verify);
    return "certificate_unavailable";
  }
  if (r.status != ProbeStatus::ok)
    return "handshake_failed";
  const auto& v = r.verification;
  if (verify == profiles::Verify::chain && !v.chain_ok)
    return "verification_failed";
  if (verify == profiles::Verify::chain_and_name && !(v.chain_ok && v.hostname_ok))
    return "verification_failed";
  return "ok";
}

namespace {

json code_json(std::optional<std::uint16_t> code, std::string (*name)(std::uint16_t)) {
  return code ? json(name(*code)) : json(nullptr);
}

std::string group_word(std::uint16_t g) {
  const auto* info = tls::find_group(g);
  return info ? std::string(info->name) : fmt::format("0x{:04X}", g);
}

std::string hex_word(std::uint16_t v) {
  return fmt::format("0x{:04X}", v);
}

} // namespace

json profile_json(const profiles::Profile& p, profiles::Verify verify) {
  json out(json::value_t::object);
  out["id"] = p.id;
  out["name"] = p.name;
  out["mode"] = p.default_mode;
  out["verify"] = profiles::to_string(verify);
  json& variants = out["variants"];
  variants = json::object();
  for (const auto& [name, value] : p.variant_choice)
    variants[name] = value;
  json& hellos = out["hellos"];
  hellos = json::array();
  for (const auto& h : p.hellos)
    hellos.push_back(h.label);
  return out;
}

json wire_to_json(const handshake::WireResult& w) {
  if (!w.performed)
    return json(nullptr);
  json out(json::value_t::object);
  out["hello"] = w.hello_label;
  out["hello_bytes"] = w.hello_bytes;
  out["segments"] = w.segments;
  out["response"] = w.response;
  out["cipher_suite"] = w.cipher_suite ? json(hex_word(w.cipher_suite)) : json(nullptr);
  out["group"] = code_json(w.group, group_word);
  out["hrr_group"] = code_json(w.hrr_group, group_word);
  out["second_hello"] = w.second_hello;
  out["second_hello_bytes"] = w.second_hello_bytes;
  out["dh_bits"] = w.dh_bits ? json(*w.dh_bits) : json(nullptr);
  out["signature_scheme"] = code_json(w.signature_scheme, tls::signature_scheme_name);
  json& exts = out["server_extensions"];
  exts = json::array();
  for (auto e : w.server_extensions)
    exts.push_back(tls::extension_name(e));
  out["accepted"] = w.accepted;
  out["refusal"] = nullable(w.refusal);
  return out;
}

json to_json(const handshake::ProbeResult& r, bool verbose) {
  const auto& s = r.spec;
  json out(json::value_t::object);
  out["label"] = s.label;
  out["engine"] = handshake::to_string(s.engine);
  json& target = out["target"];
  target["address"] = s.target.address;
  target["port"] = s.target.port;
  out["host"] = nullable(s.host);
  out["sni"] = s.sni ? json(*s.sni) : json(nullptr);
  out["profile"] = s.profile->id;
  out["status"] = handshake::to_string(r.status);
  out["phase"] = handshake::to_string(r.phase);
  out["reason"] = r.reason;
  json& alert = out["alert"]; // null when none
  if (r.alert) {
    alert["received"] = r.alert->received;
    alert["level"] = r.alert->level == 1 ? "warning" : "fatal";
    alert["code"] = r.alert->code;
    alert["name"] = r.alert->name;
  }
  out["first_bytes"] = nullable(r.first_bytes);

  json& tls = out["tls"];
  tls["version"] = r.version ? json(to_string(*r.version)) : json(nullptr);
  tls["cipher"] = nullable(r.cipher);
  tls["cipher_iana"] = nullable(r.cipher_iana);
  tls["group"] = nullable(r.group);
  tls["alpn"] = nullable(r.alpn);
  tls["sni_sent"] = r.sni_sent;
  tls["session_reused"] = r.session_reused;
  tls["ocsp_stapled"] = r.ocsp_stapled;

  json& client = out["client_certificate"];
  client["requested"] = r.client_cert_requested;
  client["ca_names"] = r.client_ca_names;
  client["sent"] = r.client_cert_sent;

  json& chain = out["chain"];
  chain = json::array();
  for (const auto& c : r.chain)
    chain.push_back(to_json(c));

  const auto& v = r.verification;
  json& verification = out["verification"];
  verification["performed"] = v.performed;
  verification["chain_ok"] = v.chain_ok;
  verification["hostname_ok"] = v.hostname_ok;
  verification["code"] = v.code;
  verification["text"] = v.text;
  verification["depth"] = v.depth;
  verification["host"] = nullable(v.host);
  verification["trust_store"] = v.trust_store;

  json& http = out["http"];
  http["status"] = handshake::to_string(r.http.status);
  http["code"] = r.http.code ? json(r.http.code) : json(nullptr);
  http["status_line"] = nullable(r.http.status_line);
  json& headers = http["headers"];
  headers = json::object();
  for (const auto& [name, value] : r.http.headers)
    headers[name] = value;
  http["date"] = r.http.date ? json(iso8601(*r.http.date)) : json(nullptr);
  if (verbose)
    http["body_excerpt"] = r.http.body_excerpt;

  json& timings = out["timings_ms"];
  timings["connect"] = optional_ms(r.timings.connect);
  timings["handshake"] = optional_ms(r.timings.handshake);
  timings["first_byte"] = optional_ms(r.timings.first_byte);
  timings["total"] = r.timings.total.count();
  out["wire"] = wire_to_json(r.wire);
  if (verbose)
    out["error_queue"] = r.error_queue;
  return out;
}

namespace {

std::string line(std::string_view label, std::string_view value) {
  return fmt::format("{:<9}{}\n", label, value);
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty())
      out += sep;
    out += i;
  }
  return out;
}

std::string relative_days(handshake::SysSeconds t) {
  using namespace std::chrono;
  const auto now = floor<seconds>(system_clock::now());
  const auto d = duration_cast<hours>(t - now).count() / 24;
  if (t < now)
    return fmt::format("expired {} days ago", -d);
  return fmt::format("{} days left", d);
}

} // namespace

std::string chain_text(const std::vector<handshake::CertificateInfo>& chain, const Style& style) {
  if (chain.empty())
    return line("chain", style.dim("(none received)"));
  std::string out;
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const auto& c = chain[i];
    out +=
        line(i == 0 ? "chain" : "", fmt::format("{} {}", i, style.bold(terminal_safe(c.subject))));
    const std::string pad(11, ' ');
    out += fmt::format("{}issuer  {}{}\n", pad, terminal_safe(c.issuer),
                       c.self_issued ? " (self-issued)" : "");
    const bool valid_now = c.not_before <= now && now <= c.not_after;
    std::string validity =
        fmt::format("{} .. {} ({})", iso8601(c.not_before), iso8601(c.not_after),
                    c.not_before > now ? "not yet valid" : relative_days(c.not_after));
    out += fmt::format("{}valid   {}\n", pad, valid_now ? validity : style.red(validity));
    std::string key = fmt::format("{} {}", c.key_type, c.key_bits);
    if (!c.curve.empty())
      key += " " + c.curve;
    out +=
        fmt::format("{}key     {}, {}{}\n", pad, key, c.signature_algorithm, c.is_ca ? ", CA" : "");
    std::vector<std::string> sans = c.dns_names;
    sans.insert(sans.end(), c.ip_addresses.begin(), c.ip_addresses.end());
    if (!sans.empty())
      out += fmt::format("{}names   {}\n", pad, terminal_safe(join(sans, ", ")));
    out += fmt::format("{}sha256  {}\n", pad, style.dim(c.sha256));
  }
  return out;
}

std::string wire_text(const handshake::ProbeResult& r, const Style& style) {
  using handshake::ProbeStatus;
  const auto& w = r.wire;
  std::string what = w.hello_label.empty() ? std::string("exact hello") : w.hello_label;
  std::string got;
  if (r.status == ProbeStatus::ok) {
    got = style.green("accepted") +
          fmt::format("  {} {}", r.version ? to_string(*r.version) : "?", r.cipher);
    if (!r.group.empty())
      got += " " + r.group;
  } else {
    got = style.red("refused") + ": " +
          (r.alert && r.alert->received
               ? fmt::format("alert {} {}", r.alert->code, terminal_safe(r.alert->name))
               : (!w.refusal.empty()
                      ? "the server " + terminal_safe(w.refusal)
                      : std::string(handshake::to_string(r.status)) +
                            (r.reason.empty() ? "" : " (" + terminal_safe(r.reason) + ")")));
  }
  if (w.hrr_group) {
    const auto* g = tls::find_group(*w.hrr_group);
    got += fmt::format("  (HelloRetryRequest for {}{})",
                       g ? std::string(g->name) : fmt::format("0x{:04X}", *w.hrr_group),
                       w.second_hello ? ", second ClientHello sent" : "");
  }
  return line("wire", fmt::format("{}: {}  [{} bytes, {} TCP segment{}]", what, got, w.hello_bytes,
                                  w.segments, w.segments == 1 ? "" : "s"));
}

std::string probe_text(const handshake::ProbeResult& r, const Style& style, bool verbose,
                       profiles::Verify verify,
                       const std::vector<const handshake::ProbeResult*>& wire) {
  const bool verification_required = verify != profiles::Verify::none;
  using handshake::ProbeStatus;
  const auto& s = r.spec;
  std::string out;
  std::string target = s.target.to_string();
  if (!s.host.empty() && s.host != s.target.address)
    target = s.host + " -> " + target;
  out += line("probe",
              fmt::format("{}  (profile {}, SNI {})", style.bold(terminal_safe(target)),
                          s.profile->id, s.sni ? terminal_safe(*s.sni) : std::string("none")));
  for (const auto* w : wire)
    out += wire_text(*w, style);
  std::string timings;
  if (r.timings.connect)
    timings += fmt::format("connect {} ms", r.timings.connect->count());
  if (r.timings.handshake)
    timings += fmt::format(", handshake {} ms", r.timings.handshake->count());
  if (r.timings.first_byte)
    timings += fmt::format(", first byte {} ms", r.timings.first_byte->count());
  if (timings.empty())
    timings = fmt::format("{} ms", r.timings.total.count());
  const bool ok = r.status == ProbeStatus::ok;
  std::string status(handshake::to_string(r.status));
  out += line("status", fmt::format("{}{}  ({})", ok ? style.green(status) : style.red(status),
                                    ok ? "" : ": " + terminal_safe(r.reason), timings));
  if (!r.first_bytes.empty())
    out += line("reply", fmt::format("\"{}\"", terminal_safe(r.first_bytes)));
  if (r.version) {
    std::string tls = fmt::format("{}  {}", to_string(*r.version), r.cipher);
    if (!r.cipher_iana.empty() && r.cipher_iana != r.cipher)
      tls += fmt::format(" ({})", r.cipher_iana);
    if (!r.group.empty())
      tls += "  group " + r.group;
    tls += "  alpn " + (r.alpn.empty() ? std::string("none") : r.alpn);
    if (r.ocsp_stapled)
      tls += "  OCSP stapled";
    out += line("tls", tls);
  }
  if (r.client_cert_requested) {
    out += line("client", fmt::format("certificate requested{}{}",
                                      r.client_cert_sent ? ", sent" : ", none sent",
                                      r.client_ca_names.empty() ? "" : "; accepted CAs:"));
    for (const auto& ca : r.client_ca_names)
      out += line("", "  " + terminal_safe(ca));
  }
  if (!r.chain.empty() || ok)
    out += chain_text(r.chain, style);
  const auto& v = r.verification;
  if (v.performed) {
    std::string chain_part = v.chain_ok
                                 ? style.green("chain ok")
                                 : style.red(fmt::format("chain: {} (code {}, depth {})",
                                                         terminal_safe(v.text), v.code, v.depth));
    std::string name_part;
    if (!v.host.empty())
      name_part = v.hostname_ok ? style.green("name " + terminal_safe(v.host) + " matches")
                                : style.red("name " + terminal_safe(v.host) + " does not match");
    out +=
        line("verify",
             fmt::format("{}{}{}  [trust {}]{}", chain_part, name_part.empty() ? "" : ", ",
                         name_part, terminal_safe(v.trust_store),
                         verification_required ? "" : style.dim(" (not required by this mode)")));
  }
  if (r.http.status != handshake::HttpStatus::not_attempted) {
    std::string http = r.http.status_line.empty() ? std::string(handshake::to_string(r.http.status))
                                                  : terminal_safe(r.http.status_line, 200);
    for (const auto& [name, value] : r.http.headers) {
      if (name == "server" || name == "cf-ray" || name == "location")
        http += fmt::format("  {}: {}", terminal_safe(name), terminal_safe(value, 200));
    }
    out += line("http", http);
    if (verbose && !r.http.body_excerpt.empty())
      out += line("", style.dim(terminal_safe(r.http.body_excerpt, 200)));
  }
  if (verbose) {
    for (const auto& e : r.error_queue)
      out += line("openssl", style.dim(terminal_safe(e)));
  }
  std::string_view verdict = probe_verdict(r, verify, wire);
  out += line("verdict", verdict == "ok" ? style.green(std::string(verdict))
                                         : style.red(std::string(verdict)));
  return out;
}

} // namespace edgeshake::cmd
