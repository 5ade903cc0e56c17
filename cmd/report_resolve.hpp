// Rendering of resolve results (ResolveResult, CdnMatch, TargetsResult) as text
// and as JSON (docs/resolve.md). Shared by `resolve` and `diagnose`.
#pragma once

#include "cmd/command.hpp"
#include "resolve/resolve.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace edgeshake::cmd {

// {"name","status","detail","cname_chain":[...],"addresses":[{"ip","family","ttl"}],
//  "elapsed_ms","timeouts"}
nlohmann::json to_json(const resolve::ResolveResult& r);
// {"cdn","name","evidence_kind","matched","on","source"}
nlohmann::json to_json(const resolve::CdnMatch& m);
// {"name","address","port","family"}
nlohmann::json to_json(const resolve::Target& t);
// {"input","resolution": ResolveResult|null,"targets":[Target...],"status"}
nlohmann::json to_json(const resolve::TargetsResult& t);

std::string_view to_string(AddressFamily f); // "ipv4" / "ipv6"

// "name     www.example.com\nstatus   ok (3 ms)\nchain ...\naddress ...\n"
std::string resolve_text(const resolve::ResolveResult& r, const Style& style);
// "cdn      Cloudflare [cloudflare]\nevidence ...\n", or "cdn      none detected\n".
std::string cdn_text(const std::vector<resolve::CdnMatch>& evidence, const Style& style);
// "origin   origin.example:443 -> 2 targets\ntarget   192.0.2.1:443\n..."
std::string targets_text(const resolve::TargetsResult& t, const Style& style);

} // namespace edgeshake::cmd
