#include "common/text.hpp"

#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

namespace edgeshake {

namespace {

constexpr std::string_view k_ellipsis = "\xe2\x80\xa6"; // U+2026

// The length of the valid UTF-8 sequence starting at s[i] and its code point,
// or 0 when the byte at s[i] does not start one.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  std::size_t n = 0;
  std::uint32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

bool needs_escape(std::uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

// Appends one escaped or verbatim character; returns the characters it counts for.
std::size_t append_safe(std::string& out, std::string_view s, std::size_t& i) {
  std::uint32_t cp = 0;
  const std::size_t n = utf8_sequence(s, i, cp);
  char buf[16];
  if (n == 0) {
    std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(s[i]));
    out += buf;
    i += 1;
    return 4;
  }
  if (needs_escape(cp)) {
    if (cp < 0x80)
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
    else
      std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
    out += buf;
    i += n;
    return std::string_view(buf).size();
  }
  out.append(s.substr(i, n));
  i += n;
  return 1;
}

} // namespace

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

std::string terminal_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();)
    append_safe(out, s, i);
  return out;
}

std::string terminal_safe(std::string_view s, std::size_t max_chars) {
  // Escape everything first, remembering where each character (an escape is
  // one unit) ends, then cut at a unit boundary so that "…" still fits.
  std::string out;
  out.reserve(s.size());
  std::vector<std::pair<std::size_t, std::size_t>> ends; // (bytes, characters) after each unit
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size();) {
    chars += append_safe(out, s, i);
    ends.emplace_back(out.size(), chars);
  }
  if (chars <= max_chars)
    return out;
  std::size_t keep = 0;
  for (const auto& [bytes, count] : ends) {
    if (count + 1 > max_chars)
      break;
    keep = bytes;
  }
  out.resize(keep);
  out += k_ellipsis;
  return out;
}

std::string utf8_replaced(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0) {
      out += "\xef\xbf\xbd"; // U+FFFD
      i += 1;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string capped(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes)
    return std::string(s);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  return std::string(s.substr(0, cut)) + std::string(k_ellipsis);
}

} // namespace edgeshake
