// c-ares' ares_addrinfo -> ResolveResult (see answer.hpp). No Asio here.
#include "resolve/answer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace edgeshake::resolve {

namespace {

// The chain from `asked` following alias -> name links. c-ares 1.18.1 appends
// the CNAMEs of the A and of the AAAA answer, so links can repeat.
std::vector<std::string> cname_chain(const std::string& asked, const ares_addrinfo_cname* c) {
  std::unordered_map<std::string, std::string> next;
  std::vector<std::string> in_order;
  std::unordered_set<std::string> targets;
  for (; c; c = c->next) {
    if (!c->alias || !c->name)
      continue;
    std::string alias = clean_name(c->alias);
    std::string target = clean_name(c->name);
    if (alias.empty() || target.empty())
      continue; // the root: no name to follow or to match
    if (next.emplace(alias, target).second && targets.insert(target).second)
      in_order.push_back(target);
  }
  std::vector<std::string> chain;
  std::unordered_set<std::string> on_chain;
  std::string cur = clean_name(asked);
  for (std::size_t i = 0; i < next.size() + 1; ++i) {
    auto it = next.find(cur);
    if (it == next.end())
      break;
    cur = it->second;
    if (!on_chain.insert(cur).second)
      break; // loop
    chain.push_back(cur);
  }
  if (chain.empty() && !in_order.empty())
    return in_order; // links did not start at the asked name: report as received
  return chain;
}

// One node as an Address, or false when it is not a usable A/AAAA address.
bool address_of(const ares_addrinfo_node& n, Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!n.ai_addr)
    return false;
  if (n.ai_family == AF_INET && n.ai_addrlen >= sizeof(sockaddr_in)) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(n.ai_addr);
    if (!inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf))
      return false;
    a.family = AddressFamily::ipv4;
  } else if (n.ai_family == AF_INET6 && n.ai_addrlen >= sizeof(sockaddr_in6)) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(n.ai_addr);
    if (!inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf))
      return false;
    a.family = AddressFamily::ipv6;
  } else {
    return false;
  }
  a.ip = buf;
  a.ttl = n.ai_ttl < 0 ? 0u : static_cast<std::uint32_t>(n.ai_ttl);
  return true;
}

std::vector<Address> addresses_of(const ares_addrinfo_node* n) {
  std::vector<Address> out;
  std::unordered_set<std::string> seen;
  for (; n; n = n->ai_next) {
    Address a;
    if (address_of(*n, a) && seen.insert(a.ip).second)
      out.push_back(std::move(a));
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const Address& x) { return x.family == AddressFamily::ipv4; });
  return out;
}

} // namespace

std::string clean_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (unsigned char c : name) {
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (c < 0x21 || c > 0x7e) {
      out += '\\';
      out += static_cast<char>('0' + c / 100);
      out += static_cast<char>('0' + c / 10 % 10);
      out += static_cast<char>('0' + c % 10);
    } else {
      out += static_cast<char>(c);
    }
  }
  while (!out.empty() && out.back() == '.')
    out.pop_back();
  return out;
}

ResolveStatus classify_ares_status(int status) {
  switch (status) {
  case ARES_SUCCESS:
    return ResolveStatus::ok;
  case ARES_ENOTFOUND:
    return ResolveStatus::nxdomain;
  case ARES_ENODATA:
    return ResolveStatus::no_data;
  case ARES_ESERVFAIL:
    return ResolveStatus::servfail;
  case ARES_EREFUSED:
    return ResolveStatus::refused;
  case ARES_ETIMEOUT:
    return ResolveStatus::timeout;
  case ARES_EBADNAME:
    return ResolveStatus::bad_name;
  default:
    return ResolveStatus::error;
  }
}

ResolveResult result_from_answer(const std::string& name, int status, int timeouts,
                                 const ares_addrinfo* answer) {
  ResolveResult r;
  r.name = name;
  r.timeouts = timeouts;
  if (answer) {
    r.cname_chain = cname_chain(name, answer->cnames);
    r.addresses = addresses_of(answer->nodes);
  }
  if (status == ARES_SUCCESS) {
    r.status = r.addresses.empty() ? ResolveStatus::no_data : ResolveStatus::ok;
    r.detail = r.addresses.empty() ? "no A or AAAA records" : "";
  } else {
    r.status = classify_ares_status(status);
    r.detail = ares_strerror(status);
    if (status == ARES_ECONNREFUSED)
      r.detail += " (nothing answered: ICMP port unreachable or connection refused)";
  }
  return r;
}

} // namespace edgeshake::resolve
