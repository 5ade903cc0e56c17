// The bundled profiles (profiles/providers/*.toml, embedded by CMake) and the
// lookup used by --profile: a bundled id or a path.
#include "profiles/profiles.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeshake::profiles {

namespace embedded {
extern const std::vector<std::pair<std::string_view, std::string_view>> provider_files;
}

namespace {

std::vector<Profile> parse_bundled() {
  std::vector<Profile> out;
  for (const auto& [file, text] : embedded::provider_files) {
    std::string name(file);
    std::string id =
        name.size() > 5 && name.ends_with(".toml") ? name.substr(0, name.size() - 5) : name;
    auto p = parse_profile(text, "<bundled>/" + name, id);
    if (!p) {
      // A bundled profile that fails validation is a bug (tests load them all).
      std::fprintf(stderr, "edgeshake: bug: bundled profile invalid: %s\n",
                   p.error().to_string().c_str());
      std::abort();
    }
    out.push_back(std::move(*p));
  }
  return out;
}

} // namespace

const std::vector<Profile>& bundled() {
  static const std::vector<Profile> profiles = parse_bundled();
  return profiles;
}

Result<Profile> find(std::string_view name_or_path) {
  if (name_or_path.find('/') != std::string_view::npos || name_or_path.ends_with(".toml"))
    return load_file(std::string(name_or_path));
  for (const auto& p : bundled()) {
    if (p.id == name_or_path)
      return p;
  }
  std::string known;
  for (const auto& p : bundled())
    known += (known.empty() ? "" : ", ") + p.id;
  return fail(ErrorCode::usage, "unknown profile '" + std::string(name_or_path) + "' (bundled: " +
                                    known + "; a file path must contain '/' or end in .toml)");
}

} // namespace edgeshake::profiles
