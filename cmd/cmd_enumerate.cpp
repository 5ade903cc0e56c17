// `edgeshake enumerate HOST[:PORT]`: what the server accepts, found with hand-built
// ClientHellos (handshake/enumerate). Human output groups suites per version with
// OpenSSL and IANA names; --json follows docs/enumerate.md.
#include "cmd/command.hpp"
#include "cmd/output.hpp"
#include "cmd/run_deadline.hpp"
#include "common/endpoint.hpp"
#include "handshake/enumerate/enumerate.hpp"
#include "handshake/enumerate/tables.hpp"
#include "resolve/resolve.hpp"

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace edgeshake::cmd {

namespace {

namespace en = handshake::enumerate;

struct EnumerateOptions {
  std::string target;
  std::string connect;
  std::string sni;
  int max_conns = 16;
  std::vector<std::string> resolvers;
  std::string timeout = "5s";
  std::string deadline;
  bool sigalgs = false;
  bool json = false;
  bool no_color = false;
};

Result<en::EnumerateSpec> make_spec(const EnumerateOptions& o) {
  auto hp = parse_host_port(o.target);
  if (!hp)
    return tl::unexpected(hp.error());
  en::EnumerateSpec spec;
  spec.target.port = hp->port.value_or(443);
  if (!o.connect.empty()) {
    auto c = parse_host_port(o.connect);
    if (!c || !c->is_ip)
      return fail(ErrorCode::usage, "--connect needs an IP address, got '" + o.connect + "'",
                  "--connect");
    spec.target.address = c->host;
    if (c->port)
      spec.target.port = *c->port;
  } else if (hp->is_ip) {
    spec.target.address = hp->host;
  } // else: a name, resolved before the enumeration (spec.target.address stays empty)
  if (!o.sni.empty()) {
    if (!is_valid_hostname(o.sni))
      return fail(ErrorCode::usage, "invalid SNI name '" + o.sni + "'", "--sni");
    spec.sni = o.sni;
  } else if (!hp->is_ip) {
    spec.sni = hp->host;
  }
  if (o.max_conns < 1 || o.max_conns > 64)
    return fail(ErrorCode::usage, "--max-conns must be between 1 and 64", "--max-conns");
  spec.max_connections = o.max_conns;
  auto t = parse_timeout(o.timeout);
  if (!t)
    return tl::unexpected(t.error());
  spec.timeout = *t;
  spec.signature_algorithms = o.sigalgs;
  return spec;
}

std::string hex4(std::uint16_t v) {
  return fmt::format("0x{:04X}", v);
}

std::string group_name(std::uint16_t code) {
  if (const auto* g = en::find_group(code))
    return std::string(g->name);
  return hex4(code);
}

std::string wire_label(std::uint16_t v) {
  for (auto t : k_all_tls_versions)
    if (wire_version(t) == v)
      return std::string(to_string(t));
  return v == 0 ? "-" : hex4(v);
}

bool weak_suite(std::string_view iana) {
  for (std::string_view w : {"_NULL_", "EXPORT", "_RC4_", "_DES_", "_DES40_", "_anon_", "_RC2_",
                             "_MD5", "_IDEA_", "3DES"})
    if (iana.find(w) != std::string_view::npos)
      return true;
  return iana.ends_with("_NULL");
}

std::string preference_words(en::Preference p) {
  switch (p) {
  case en::Preference::server:
    return "server order, most preferred first";
  case en::Preference::client:
    return "follows the client's order";
  case en::Preference::single:
    return "one suite";
  case en::Preference::unknown:
    return "order unknown";
  }
  return "";
}

void print_text(const en::EnumerateResult& r, const Style& st) {
  print_out("{} {}{}\n", st.bold("edgeshake enumerate"), r.spec.target.to_string(),
            r.spec.sni ? " (SNI " + *r.spec.sni + ")" : std::string(" (no SNI)"));
  print_out("{}\n\n",
            st.dim(fmt::format("{} connections, {:.2f} s, at most {} in flight", r.connections,
                               r.elapsed.count() / 1000.0, r.peak_in_flight)));
  if (r.status != en::EnumerateStatus::complete) {
    print_out("{}: {}\n", st.red(to_string(r.status)), r.detail);
    return;
  }
  print_out("{}\n", st.bold("Protocols"));
  for (const auto& v : r.versions) {
    const bool yes = v.status == en::VersionStatus::supported;
    const bool old = v.version == TlsVersion::ssl3 || v.version == TlsVersion::tls1_0 ||
                     v.version == TlsVersion::tls1_1;
    std::string mark = yes ? (old ? st.yellow("yes") : st.green("yes"))
                           : (v.status == en::VersionStatus::error ? st.red("error") : "no ");
    std::string what =
        yes ? fmt::format("{} suites, {}", v.suites.size(), preference_words(v.preference))
            : v.detail;
    print_out("  {:<8} {}  {}\n", to_string(v.version), mark, what);
  }
  for (auto it = r.versions.rbegin(); it != r.versions.rend(); ++it) {
    if (it->suites.empty())
      continue;
    print_out("\n{} {}\n", st.bold(std::string(to_string(it->version)) + " cipher suites"),
              st.dim("(" + preference_words(it->preference) + ")"));
    for (auto code : it->suites) {
      const auto* s = en::find_cipher_suite(code);
      std::string ossl = s && !s->openssl_name.empty() ? std::string(s->openssl_name) : "-";
      std::string iana = s ? std::string(s->iana_name) : "unknown";
      auto line = fmt::format("  {}  {:<32} {}", hex4(code), ossl, iana);
      print_out("{}\n", weak_suite(iana) ? st.red(line) : line);
    }
  }
  auto groups = [&](const en::GroupsResult& g, const char* title) {
    std::string names;
    for (auto c : g.groups)
      names += (names.empty() ? "" : ", ") + group_name(c);
    if (g.tested)
      print_out("  {:<22} {} {}\n", title, names,
                st.dim("(" + preference_words(g.preference) + ")"));
    else
      print_out("  {:<22} {}\n", title, st.dim(g.detail.empty() ? "not tested" : g.detail));
  };
  print_out("\n{}\n", st.bold("Groups"));
  groups(r.groups_tls13, "TLSv1.3 key exchange");
  groups(r.groups_tls12, "TLSv1.2 ECDHE");
  if (r.groups_tls12.dh_bits)
    print_out("  {:<22} {} bits\n", "TLSv1.2 DHE prime", *r.groups_tls12.dh_bits);

  if (r.spec.signature_algorithms) {
    print_out("\n{}\n", st.bold("Signature schemes (TLSv1.2 ServerKeyExchange)"));
    if (r.sigalgs_tls12.tested) {
      for (auto code : r.sigalgs_tls12.schemes)
        print_out("  {:<28} {}\n", en::signature_scheme_name(code), st.dim(hex4(code)));
      print_out("  {}\n", st.dim(preference_words(r.sigalgs_tls12.preference)));
    } else {
      print_out("  {}\n", st.dim(r.sigalgs_tls12.detail));
    }
  }
  print_out("\n{}\n", st.bold("ALPN"));
  if (r.alpn.tested) {
    std::string names;
    for (const auto& p : r.alpn.protocols)
      names += (names.empty() ? "" : ", ") + p;
    print_out("  {}{}\n", names.empty() ? "none negotiated" : names,
              r.alpn.rejects_unknown ? st.dim("  (fatal alert when nothing matches)") : "");
  } else {
    print_out("  {}\n", st.dim(r.alpn.detail));
  }

  print_out("\n{}\n", st.bold("SNI"));
  for (const auto& s : r.sni) {
    std::string label = s.sni == en::SniCase::none         ? "no SNI"
                        : s.sni == en::SniCase::right_name ? *s.name_sent
                                                           : "unknown name";
    std::string res = s.outcome == en::ProbeOutcome::accepted
                          ? st.green("accepted") + " (" + wire_label(s.version) + ")"
                          : st.yellow(to_string(s.outcome)) + (s.alert ? " " + *s.alert : "");
    if (s.leaf_sha256)
      res += st.dim("  leaf sha256 " + s.leaf_sha256->substr(0, 16) + "...");
    print_out("  {:<22} {}\n", label, res);
  }

  print_out("\n{}\n", st.bold("Large ClientHello in two TCP segments"));
  const auto& sp = r.split_hello;
  std::string res =
      sp.outcome == en::ProbeOutcome::accepted
          ? st.green("tolerated") + (sp.group ? " (key share " + group_name(*sp.group) + ")" : "")
          : st.red("not tolerated") + ": " + to_string(sp.outcome) +
                (sp.alert ? " " + *sp.alert : "");
  print_out("  {} bytes with an X25519MLKEM768 key share: {}\n", sp.hello_bytes, res);
}

nlohmann::json suite_json(std::uint16_t code) {
  const auto* s = en::find_cipher_suite(code);
  return {{"code", hex4(code)},
          {"iana", s ? std::string(s->iana_name) : std::string("unknown")},
          {"openssl", s && !s->openssl_name.empty() ? nlohmann::json(std::string(s->openssl_name))
                                                    : nlohmann::json(nullptr)}};
}

nlohmann::json groups_json(const en::GroupsResult& g) {
  nlohmann::json list = nlohmann::json::array();
  for (auto c : g.groups)
    list.push_back({{"code", hex4(c)}, {"name", group_name(c)}});
  nlohmann::json j = {{"tested", g.tested},
                      {"preference", to_string(g.preference)},
                      {"groups", list},
                      {"detail", g.detail}};
  if (g.dh_bits)
    j["dh_bits"] = *g.dh_bits;
  return j;
}

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// What the name resolved to, when enumerate looked it up.
struct Lookup {
  std::string name;
  std::vector<std::string> addresses;
};

nlohmann::json to_json(const en::EnumerateResult& r, const std::optional<Lookup>& lookup) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["command"] = "enumerate";
  j["target"] = {{"address", r.spec.target.address}, {"port", r.spec.target.port}};
  j["resolved"] = lookup ? nlohmann::json{{"name", lookup->name}, {"addresses", lookup->addresses}}
                         : nlohmann::json(nullptr);
  j["sni"] = opt(r.spec.sni);
  j["status"] = to_string(r.status);
  j["detail"] = r.detail;
  j["elapsed_ms"] = r.elapsed.count();
  j["connections"] = r.connections;
  j["max_connections"] = r.spec.max_connections;
  j["peak_in_flight"] = r.peak_in_flight;
  j["versions"] = nlohmann::json::array();
  for (const auto& v : r.versions) {
    nlohmann::json suites = nlohmann::json::array();
    for (auto c : v.suites)
      suites.push_back(suite_json(c));
    j["versions"].push_back({{"version", to_string(v.version)},
                             {"status", to_string(v.status)},
                             {"preference", to_string(v.preference)},
                             {"detail", v.detail},
                             {"suites", suites}});
  }
  j["groups"] = {{"tls1_3", groups_json(r.groups_tls13)}, {"tls1_2", groups_json(r.groups_tls12)}};
  if (r.spec.signature_algorithms) {
    nlohmann::json schemes = nlohmann::json::array();
    for (auto code : r.sigalgs_tls12.schemes)
      schemes.push_back({{"code", hex4(code)}, {"name", en::signature_scheme_name(code)}});
    j["sigalgs_tls12"] = {{"tested", r.sigalgs_tls12.tested},
                          {"schemes", std::move(schemes)},
                          {"preference", to_string(r.sigalgs_tls12.preference)},
                          {"detail", r.sigalgs_tls12.detail}};
  } else {
    j["sigalgs_tls12"] = nullptr; // not asked for (--sigalgs)
  }
  j["alpn"] = {{"tested", r.alpn.tested},
               {"protocols", r.alpn.protocols},
               {"rejects_unknown", r.alpn.rejects_unknown},
               {"detail", r.alpn.detail}};
  j["sni_behaviour"] = nlohmann::json::array();
  for (const auto& s : r.sni)
    j["sni_behaviour"].push_back(
        {{"case", to_string(s.sni)},
         {"name_sent", opt(s.name_sent)},
         {"outcome", to_string(s.outcome)},
         {"alert", opt(s.alert)},
         {"version", s.version ? nlohmann::json(wire_label(s.version)) : nlohmann::json(nullptr)},
         {"leaf_sha256", opt(s.leaf_sha256)}});
  const auto& sp = r.split_hello;
  j["split_hello"] = {
      {"tested", sp.tested},
      {"hello_bytes", sp.hello_bytes},
      {"outcome", to_string(sp.outcome)},
      {"tolerated", sp.outcome == en::ProbeOutcome::accepted},
      {"group", sp.group ? nlohmann::json(group_name(*sp.group)) : nlohmann::json(nullptr)},
      {"alert", opt(sp.alert)}};
  j["probes"] = nlohmann::json::array();
  for (const auto& p : r.probes)
    j["probes"].push_back(
        {{"purpose", p.purpose},
         {"outcome", to_string(p.outcome)},
         {"response", p.response},
         {"version", p.version ? nlohmann::json(wire_label(p.version)) : nlohmann::json(nullptr)},
         {"cipher_suite",
          p.version ? nlohmann::json(hex4(p.cipher_suite)) : nlohmann::json(nullptr)},
         {"group", p.group ? nlohmann::json(group_name(*p.group)) : nlohmann::json(nullptr)},
         {"alert", opt(p.alert)},
         {"detail", p.detail},
         {"elapsed_ms", p.elapsed.count()}});
  return j;
}

} // namespace

