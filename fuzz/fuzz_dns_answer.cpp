// libFuzzer: the DNS answer handling edgeshake does itself. c-ares parses the
// wire format; edgeshake turns its ares_addrinfo (CNAME links + address nodes)
// into a ResolveResult (resolve/answer.cpp) and runs CDN detection on it
// (resolve/cdn_detect.cpp, with the bundled profiles/cdn data). The fuzz bytes
// build the ares_addrinfo: CNAME links with null / empty / long / non-ASCII /
// looping names, nodes of AF_INET, AF_INET6 and bogus families with a null
// ai_addr or an ai_addrlen shorter or longer than the sockaddr (each ai_addr is
// allocated at exactly ai_addrlen bytes, so ASan sees any read past it).
// Checked after every run: the promises in resolve/answer.hpp (status, address
// text, uniqueness and order, chain names clean and unique), that the names
// serialise as JSON, and that every CDN match points at a name or address of
// the result.
#include "resolve/answer.hpp"
#include "resolve/resolve.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

namespace rs = edgeshake::resolve;

[[noreturn]] void broken(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_dns_answer: invariant broken: %s [%s]\n", what, detail.c_str());
  std::abort();
}

// Owns everything the ares_addrinfo points to (freed by us, not ares_freeaddrinfo).
struct Answer {
  ares_addrinfo ai{};
  std::vector<std::unique_ptr<ares_addrinfo_cname>> cnames;
  std::vector<std::unique_ptr<ares_addrinfo_node>> nodes;
  std::vector<std::unique_ptr<char[]>> blobs; // names and sockaddrs
};

char* keep_string(Answer& a, const std::string& s) {
  auto p = std::make_unique<char[]>(s.size() + 1);
  std::memcpy(p.get(), s.c_str(), s.size() + 1); // stops at the first NUL, as C does
  a.blobs.push_back(std::move(p));
  return a.blobs.back().get();
}

std::string some_name(FuzzedDataProvider& in, const std::vector<std::string>& earlier) {
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
  case 0:
    if (!earlier.empty())
      return earlier[in.ConsumeIntegralInRange<std::size_t>(0, earlier.size() - 1)];
    return "www.example.test";
  case 1:
    return "";
  case 2: { // long: one label repeated
    std::string label = in.ConsumeRandomLengthString(70);
    std::string out;
    std::size_t n = in.ConsumeIntegralInRange<std::size_t>(1, 80);
    for (std::size_t i = 0; i < n; ++i)
      out += label + ".";
    return out;
  }
  case 3: { // something a CDN file knows
    static const char* known[] = {"x.cdn.cloudflare.net.", "D111.CLOUDFRONT.NET", "a.edgekey.net",
                                  "b.azurefd.net",         "c.b-cdn.net",         "d.fastly.net"};
    return known[in.ConsumeIntegralInRange<std::size_t>(0, std::size(known) - 1)];
  }
  default:
    return in.ConsumeRandomLengthString(300);
  }
}

sockaddr* make_addr(Answer& a, FuzzedDataProvider& in, int family, std::size_t len) {
  auto p = std::make_unique<char[]>(len == 0 ? 1 : len);
  std::memset(p.get(), 0, len == 0 ? 1 : len);
  // What sits where the address would be: fuzz bytes over the whole length.
  auto bytes = in.ConsumeBytes<char>(len);
  if (!bytes.empty())
    std::memcpy(p.get(), bytes.data(), bytes.size());
  if (len >= sizeof(sa_family_t) && in.ConsumeBool()) {
    sa_family_t f = static_cast<sa_family_t>(family);
    std::memcpy(p.get(), &f, sizeof f);
  }
  a.blobs.push_back(std::move(p));
  return reinterpret_cast<sockaddr*>(a.blobs.back().get());
}

void build(Answer& a, FuzzedDataProvider& in, const std::string& asked) {
  std::vector<std::string> names{asked};
  const std::size_t ncnames = in.ConsumeIntegralInRange<std::size_t>(0, 24);
  ares_addrinfo_cname** link = &a.ai.cnames;
  for (std::size_t i = 0; i < ncnames && in.remaining_bytes() > 0; ++i) {
    auto c = std::make_unique<ares_addrinfo_cname>();
    c->ttl = in.ConsumeIntegral<int>();
    // Usually a chain: the alias is a name seen before.
    std::string alias = in.ConsumeProbability<float>() < 0.7f ? names.back() : some_name(in, names);
    std::string target = some_name(in, names);
    const int nulls = in.ConsumeIntegralInRange<int>(0, 9);
    c->alias = nulls == 0 ? nullptr : keep_string(a, alias);
    c->name = nulls == 1 ? nullptr : keep_string(a, target);
    names.push_back(target);
    *link = c.get();
    link = &c->next;
    a.cnames.push_back(std::move(c));
  }
  const std::size_t nnodes = in.ConsumeIntegralInRange<std::size_t>(0, 40);
  ares_addrinfo_node** next = &a.ai.nodes;
  for (std::size_t i = 0; i < nnodes && in.remaining_bytes() > 0; ++i) {
    auto n = std::make_unique<ares_addrinfo_node>();
    n->ai_ttl = in.ConsumeIntegral<int>();
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:
    case 1:
      n->ai_family = AF_INET;
      break;
    case 2:
    case 3:
      n->ai_family = AF_INET6;
      break;
    case 4:
      n->ai_family = AF_UNSPEC;
      break;
    default:
      n->ai_family = in.ConsumeIntegral<int>();
    }
    const std::size_t natural =
        n->ai_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    std::size_t len = natural;
    switch (in.ConsumeIntegralInRange<int>(0, 6)) {
    case 0:
      len = in.ConsumeIntegralInRange<std::size_t>(0, natural - 1); // too short
      break;
    case 1:
      len = in.ConsumeIntegralInRange<std::size_t>(natural, 128); // longer
      break;
    case 2:
      len = sizeof(sockaddr_in); // an IPv4-sized buffer whatever the family
      break;
    default:
      break;
    }
    n->ai_addrlen = static_cast<ares_socklen_t>(len);
    n->ai_addr =
        in.ConsumeIntegralInRange<int>(0, 9) == 0 ? nullptr : make_addr(a, in, n->ai_family, len);
    *next = n.get();
    next = &n->ai_next;
    a.nodes.push_back(std::move(n));
  }
  a.ai.name = keep_string(a, asked);
}

