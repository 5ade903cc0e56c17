// The `scan` target-list parser (docs/fleet.md, "Target lists"): pure, no
// network, no Asio, so fuzz/fuzz_scan_targets.cpp compiles it on its own.
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace edgeshake::cmd {

// One line of a target list: "HOST [ORIGIN]".
struct ScanTarget {
  std::size_t line = 0; // 1-based line number in the list
  std::string host;     // normalised (lower case, no trailing dot); may carry :PORT
  std::string origin;   // "" = none (HOST's own addresses are the origin)
  // Identity of the site across runs (resume): "host" or "host origin".
  std::string key() const { return origin.empty() ? host : host + " " + origin; }
  bool operator==(const ScanTarget&) const = default;
};

// Parses a whole target list. '#' starts a comment (whole line or after the
// fields), blank lines are skipped, fields are separated by spaces or tabs, a
// trailing '\r' (CRLF) is dropped. Fails fast on the first bad line:
// Error{input, message, "<source>:<line>"}. A list with no target at all is an
// error too (Error{input, message, "<source>"}). The same site twice is an
// error (it would be diagnosed twice and confuse --resume).
Result<std::vector<ScanTarget>> parse_target_list(std::string_view text,
                                                  std::string_view source = "targets");

// A user value quoted for a one-line message: control bytes escaped as \xNN,
// at most 80 characters shown ("..." after).
std::string shown(std::string_view value);

} // namespace edgeshake::cmd
