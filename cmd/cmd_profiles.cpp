// `edgeshake profiles list` and `edgeshake profiles show NAME|FILE [--json]`.
#include "cmd/command.hpp"
#include "cmd/output.hpp"
#include "common/tls_registry.hpp"
#include "profiles/profiles.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace edgeshake::cmd {

namespace {

using json = nlohmann::ordered_json;
using profiles::Profile;

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty())
      out += sep;
    out += s;
  }
  return out;
}

std::vector<std::string> version_names(const Profile& p) {
  std::vector<std::string> out;
  for (auto v : p.versions)
    out.emplace_back(to_string(v));
  return out;
}

std::string version_range(const Profile& p) {
  if (p.versions.empty())
    return "-";
  if (p.versions.size() == 1)
    return std::string(to_string(p.versions.front()));
  return fmt::format("{}..{}", to_string(p.versions.front()), to_string(p.versions.back()));
}

json not_offered_json(const std::vector<profiles::NotOffered>& items) {
  json out = json::array();
  for (const auto& n : items)
    out.push_back({{"name", n.name}, {"reason", n.reason}});
  return out;
}

json errors_json(const std::map<profiles::FailureClass, std::string>& errors) {
  json out = json::object();
  for (auto c : profiles::k_all_failure_classes) {
    if (auto it = errors.find(c); it != errors.end())
      out[std::string(to_string(c))] = it->second;
  }
  return out;
}

json profile_json(const Profile& p) {
  json modes = json::array();
  for (const auto& m : p.modes) {
    json resolved = json::object();
    for (auto c : profiles::k_all_failure_classes) {
      resolved[std::string(to_string(c))] =
          profiles::can_fail_with(m, c) ? json(p.error_for(m, c)) : json(nullptr);
    }
    modes.push_back({{"name", m.name},
                     {"label", m.label},
                     {"default", m.name == p.default_mode},
                     {"transport", to_string(m.transport)},
                     {"verify", to_string(m.verify)},
                     {"port", m.port},
                     {"extra_trust", m.extra_trust},
                     {"error_overrides", errors_json(m.errors)},
                     {"errors", resolved}});
  }
  json hello = {
      {"versions", version_names(p)},
      {"ciphers", p.ciphers},
      {"ciphers_not_offered", not_offered_json(p.ciphers_not_offered)},
      {"tls13_ciphersuites", p.tls13_ciphersuites},
      {"groups", p.groups},
      {"key_share", p.groups.empty() ? json(nullptr) : json(p.groups.front())},
      {"groups_not_offered", not_offered_json(p.groups_not_offered)},
      {"signature_algorithms", p.signature_algorithms},
      {"alpn", p.alpn},
      {"sni", to_string(p.sni)},
      {"sni_name", p.sni == profiles::SniPolicy::fixed ? json(p.sni_name) : json(nullptr)},
      {"security_level", p.security_level},
      {"sends_client_certificate", p.sends_client_certificate},
  };
  return {{"schema_version", 1},
          {"id", p.id},
          {"name", p.name},
          {"provider", p.provider},
          {"description", p.description},
          {"path", p.path},
          {"sources", p.sources},
          {"assumptions", p.assumptions},
          {"client_hello", hello},
          {"validation", {{"trust_store", p.trust_store}, {"default_mode", p.default_mode}}},
          {"errors", errors_json(p.errors)},
          {"modes", modes}};
}

std::string mode_list(const Profile& p) {
  std::vector<std::string> names;
  for (const auto& m : p.modes)
    names.push_back(m.name == p.default_mode && p.modes.size() > 1 ? m.name + "*" : m.name);
  return join(names);
}

int run_list(bool as_json, bool no_color) {
  const auto& all = profiles::bundled();
  if (as_json) {
    json list = json::array();
    for (const auto& p : all) {
      std::vector<std::string> modes;
      for (const auto& m : p.modes)
        modes.push_back(m.name);
      list.push_back({{"id", p.id},
                      {"name", p.name},
                      {"provider", p.provider},
                      {"versions", version_names(p)},
                      {"ciphers", p.ciphers.size()},
                      {"tls13_ciphersuites", p.tls13_ciphersuites.size()},
                      {"modes", modes},
                      {"default_mode", p.default_mode}});
    }
    json out = {{"schema_version", 1}, {"profiles", list}};
    print_out("{}\n", json_text(out));
    return k_exit_ok;
  }
  auto style = Style::for_stdout(no_color);
  std::size_t id_w = 2, name_w = 4, ver_w = 8;
  for (const auto& p : all) {
    id_w = std::max(id_w, p.id.size());
    name_w = std::max(name_w, p.name.size());
    ver_w = std::max(ver_w, version_range(p).size());
  }
  print_out("{}\n", style.bold(fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>7}  {}", "ID", id_w, "NAME",
                                           name_w, "VERSIONS", ver_w, "CIPHERS", "MODES")));
  for (const auto& p : all) {
    auto ciphers = fmt::format("{}+{}", p.ciphers.size(), p.tls13_ciphersuites.size());
    print_out("{:<{}}  {:<{}}  {:<{}}  {:>7}  {}\n", p.id, id_w, p.name, name_w, version_range(p),
              ver_w, ciphers, mode_list(p));
  }
  print_out("{}\n", style.dim("CIPHERS = TLS <= 1.2 suites + TLS 1.3 suites; * = default mode. "
                              "Details: edgeshake profiles show ID"));
  return k_exit_ok;
}

