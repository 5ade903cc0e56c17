// The bundled profiles (profiles/providers/*.toml, embedded by CMake) and the
// lookup used by --profile: a bundled id or a path.
#include "profiles/profiles.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeshake::profiles {

namespace embedded {
extern const std::vector<std::pair<std::string_view, std::string_view>> provider_files;
}

namespace {

std::string id_of(std::string_view file) {
  return file.ends_with(".toml") ? std::string(file.substr(0, file.size() - 5)) : std::string(file);
}

Profile parse_embedded(std::string_view file, std::string_view text) {
  auto p = parse_profile(text, "<bundled>/" + std::string(file), id_of(file));
  if (!p) {
    // A bundled profile that fails validation is a bug (tests load them all).
    std::fprintf(stderr, "edgeshake: bug: bundled profile invalid: %s\n",
                 p.error().to_string().c_str());
    std::abort();
  }
  return std::move(*p);
}

std::vector<Profile> parse_bundled() {
  std::vector<Profile> out;
  for (const auto& [file, text] : embedded::provider_files)
    out.push_back(parse_embedded(file, text));
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
  // Parse only the one asked for (a probe should not pay for validating all),
  // and only once per process: `scan` looks the profile up for every site, and
  // parsing + validating against OpenSSL costs about as much as two handshakes.
  static std::mutex lock;
  static std::map<std::string, Profile, std::less<>> parsed;
  for (const auto& [file, text] : embedded::provider_files) {
    if (id_of(file) != name_or_path)
      continue;
    std::lock_guard guard(lock);
    auto it = parsed.find(name_or_path);
    if (it == parsed.end())
      it = parsed.emplace(std::string(name_or_path), parse_embedded(file, text)).first;
    return it->second;
  }
  std::string known;
  for (const auto& [file, text] : embedded::provider_files) {
    (void)text;
    known += (known.empty() ? "" : ", ") + id_of(file);
  }
  return fail(ErrorCode::usage, "unknown profile '" + std::string(name_or_path) + "' (bundled: " +
                                    known + "; a file path must contain '/' or end in .toml)");
}

} // namespace edgeshake::profiles
