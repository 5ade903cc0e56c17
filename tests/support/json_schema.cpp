#include "tests/support/json_schema.hpp"

#include <fstream>
#include <stdexcept>

namespace edgeshake::testing {

namespace {

bool has_type(const nlohmann::json& v, const std::string& t) {
  if (t == "object")
    return v.is_object();
  if (t == "array")
    return v.is_array();
  if (t == "string")
    return v.is_string();
  if (t == "integer")
    return v.is_number_integer();
  if (t == "number")
    return v.is_number();
  if (t == "boolean")
    return v.is_boolean();
  if (t == "null")
    return v.is_null();
  return false;
}

void check(const nlohmann::json& s, const nlohmann::json& v, const std::string& at,
           std::vector<std::string>& out) {
  if (s.contains("type")) {
    std::vector<std::string> types;
    if (s["type"].is_array()) {
      for (const auto& t : s["type"])
        types.push_back(t.get<std::string>());
    } else {
      types.push_back(s["type"].get<std::string>());
    }
    bool ok = false;
    for (const auto& t : types)
      ok = ok || has_type(v, t);
    if (!ok) {
      out.push_back(at + ": " + std::string(v.type_name()) + " is not " + s["type"].dump());
      return;
    }
  }
  if (s.contains("enum")) {
    bool found = false;
    for (const auto& e : s["enum"])
      found = found || e == v;
    if (!found)
      out.push_back(at + ": " + v.dump() + " not in enum " + s["enum"].dump());
  }
  if (v.is_object()) {
    if (s.contains("required")) {
      for (const auto& r : s["required"]) {
        if (!v.contains(r.get<std::string>()))
          out.push_back(at + ": missing " + r.dump());
      }
    }
    if (s.contains("properties")) {
      for (const auto& [k, sub] : s["properties"].items()) {
        if (v.contains(k))
          check(sub, v[k], at + "." + k, out);
      }
    }
  }
  if (v.is_array() && s.contains("items")) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      check(s["items"], v[i], at + "[" + std::to_string(i) + "]", out);
    }
  }
}

} // namespace

std::vector<std::string> check_schema(const nlohmann::json& schema, const nlohmann::json& value) {
  std::vector<std::string> out;
  check(schema, value, "$", out);
  return out;
}

nlohmann::json load_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  return nlohmann::json::parse(in);
}

} // namespace edgeshake::testing
