// A small JSON Schema checker for the subset our committed schemas use
// (type, required, properties, items, enum). No JSON Schema validator for C++
// is packaged in Debian 12; this one is enough to hold real output to docs/.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace edgeshake::testing {

// Returns the violations ("$.findings[0].severity: 'fatal' not in enum"), empty when valid.
std::vector<std::string> check_schema(const nlohmann::json& schema, const nlohmann::json& value);

nlohmann::json load_json_file(const std::string& path);

} // namespace edgeshake::testing