void print_list(const Style& style, std::string_view label, const std::vector<std::string>& items,
                std::string_view empty_text) {
  if (items.empty()) {
    print_out("  {:<22}{}\n", label, style.dim(empty_text));
    return;
  }
  for (std::size_t i = 0; i < items.size(); ++i)
    print_out("  {:<22}{:>2}. {}\n", i == 0 ? label : "", i + 1, items[i]);
}

// Format 2 (and the hello format 1 derives): the variants and the hellos the
// edge may send with the chosen values, and what the OpenSSL probes send differently.
void print_wire(const Profile& p, const Style& style) {
  if (!p.variants.empty()) {
    print_out("{}\n", style.bold("Variants (--variant NAME=VALUE)"));
    for (const auto& v : p.variants) {
      std::string chosen = v.default_value;
      for (const auto& [name, value] : p.variant_choice)
        if (name == v.name)
          chosen = value;
      std::vector<std::string> values;
      for (const auto& x : v.values)
        values.push_back(x.name == chosen ? x.name + "*" : x.name);
      print_out("  {:<22}{} {}\n", v.name, join(values), style.dim("- " + v.description));
    }
    print_out("  {}\n\n", style.dim("* chosen (defaults unless --variant)"));
  }
  print_out("{}\n", style.bold(p.format == 2 ? "Wire hellos (format 2)"
                                             : "Wire hello (what OpenSSL 3.0 sends)"));
  for (const auto& h : p.hellos) {
    std::vector<std::string> ext, groups, shares;
    for (auto e : h.extensions)
      ext.push_back(tls::is_grease(e) || e == profiles::k_grease ? "GREASE"
                                                                 : tls::extension_name(e));
    auto group = [](std::uint16_t g) {
      const auto* info = tls::find_group(g);
      return info ? std::string(info->name) : std::string("GREASE");
    };
    for (auto g : h.groups)
      groups.push_back(group(g));
    for (auto g : h.key_shares)
      shares.push_back(group(g));
    print_out("  {:<22}{} suites, {} bytes with a 16-byte name{}\n",
              h.label.empty() ? "hello" : h.label, h.cipher_suites.size(),
              profiles::encoded_size(h, 16),
              h.tcp_max_segment > 0 && profiles::encoded_size(h, 16) > h.tcp_max_segment
                  ? fmt::format(" ({} segments of {})",
                                (profiles::encoded_size(h, 16) + h.tcp_max_segment - 1) /
                                    h.tcp_max_segment,
                                h.tcp_max_segment)
                  : std::string());
    print_out("  {:<22}{}\n", "  extensions", join(ext));
    print_out("  {:<22}{} {}\n", "  groups", join(groups),
              style.dim("(key shares: " + (shares.empty() ? "none" : join(shares)) + ")"));
  }
  for (const auto& d : p.openssl.deviations)
    print_out("  {:<22}{}\n", "OpenSSL deviation", d);
  print_out("\n");
}

