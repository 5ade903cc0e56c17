// Private: c-ares' answer (an ares_addrinfo: CNAME links + address nodes) turned
// into a ResolveResult. Pure: no channel, no Asio, no allocation kept from c-ares,
// so fuzz/fuzz_dns_answer.cpp feeds it arbitrary answers. ares_bridge.cpp calls
// it from inside the ares_getaddrinfo callback.
#pragma once

#include "resolve/resolve.hpp"

#include <ares.h>

#include <string>
#include <string_view>

namespace edgeshake::resolve {

// Classifies an ares_getaddrinfo status (ARES_ENOTFOUND -> nxdomain, ...).
ResolveStatus classify_ares_status(int status);

// A DNS name as edgeshake stores it: lower case, no trailing dots, every byte
// outside printable ASCII escaped as "\DDD" (as ares_expand_name already does;
// its own backslash escapes pass through), so a stored name is always one
// printable ASCII word: safe in a terminal line and in JSON.
std::string clean_name(std::string_view name);

// The result for `name` (as asked) from ares_getaddrinfo's (status, timeouts,
// answer); `answer` may be null. What it promises (fuzzed):
//   - cname_chain: the names reached from `name` by following alias -> name
//     links, in order, each once (a loop ends the chain); when no link starts at
//     `name`, the link targets as received (each once); names are clean_name()d;
//     links with a null or empty (root) alias or name are skipped;
//   - addresses: AF_INET / AF_INET6 nodes whose ai_addr is non-null, of that
//     family and at least sizeof(sockaddr_in / sockaddr_in6) long (anything else
//     is skipped), as inet_ntop text, each address once (first TTL wins), IPv4
//     before IPv6, order within a family as received; a negative TTL is 0;
//   - status: classify_ares_status(status), except that ARES_SUCCESS with no
//     usable address is no_data; detail is empty for ok and says why otherwise.
// `elapsed` is left at 0 (the bridge measures it).
ResolveResult result_from_answer(const std::string& name, int status, int timeouts,
                                 const ares_addrinfo* answer);

} // namespace edgeshake::resolve
