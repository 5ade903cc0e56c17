#include "tests/support/json_schema.hpp"

#include <fstream>
#include <regex>
#include <set>
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

bool matches(const std::string& pattern, const std::string& text) {
  return std::regex_search(text, std::regex(pattern, std::regex::ECMAScript));
}

struct Checker {
  const nlohmann::json& root;

  const nlohmann::json& resolve(const std::string& ref) const {
    if (ref.empty() || ref[0] != '#')
      throw std::runtime_error("json_schema: only local $ref ('#/...') is supported: " + ref);
    const auto pointer = nlohmann::json::json_pointer(ref.substr(1));
    if (!root.contains(pointer))
      throw std::runtime_error("json_schema: $ref to nothing: " + ref);
    return root.at(pointer);
  }

  // The violations of `s` by `v`, without touching `out` (for oneOf/anyOf).
  std::vector<std::string> try_check(const nlohmann::json& s, const nlohmann::json& v,
                                     const std::string& at) const {
    std::vector<std::string> out;
    check(s, v, at, out);
    return out;
  }

  void check(const nlohmann::json& s, const nlohmann::json& v, const std::string& at,
             std::vector<std::string>& out) const {
    if (s.is_boolean()) {
      if (!s.get<bool>())
        out.push_back(at + ": not allowed");
      return;
    }
    if (s.contains("$ref"))
      check(resolve(s["$ref"].get<std::string>()), v, at, out);
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
    if (s.contains("const") && s["const"] != v)
      out.push_back(at + ": " + v.dump() + " is not " + s["const"].dump());
    if (v.is_number()) {
      if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>())
        out.push_back(at + ": " + v.dump() + " < minimum " + s["minimum"].dump());
      if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>())
        out.push_back(at + ": " + v.dump() + " > maximum " + s["maximum"].dump());
    }
    if (v.is_string()) {
      const auto& str = v.get_ref<const std::string&>();
      if (s.contains("minLength") && str.size() < s["minLength"].get<std::size_t>())
        out.push_back(at + ": " + v.dump() + " shorter than " + s["minLength"].dump());
      if (s.contains("pattern") && !matches(s["pattern"].get<std::string>(), str))
        out.push_back(at + ": " + v.dump() + " does not match " + s["pattern"].dump());
    }
    if (v.is_object()) {
      if (s.contains("required")) {
        for (const auto& r : s["required"]) {
          if (!v.contains(r.get<std::string>()))
            out.push_back(at + ": missing " + r.dump());
        }
      }
      for (const auto& [k, member] : v.items()) {
        bool described = false;
        if (s.contains("properties") && s["properties"].contains(k)) {
          described = true;
          check(s["properties"][k], member, at + "." + k, out);
        }
        if (s.contains("patternProperties")) {
          for (const auto& [pattern, sub] : s["patternProperties"].items()) {
            if (matches(pattern, k)) {
              described = true;
              check(sub, member, at + "." + k, out);
            }
          }
        }
        if (!described && s.contains("additionalProperties")) {
          const auto& extra = s["additionalProperties"];
          if (extra.is_boolean() && !extra.get<bool>())
            out.push_back(at + ": unexpected member \"" + k + "\"");
          else
            check(extra, member, at + "." + k, out);
        }
      }
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<std::size_t>())
        out.push_back(at + ": " + std::to_string(v.size()) + " items, fewer than " +
                      s["minItems"].dump());
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<std::size_t>())
        out.push_back(at + ": " + std::to_string(v.size()) + " items, more than " +
                      s["maxItems"].dump());
      if (s.contains("items")) {
        for (std::size_t i = 0; i < v.size(); ++i)
          check(s["items"], v[i], at + "[" + std::to_string(i) + "]", out);
      }
    }
    if (s.contains("allOf")) {
      for (const auto& sub : s["allOf"])
        check(sub, v, at, out);
    }
    if (s.contains("anyOf") || s.contains("oneOf")) {
      const bool one = s.contains("oneOf");
      const auto& branches = one ? s["oneOf"] : s["anyOf"];
      std::size_t matched = 0;
      std::vector<std::string> why;
      for (std::size_t b = 0; b < branches.size(); ++b) {
        auto problems = try_check(branches[b], v, at);
        if (problems.empty())
          ++matched;
        else
          why.push_back("branch " + std::to_string(b) + ": " + problems.front());
      }
      if (matched == 0) {
        std::string text = at + ": matches no branch of " + (one ? "oneOf" : "anyOf");
        for (const auto& w : why)
          text += " [" + w + "]";
        out.push_back(text);
      } else if (one && matched > 1) {
        out.push_back(at + ": matches " + std::to_string(matched) + " branches of oneOf");
      }
    }
  }
};

const std::set<std::string>& known_keywords() {
  static const std::set<std::string> k = {
      // checked
      "type", "enum", "const", "required", "properties", "patternProperties",
      "additionalProperties", "items", "minItems", "maxItems", "minLength", "pattern", "minimum",
      "maximum", "oneOf", "anyOf", "allOf", "$ref", "$defs",
      // annotations
      "$schema", "$id", "$comment", "title", "description", "examples"};
  return k;
}

void walk(const nlohmann::json& s, const std::string& at, std::vector<std::string>& out) {
  if (!s.is_object())
    return;
  for (const auto& [k, sub] : s.items()) {
    if (!known_keywords().count(k)) {
      out.push_back(at + ": " + k);
      continue;
    }
    if (k == "properties" || k == "patternProperties" || k == "$defs") {
      for (const auto& [name, child] : sub.items())
        walk(child, at + "/" + k + "/" + name, out);
    } else if (k == "items" || k == "additionalProperties") {
      walk(sub, at + "/" + k, out);
    } else if (k == "oneOf" || k == "anyOf" || k == "allOf") {
      for (std::size_t i = 0; i < sub.size(); ++i)
        walk(sub[i], at + "/" + k + "/" + std::to_string(i), out);
    }
  }
}

} // namespace

std::vector<std::string> check_schema(const nlohmann::json& schema, const nlohmann::json& value) {
  std::vector<std::string> out;
  Checker{schema}.check(schema, value, "$", out);
  return out;
}

std::vector<std::string> unsupported_keywords(const nlohmann::json& schema) {
  std::vector<std::string> out;
  walk(schema, "#", out);
  return out;
}

nlohmann::json load_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  return nlohmann::json::parse(in);
}

} // namespace edgeshake::testing
