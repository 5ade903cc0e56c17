// Private to profiles/: a profile as read from TOML, with the source position
// of every value, so validate.cpp can point at the entry it rejects.
#pragma once

#include "profiles/profiles.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeshake::profiles::detail {

struct Pos {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

struct ModePositions {
  Pos table; // the [[modes]] header (or the inline table)
  Pos name;
  Pos transport;
  Pos verify;
  bool has_verify = false;
  Pos port;
  std::vector<Pos> extra_trust;
  std::map<FailureClass, Pos> errors;
};

// Format 2: where a [[variants]] entry and its values stand.
struct VariantPositions {
  Pos table;
  Pos default_value;
  std::vector<Pos> values; // one per [[variants.values]]
};

struct ProfilePositions {
  Pos root;
  Pos format;
  Pos hello; // format 2: the [hello] table
  std::vector<VariantPositions> variants;
  std::vector<Pos> sources;
  Pos client_hello;
  std::vector<Pos> versions;
  Pos ciphers_key;
  std::vector<Pos> ciphers;
  std::vector<Pos> ciphers_not_offered;
  Pos tls13_key;
  std::vector<Pos> tls13_ciphersuites;
  Pos groups_key;
  std::vector<Pos> groups;
  std::vector<Pos> groups_not_offered;
  std::vector<Pos> signature_algorithms;
  std::vector<Pos> alpn;
  Pos sni;
  Pos sni_name;
  bool has_sni_name = false;
  Pos security_level;
  Pos trust_store;
  Pos default_mode;
  bool has_default_mode = false;
  Pos errors_table;
  bool has_errors = false;
  Pos modes_key;
  std::vector<ModePositions> modes;
};

struct Parsed {
  Profile profile;
  ProfilePositions pos;
};

// TOML text -> Profile with positions: syntax, key names, types, enum words.
// `base_dir` resolves a relative trust_store.
Result<Parsed> read_profile(std::string_view toml_text, const std::string& origin,
                            const std::string& id, const std::filesystem::path& base_dir);

// After validation: the hello of a format-1 profile (what OpenSSL 3.0 sends
// for its settings), the default variants, and the OpenSSL approximation of a
// format-2 profile (variants.cpp). A format-2 combination that leaves an invalid
// hello is an error at the variant's position.
std::optional<Error> finish(Parsed& parsed, const std::string& origin);

// The rules across entries and against the linked OpenSSL (docs/profiles.md,
// "Validation"). Returns the first violation.
std::optional<Error> validate(const Parsed& parsed, const std::string& origin);

// 'value' for an error message: one line (control bytes as \xNN), at most 80
// characters, so a message always fits the one-line error format.
inline std::string quote(std::string_view s) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out = "'";
  std::size_t shown = 0;
  for (char ch : s) {
    if (++shown > 80) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out + "'";
}

inline std::string where(const std::string& origin, Pos p) {
  return origin + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
}

} // namespace edgeshake::profiles::detail