void add_enumerate_command(CLI::App& app, Action& run) {
  auto opts = std::make_shared<EnumerateOptions>();
  auto* sub = app.add_subcommand(
      "enumerate", "List the protocol versions, cipher suites (with the server's order), groups, "
                   "ALPN and SNI behaviour a TLS server accepts, with hand-built ClientHellos");
  sub->add_option("target", opts->target, "HOST[:PORT] (port 443 by default)")->required();
  sub->add_option("--connect", opts->connect,
                  "IP[:PORT] to connect to (default: HOST's first address)");
  sub->add_option("--resolver", opts->resolvers,
                  "DNS server IP[:PORT] for HOST (repeatable; default: /etc/resolv.conf)");
  sub->add_option("--sni", opts->sni, "server_name to send (default: HOST when it is a name)");
  sub->add_option("--max-conns", opts->max_conns, "connections in flight at once (default 16)");
  sub->add_option("--timeout", opts->timeout, "per-connection timeout, e.g. 5s, 800ms");
  sub->add_option("--deadline", opts->deadline,
                  "bound on the whole enumeration (e.g. 1m, 'none'; default 6 x --timeout); "
                  "when reached: exit 3");
  sub->add_flag("--sigalgs", opts->sigalgs,
                "also list the TLS 1.2 signature schemes the server signs with (about 10 more "
                "connections)");
  sub->add_flag("--json", opts->json, "JSON output (docs/enumerate.md)");
  sub->add_flag("--no-color", opts->no_color, "no colour even on a terminal");
  sub->callback([&run, opts] {
    run = [opts] {
      auto spec = make_spec(*opts);
      if (!spec)
        return report_error(spec.error());
      auto deadline = parse_deadline(opts->deadline, default_deadline(spec->timeout));
      if (!deadline)
        return report_error(deadline.error());
      // One loop; --deadline ends it when the enumeration is not done by then.
      asio::io_context io;
      std::optional<en::EnumerateResult> done;
      RunDeadline run_deadline(io, *deadline);
      const auto started = std::chrono::steady_clock::now();
      // A name without --connect: its first address (the lookup is inside --deadline).
      std::optional<Lookup> lookup;
      if (spec->target.address.empty()) {
        auto hp = parse_host_port(opts->target);
        resolve::ResolverOptions options;
        options.servers = opts->resolvers;
        auto resolver = resolve::Resolver::create(io, options);
        if (!resolver)
          return report_error(resolver.error());
        std::optional<resolve::TargetsResult> resolution;
        (*resolver)->expand(*hp, spec->target.port, [&](resolve::TargetsResult r) {
          resolution = std::move(r);
          io.stop();
        });
        io.run();
        if (!resolution) {
          if (!*deadline)
            return report_error(Error(ErrorCode::runtime, "the lookup did not complete"));
          report_error(deadline_error(**deadline,
                                      "while resolving " + hp->host + " (DNS lookup unfinished)"));
          exit_abandoning(k_exit_incomplete);
        }
        io.restart();
        resolver->reset(); // its idle sockets would keep the loop running
        if (!resolution->ok()) {
          const std::string why =
              resolution->resolution
                  ? std::string(resolve::to_string(resolution->resolution->status))
                  : "no address";
          return report_error(Error(ErrorCode::runtime, hp->host + ": could not resolve (" + why +
                                                            "); use --connect IP"));
        }
        lookup = Lookup{hp->host, {}};
        for (const auto& t : resolution->targets)
          lookup->addresses.push_back(t.endpoint.address);
        spec->target.address = lookup->addresses.front();
        if (lookup->addresses.size() > 1 && !opts->json)
          print_err("edgeshake: {} has {} addresses; enumerating {} (choose with --connect)\n",
                    hp->host, lookup->addresses.size(), spec->target.address);
      }
      en::start_enumerate(io, *spec, [&](en::EnumerateResult r) {
        done = std::move(r);
        run_deadline.cancel();
      });
      io.run();
      if (!done && !*deadline)
        return report_error(Error(ErrorCode::runtime, "the enumeration did not complete"));
      if (!done) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        report_error(deadline_error(
            **deadline, fmt::format("while enumerating {} (after {} ms; the enumeration is "
                                    "unfinished, nothing to report)",
                                    spec->target.to_string(), ms.count())));
        exit_abandoning(k_exit_incomplete);
      }
      auto result = std::move(*done);
      if (opts->json)
        print_out("{}\n", json_text(to_json(result, lookup)));
      else
        print_text(result, Style::for_stdout(opts->no_color));
      if (result.status != en::EnumerateStatus::complete) {
        if (!opts->json)
          print_err("edgeshake: {}: {}\n", to_string(result.status), result.detail);
        return result.status == en::EnumerateStatus::error ? k_exit_incomplete : k_exit_problem;
      }
      return k_exit_ok;
    };
  });
}

} // namespace edgeshake::cmd
