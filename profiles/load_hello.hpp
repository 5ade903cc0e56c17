// Private to profiles/: the format-2 tables ([hello], [provenance], [[variants]])
// read into a Profile, every name resolved through common/tls_registry.hpp and
// every entry checked where it stands (docs/profiles.md, "Format 2").
#pragma once

#include "profiles/parsed.hpp"

#include <toml++/toml.h>

#include <optional>
#include <string>

namespace edgeshake::profiles::detail {

// Fills p.hello, p.provenance and p.variants (and pos.hello / pos.variants).
// The first problem is returned as a profile error at its line:column.
std::optional<Error> read_format2(const toml::table& root, const std::string& origin, Profile& p,
                                  ProfilePositions& pos);

} // namespace edgeshake::profiles::detail