void print_text(const Profile& p, bool no_color) {
  auto style = Style::for_stdout(no_color);
  print_out("{} {}\n", style.bold(p.id),
            p.provider.empty() ? p.name : p.name + " (" + p.provider + ")");
  if (!p.description.empty())
    print_out("  {}\n", p.description);
  print_out("  {}\n\n", style.dim("from " + p.path));

  print_out("{}\n", style.bold("ClientHello"));
  print_out("  {:<22}{}\n", "versions", join(version_names(p)));
  print_list(style, fmt::format("ciphers ({})", p.ciphers.size()), p.ciphers, "none");
  for (const auto& n : p.ciphers_not_offered)
    print_out("  {:<22}{} {}\n", "not offered", style.yellow(n.name), style.dim("- " + n.reason));
  print_list(style, fmt::format("TLS 1.3 suites ({})", p.tls13_ciphersuites.size()),
             p.tls13_ciphersuites, "none");
  print_out("  {:<22}{}", "groups", join(p.groups));
  if (!p.groups.empty())
    print_out(" {}", style.dim("(key share: " + p.groups.front() + ")"));
  print_out("\n");
  for (const auto& n : p.groups_not_offered)
    print_out("  {:<22}{} {}\n", "not offered", style.yellow(n.name), style.dim("- " + n.reason));
  print_out("  {:<22}{}\n", "signature algorithms",
            p.signature_algorithms.empty() ? style.dim("OpenSSL default")
                                           : join(p.signature_algorithms));
  print_out("  {:<22}{}\n", "ALPN", p.alpn.empty() ? style.dim("none") : join(p.alpn));
  std::string sni(to_string(p.sni));
  if (p.sni == profiles::SniPolicy::fixed)
    sni += " (" + p.sni_name + ")";
  print_out("  {:<22}{}\n", "SNI", sni);
  print_out("  {:<22}{}\n", "security level", p.security_level);
  print_out("  {:<22}{}\n\n", "client certificate",
            p.sends_client_certificate ? "can be sent" : "none");

  print_wire(p, style);

  print_out("{}\n", style.bold("Validation"));
  print_out("  {:<22}{}\n", "trust store", p.trust_store);
  for (const auto& m : p.modes) {
    std::string what = fmt::format("{}, verify {}", to_string(m.transport), to_string(m.verify));
    if (m.port)
      what += fmt::format(", port {}", m.port);
    if (!m.extra_trust.empty())
      what += ", also trusts " + join(m.extra_trust);
    std::string name = m.name == p.default_mode ? m.name + " (default)" : m.name;
    print_out("  {:<22}{}: {}\n", name, m.label, what);
  }
  print_out("\n{}\n", style.bold("Edge result per failure ('-': cannot happen in that mode)"));
  auto row = [](std::string line) {
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    print_out("{}\n", line);
  };
  std::size_t col = 8;
  for (const auto& m : p.modes) {
    col = std::max(col, m.name.size() + 2);
    for (auto c : profiles::k_all_failure_classes)
      col = std::max(col, p.error_for(m, c).size() + 2);
  }
  std::string header = fmt::format("  {:<22}", "");
  for (const auto& m : p.modes)
    header += fmt::format("{:<{}}", m.name, col);
  row(header);
  for (auto c : profiles::k_all_failure_classes) {
    std::string line = fmt::format("  {:<22}", to_string(c));
    for (const auto& m : p.modes)
      line += fmt::format("{:<{}}", profiles::can_fail_with(m, c) ? p.error_for(m, c) : "-", col);
    row(line);
  }

  print_out("\n{}\n", style.bold("Sources"));
  if (p.sources.empty())
    print_out("  {}\n", style.dim("none given"));
  for (const auto& s : p.sources)
    print_out("  - {}\n", s);
  print_out("\n{}\n", style.bold("Assumptions (where the provider documents nothing)"));
  if (p.assumptions.empty())
    print_out("  {}\n", style.dim("none"));
  for (const auto& a : p.assumptions)
    print_out("  - {}\n", a);
}

int run_show(const std::string& name, const std::vector<std::string>& variants, bool as_json,
             bool no_color) {
  auto p = find_profile(name, variants);
  if (!p)
    return report_error(p.error());
  if (as_json)
    print_out("{}\n", json_text(profile_json(*p)));
  else
    print_text(*p, no_color);
  return k_exit_ok;
}

struct ProfilesOptions {
  bool json = false;
  bool no_color = false;
  std::string name;
  std::vector<std::string> variants;
};

} // namespace

void add_profiles_command(CLI::App& app, Action& run) {
  auto* sub = app.add_subcommand("profiles", "List and show the provider profiles (ClientHello, "
                                             "validation and error codes per SSL mode)");
  sub->require_subcommand(1);
  auto opts = std::make_shared<ProfilesOptions>();

  auto* list = sub->add_subcommand("list", "List the bundled profiles");
  list->add_flag("--json", opts->json, "JSON output (docs/profiles.md)");
  list->add_flag("--no-color", opts->no_color, "No colour even on a terminal");
  list->callback([&run, opts] { run = [opts] { return run_list(opts->json, opts->no_color); }; });

  auto* show = sub->add_subcommand("show", "Show one profile: a bundled id or a .toml file");
  show->add_option("profile", opts->name, "Bundled id (e.g. cloudflare) or a path to a .toml file")
      ->required();
  show->add_flag("--json", opts->json, "JSON output (docs/profiles.md)");
  show->add_flag("--no-color", opts->no_color, "No colour even on a terminal");
  add_variant_option(*show, opts->variants);
  show->callback([&run, opts] {
    run = [opts] { return run_show(opts->name, opts->variants, opts->json, opts->no_color); };
  });
}

} // namespace edgeshake::cmd
