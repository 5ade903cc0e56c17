// Untrusted text (anything from the network, a file or the command line) on
// its way to a terminal or to JSON: the one gate of STYLE rule 18.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace edgeshake {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, at
// most U+10FFFF).
bool is_valid_utf8(std::string_view s);

// `s` for a terminal: printable UTF-8 passes unchanged; C0 controls (NUL, BEL,
// ESC, CR, LF, TAB...), DEL and each byte of invalid UTF-8 become "\xNN"; C1
// controls (U+0080-U+009F), bidirectional overrides and isolates
// (U+202A-U+202E, U+2066-U+2069) and the line/paragraph separators
// (U+2028/U+2029) become "\u{NNNN}". A backslash stays a backslash. Nothing
// in the result can move the cursor, start an escape sequence or end a line.
std::string terminal_safe(std::string_view s);

// terminal_safe(s) cut to at most `max_chars` characters (code points of the
// escaped text, each escape counting for its length), ending in "…" when cut.
// The cut happens after escaping, so it never splits an escape or a UTF-8
// sequence.
std::string terminal_safe(std::string_view s, std::size_t max_chars);

// `s` with every byte of invalid UTF-8 replaced by U+FFFD (the replacement the
// JSON output makes, nlohmann::json's error_handler_t::replace).
std::string utf8_replaced(std::string_view s);

// Cuts already-safe text to at most `max_bytes` bytes at a UTF-8 boundary and
// appends "…" when something was cut (for echoed input lines).
std::string capped(std::string_view s, std::size_t max_bytes);

} // namespace edgeshake
