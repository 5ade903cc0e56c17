// The scan target-list parser. Pure: fmt and common/endpoint only (no Asio, no
// JSON), so the fuzzer (fuzz/fuzz_scan_targets.cpp) compiles this file alone.
#include "cmd/target_list.hpp"

#include "common/endpoint.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>

#include <unordered_map>

namespace edgeshake::cmd {

namespace {

// An IPv6 literal in its one canonical spelling (RFC 5952: lower case, zeros
// compressed), so "2001:DB8:0::1" and "2001:db8::1" are the same site.
std::string canonical_ip(const std::string& ip) {
  in6_addr a6{};
  if (ip.find(':') == std::string::npos || inet_pton(AF_INET6, ip.c_str(), &a6) != 1)
    return ip;
  char buf[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(AF_INET6, &a6, buf, sizeof buf))
    return ip;
  return buf;
}

std::string normalised(const HostPort& hp) {
  std::string host = hp.is_ip ? canonical_ip(hp.host) : hp.host;
  if (!hp.port)
    return host;
  if (host.find(':') != std::string::npos)
    return fmt::format("[{}]:{}", host, *hp.port);
  return fmt::format("{}:{}", host, *hp.port);
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t')
      ++j;
    if (j > i)
      out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

} // namespace

Result<std::vector<ScanTarget>> parse_target_list(std::string_view text, std::string_view source) {
  std::vector<ScanTarget> out;
  std::unordered_map<std::string, std::size_t> seen;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::string where = fmt::format("{}:{}", source, line_no);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    for (unsigned char ch : line) {
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
        return fail(ErrorCode::input, "control character in line " + shown(line), where);
    }
    auto fields = fields_of(line);
    if (fields.empty())
      continue;
    if (fields.size() > 2) {
      return fail(
          ErrorCode::input,
          fmt::format("expected 'HOST [ORIGIN]', got {} fields: {}", fields.size(), shown(line)),
          where);
    }
    ScanTarget t;
    t.line = line_no;
    auto host = parse_host_port(fields[0]);
    if (!host) {
      return fail(ErrorCode::input,
                  fmt::format("bad HOST {}: {}", shown(fields[0]), host.error().message), where);
    }
    if (host->port) {
      // diagnose reaches HOST's edge on 443 and has no other port for it; a
      // port belongs to the ORIGIN.
      return fail(ErrorCode::input,
                  fmt::format("HOST {} takes no port (a port belongs to the ORIGIN: "
                              "'HOST IP:PORT')",
                              shown(fields[0])),
                  where);
    }
    t.host = normalised(*host);
    if (fields.size() == 2) {
      auto origin = parse_host_port(fields[1]);
      if (!origin) {
        return fail(ErrorCode::input,
                    fmt::format("bad ORIGIN {}: {}", shown(fields[1]), origin.error().message),
                    where);
      }
      t.origin = normalised(*origin);
    }
    auto [it, inserted] = seen.emplace(t.key(), line_no);
    if (!inserted) {
      return fail(ErrorCode::input,
                  fmt::format("{} is already listed on line {}", shown(t.key()), it->second),
                  where);
    }
    out.push_back(std::move(t));
  }
  if (out.empty())
    return fail(ErrorCode::input, "no targets (one 'HOST [ORIGIN]' per line)", std::string(source));
  return out;
}

std::string shown(std::string_view v) {
  std::string out = "'";
  std::size_t n = 0;
  for (unsigned char ch : v) {
    if (++n > 80) {
      out += "...";
      break;
    }
    if (ch < 0x20 || ch == 0x7f)
      out += fmt::format("\\x{:02x}", ch);
    else
      out += static_cast<char>(ch);
  }
  return out + "'";
}

} // namespace edgeshake::cmd