bool clean(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e || (c >= 'A' && c <= 'Z'))
      return false;
  }
  return !s.empty() && s.back() != '.';
}

void check(const rs::ResolveResult& r, int status, std::size_t ncnames, std::size_t nnodes) {
  if (status == ARES_SUCCESS) {
    if ((r.status == rs::ResolveStatus::ok) != !r.addresses.empty())
      broken("ok must mean at least one address");
    if (r.addresses.empty() && r.status != rs::ResolveStatus::no_data)
      broken("success without addresses must be no_data");
  } else if (r.status != rs::classify_ares_status(status)) {
    broken("status does not follow the c-ares status");
  }
  if (r.status != rs::ResolveStatus::ok && r.detail.empty())
    broken("no detail for a failure");
  if (r.addresses.size() > nnodes)
    broken("more addresses than nodes");
  std::set<std::string> ips;
  bool seen_v6 = false;
  for (const auto& a : r.addresses) {
    if (!ips.insert(a.ip).second)
      broken("address twice", a.ip);
    const bool v6 = a.family == edgeshake::AddressFamily::ipv6;
    if (seen_v6 && !v6)
      broken("IPv4 after IPv6", a.ip);
    seen_v6 = seen_v6 || v6;
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(v6 ? AF_INET6 : AF_INET, a.ip.c_str(), buf) != 1)
      broken("address text does not parse for its family", a.ip);
    if (a.ttl > static_cast<std::uint32_t>(INT32_MAX))
      broken("ttl out of range", a.ip);
  }
  if (r.cname_chain.size() > ncnames)
    broken("longer chain than CNAME links");
  std::set<std::string> chain;
  for (const auto& c : r.cname_chain) {
    if (!clean(c))
      broken("chain name not clean", c);
    if (!chain.insert(c).second)
      broken("chain name twice", c);
  }
  // What the reporters do with it: JSON (throws on invalid UTF-8).
  nlohmann::json j = {{"chain", r.cname_chain}, {"detail", r.detail}};
  for (const auto& a : r.addresses)
    j["addresses"].push_back(a.ip);
  (void)j.dump();

  const auto& db = rs::CdnDatabase::bundled();
  for (const auto& m : db.detect_all(r)) {
    // match_name() matches the asked name lower-cased, trailing dots dropped.
    std::string lowered = r.name;
    for (auto& ch : lowered)
      ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    while (!lowered.empty() && lowered.back() == '.')
      lowered.pop_back();
    const bool known = m.on == lowered || chain.count(m.on) > 0 || ips.count(m.on) > 0;
    if (!known)
      broken("CDN match on something not in the result", m.on);
    if (m.cdn.empty() || m.matched.empty())
      broken("CDN match without provider or evidence", m.on);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  static const int statuses[] = {ARES_SUCCESS,   ARES_SUCCESS,      ARES_SUCCESS,  ARES_ENODATA,
                                 ARES_ENOTFOUND, ARES_ESERVFAIL,    ARES_EREFUSED, ARES_ETIMEOUT,
                                 ARES_EBADNAME,  ARES_ECONNREFUSED, ARES_ENOMEM,   ARES_ECANCELLED};
  const int status =
      in.ConsumeBool()
          ? statuses[in.ConsumeIntegralInRange<std::size_t>(0, std::size(statuses) - 1)]
          : in.ConsumeIntegral<int>();
  const int timeouts = in.ConsumeIntegral<int>();
  const std::string asked =
      in.ConsumeBool() ? "www.example.test" : in.ConsumeRandomLengthString(300);
  Answer a;
  const bool null_answer = in.ConsumeIntegralInRange<int>(0, 15) == 0;
  if (!null_answer)
    build(a, in, asked);
  auto r = rs::result_from_answer(asked, status, timeouts, null_answer ? nullptr : &a.ai);
  static const bool print = std::getenv("FUZZ_DNS_ANSWER_PRINT") != nullptr;
  if (print) { // checking a seed: FUZZ_DNS_ANSWER_PRINT=1 fuzz_dns_answer SEED
    std::fprintf(stderr, "asked '%s' status %d (%s), %zu links, %zu nodes\n", asked.c_str(),
                 static_cast<int>(r.status), r.detail.c_str(), a.cnames.size(), a.nodes.size());
    for (const auto& c : r.cname_chain)
      std::fprintf(stderr, "  cname %s\n", c.c_str());
    for (const auto& x : r.addresses)
      std::fprintf(stderr, "  address %s ttl %u\n", x.ip.c_str(), x.ttl);
    for (const auto& m : rs::CdnDatabase::bundled().detect_all(r))
      std::fprintf(stderr, "  cdn %s: %s on %s\n", m.cdn.c_str(), m.matched.c_str(), m.on.c_str());
  }
  if (r.name != asked || r.timeouts != timeouts)
    broken("name or timeouts not kept");
  check(r, status, a.cnames.size(), a.nodes.size());
  return 0;
}
