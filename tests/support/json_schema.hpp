// A small JSON Schema checker for the subset our committed schemas use. No JSON
// Schema validator for C++ is packaged in Debian 12; this one is enough to hold
// real output to docs/*.schema.json.
//
// Supported (draft 2020-12 meaning): type, enum, const, required, properties,
// patternProperties, additionalProperties (false or a schema), items, minItems,
// maxItems, minLength, pattern, minimum, maximum, oneOf, anyOf, allOf, $ref to a
// JSON pointer inside the same document ("#/$defs/probe"), $defs. Annotations
// ($schema, $id, $comment, title, description, examples) are ignored.
// `pattern` and `patternProperties` use std::regex (ECMAScript), unanchored as
// in JSON Schema. Anything else is not checked: unsupported_keywords() finds it,
// so a schema cannot silently rely on a keyword this checker ignores.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace edgeshake::testing {

// Returns the violations ("$.findings[0].severity: 'fatal' not in enum"), empty when valid.
std::vector<std::string> check_schema(const nlohmann::json& schema, const nlohmann::json& value);

// Keywords in `schema` (anywhere inside it) that check_schema does not know,
// as "<path>: <keyword>"; empty when the checker understands all of it.
std::vector<std::string> unsupported_keywords(const nlohmann::json& schema);

nlohmann::json load_json_file(const std::string& path);

} // namespace edgeshake::testing
