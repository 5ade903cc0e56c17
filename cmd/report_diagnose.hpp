// Renderers of a diagnosis: human text (fmt, colour on a terminal) and JSON
// (docs/json.md, schema_version 1).
#pragma once

#include "cmd/command.hpp"
#include "cmd/diagnose.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace edgeshake::cmd {

nlohmann::json diagnose_to_json(const DiagnoseReport& report, bool verbose);
std::string diagnose_to_text(const DiagnoseReport& report, const Style& style, bool verbose);
int diagnose_exit_code(const DiagnoseReport& report);

} // namespace edgeshake::cmd
