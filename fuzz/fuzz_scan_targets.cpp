// libFuzzer: the `scan` target-list parser (cmd/target_list.cpp). Beyond "does
// not crash", every run checks what the parser promises (cmd/target_list.hpp):
//   - an error is one non-empty line, located at "<source>" (no targets) or at
//     "<source>:<line>" with a line that exists in the input;
//   - a success is a non-empty list, in increasing line order, of normalised,
//     unique entries (no blanks, '#', control bytes or upper case in them);
//   - writing the entries back out (with CRLF and trailing comments) and
//     parsing that again gives the same entries, and so does parsing each
//     entry's HOST and ORIGIN alone.
#include "cmd/target_list.hpp"
#include "common/endpoint.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

namespace {

using edgeshake::cmd::parse_target_list;
using edgeshake::cmd::ScanTarget;

[[noreturn]] void broken(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz_scan_targets: invariant broken: %s [%.*s]\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

std::size_t count_lines(std::string_view text) {
  std::size_t n = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    ++n;
    if (end == std::string_view::npos)
      break;
    pos = end + 1;
  }
  return n;
}

bool one_clean_line(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f)
      return false;
  }
  return true;
}

// HOST or ORIGIN as the parser stores it: parsing it again, in the same place
// of a line, changes nothing (a HOST never has a port; an ORIGIN may).
void check_field(std::string_view field, const char* what, bool origin) {
  if (field.empty())
    broken(what, "empty");
  for (unsigned char c : field) {
    if (c <= 0x20 || c == 0x7f || c == '#' || (c >= 'A' && c <= 'Z'))
      broken(what, field);
  }
  const std::string line = (origin ? "x.test " : "") + std::string(field) + "\n";
  auto again = parse_target_list(line, "field");
  if (!again || again->size() != 1 || (origin ? (*again)[0].origin : (*again)[0].host) != field ||
      (!origin && !(*again)[0].origin.empty()))
    broken("a stored field does not parse back to itself", field);
  if (!origin && edgeshake::parse_host_port(field) && edgeshake::parse_host_port(field)->port)
    broken("a stored HOST has a port", field);
  auto hp = edgeshake::parse_host_port(field);
  if (!hp)
    broken("a stored field is not HOST[:PORT]", field);
}

void check(std::string_view text) {
  const std::string source = "fuzz.txt";
  auto r = parse_target_list(text, source);
  if (!r) {
    const auto& e = r.error();
    if (e.code != edgeshake::ErrorCode::input)
      broken("error code is not input", e.message);
    if (e.message.empty() || !one_clean_line(e.message))
      broken("error message empty or not one clean line", e.message);
    if (e.where == source)
      return; // "no targets"
    if (e.where.rfind(source + ":", 0) != 0)
      broken("error location", e.where);
    const std::string digits = e.where.substr(source.size() + 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
      broken("error line number", e.where);
    const unsigned long line = std::strtoul(digits.c_str(), nullptr, 10);
    if (line < 1 || line > count_lines(text))
      broken("error line outside the input", e.where);
    return;
  }
  if (r->empty())
    broken("success with no targets");
  std::set<std::string> keys;
  std::size_t last_line = 0;
  std::string rewritten;
  for (const ScanTarget& t : *r) {
    if (t.line <= last_line || t.line > count_lines(text))
      broken("line numbers not increasing or outside the input", t.key());
    last_line = t.line;
    check_field(t.host, "host", false);
    if (!t.origin.empty())
      check_field(t.origin, "origin", true);
    if (!keys.insert(t.key()).second)
      broken("duplicate key accepted", t.key());
    rewritten += "  " + t.host + (t.origin.empty() ? "" : "\t" + t.origin) + " # again\r\n";
  }
  auto again = parse_target_list("# rewritten\n" + rewritten, source);
  if (!again || again->size() != r->size())
    broken("the rewritten list does not parse", rewritten);
  for (std::size_t i = 0; i < r->size(); ++i) {
    const ScanTarget& a = (*r)[i];
    const ScanTarget& b = (*again)[i];
    if (a.host != b.host || a.origin != b.origin || b.line != i + 2)
      broken("the rewritten list parses differently", b.key());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
