// The resolver against a real dnsmasq on loopback (and two purpose-built
// servers: a silent port and a fixed-RCODE server). Never the system resolver:
// every Resolver here is given the fixture's address.
#include "resolve/resolve.hpp"
#include "tests/support/dnsmasq.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>

namespace edgeshake::resolve {

void PrintTo(ResolveStatus s, std::ostream* os) {
  *os << to_string(s);
}

namespace {

using namespace std::chrono_literals;
using testing::Dnsmasq;
using testing::DnsmasqOptions;

const char* const k_zone = R"(
www.example.test        A      127.0.0.10
www.example.test        AAAA   ::10
v4only.example.test     A      127.0.0.30
v6only.example.test     AAAA   ::31
multi.example.test      A      127.0.0.21
multi.example.test      A      127.0.0.22
multi.example.test      A      127.0.0.23
multi.example.test      A      127.0.0.24
txtonly.example.test    TXT    nothing-but-text
# CNAME chain ending under a Cloudflare suffix, at an address in a Cloudflare range
shop.example.test       CNAME  alias.example.test
alias.example.test      CNAME  shop.example.test.cdn.cloudflare.net
shop.example.test.cdn.cloudflare.net  A  104.16.1.1
# CNAME to a CloudFront distribution name (suffix only, loopback address)
cf.example.test         CNAME  d1234abcd.cloudfront.net
d1234abcd.cloudfront.net  A    127.0.0.40
# A CNAME whose target does not exist
dangling.example.test   CNAME  gone.example.test
# Not CloudFront: the suffix must match on a label boundary
evil.example.test       CNAME  www.evilcloudfront.net
www.evilcloudfront.net  A      127.0.0.41
)";

// 60 A records: the UDP answer is truncated (> 512 bytes) and c-ares retries over TCP.
std::string big_zone() {
  std::string z;
  for (int i = 1; i <= 60; ++i)
    z += "big.example.test A 127.0.1." + std::to_string(i) + "\n";
  return z;
}

enum class Family { v4, v6 };

std::string family_name(const ::testing::TestParamInfo<Family>& info) {
  return info.param == Family::v4 ? "Ipv4Server" : "Ipv6Server";
}

// One dnsmasq for the whole suite (listening on 127.0.0.1 and, if possible, ::1).
class ResolverTest : public ::testing::TestWithParam<Family> {
protected:
  static void SetUpTestSuite() {
    if (!testing::find_program("dnsmasq"))
      return;
    s_ipv6 = testing::loopback_ipv6_available();
    DnsmasqOptions opts;
    opts.ipv6 = s_ipv6;
    opts.ttl = 123;
    s_dns = std::make_unique<Dnsmasq>(std::string(k_zone) + big_zone(), opts);
  }
  static void TearDownTestSuite() { s_dns.reset(); }

  void SetUp() override {
    ES_REQUIRE_PROGRAM("dnsmasq");
    ASSERT_TRUE(s_dns);
    if (GetParam() == Family::v6 && !s_ipv6)
      GTEST_SKIP() << "no IPv6 loopback here";
  }

  ResolverOptions options() const {
    ResolverOptions o;
    o.servers = {GetParam() == Family::v4 ? s_dns->server() : s_dns->server6()};
    o.timeout = 1000ms;
    o.tries = 2;
    return o;
  }

  ResolveResult resolve(const std::string& name) {
    auto r = resolve_all({name}, options());
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    if (!r)
      return {};
    return r->at(0);
  }

  static std::vector<std::string> ips(const ResolveResult& r) {
    std::vector<std::string> out;
    for (const auto& a : r.addresses)
      out.push_back(a.ip);
    return out;
  }

  static inline std::unique_ptr<Dnsmasq> s_dns;
  static inline bool s_ipv6 = false;
};

TEST_P(ResolverTest, ARecordAndAaaaRecordInOneLookup) {
  auto r = resolve("www.example.test");
  ASSERT_EQ(r.status, ResolveStatus::ok) << r.detail << "\n" << s_dns->log();
  ASSERT_EQ(r.addresses.size(), 2u);
  EXPECT_EQ(r.addresses[0], (Address{"127.0.0.10", AddressFamily::ipv4, 123}));
  EXPECT_EQ(r.addresses[1], (Address{"::10", AddressFamily::ipv6, 123}));
  EXPECT_TRUE(r.cname_chain.empty());
  EXPECT_EQ(r.name, "www.example.test");
}

TEST_P(ResolverTest, CaseAndTrailingDotDoNotMatter) {
  auto r = resolve("WWW.Example.TEST.");
  ASSERT_EQ(r.status, ResolveStatus::ok) << r.detail;
  EXPECT_EQ(r.name, "WWW.Example.TEST."); // as asked
  EXPECT_EQ(r.addresses.size(), 2u);
  auto chain = resolve("SHOP.example.test");
  ASSERT_EQ(chain.status, ResolveStatus::ok) << chain.detail;
  EXPECT_EQ(chain.cname_chain.size(), 2u);
}

TEST_P(ResolverTest, NameWithoutAaaaHasOnlyItsARecord) {
  auto r = resolve("v4only.example.test");
  ASSERT_EQ(r.status, ResolveStatus::ok) << r.detail;
  EXPECT_EQ(ips(r), std::vector<std::string>{"127.0.0.30"});
}

TEST_P(ResolverTest, NameWithOnlyAaaa) {
  auto r = resolve("v6only.example.test");
  ASSERT_EQ(r.status, ResolveStatus::ok) << r.detail;
  ASSERT_EQ(r.addresses.size(), 1u);
  EXPECT_EQ(r.addresses[0].ip, "::31");
  EXPECT_EQ(r.addresses[0].family, AddressFamily::ipv6);
}

TEST_P(ResolverTest, SeveralARecordsAreAllReturnedAndExpandToSeveralTargets) {
  auto r = resolve("multi.example.test");
  ASSERT_EQ(r.status, ResolveStatus::ok) << r.detail;
  auto got = ips(r);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got,
            (std::vector<std::string>{"127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24"}));

  auto t = expand_all({HostPort{"multi.example.test", 8443, false}}, 443, options());
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 1u);
  const TargetsResult& tr = t->at(0);
  EXPECT_EQ(tr.input, "multi.example.test:8443");
  ASSERT_TRUE(tr.resolution);
  ASSERT_EQ(tr.targets.size(), 4u);
  for (const auto& target : tr.targets) {
    EXPECT_EQ(target.name, "multi.example.test");
    EXPECT_EQ(target.endpoint.port, 8443);
    EXPECT_EQ(target.family, AddressFamily::ipv4);
  }
  std::vector<std::string> addrs;
  for (const auto& target : tr.targets)
    addrs.push_back(target.endpoint.address);
  std::sort(addrs.begin(), addrs.end());
  EXPECT_EQ(addrs, got);
}

TEST_P(ResolverTest, CnameChainToCdnSuffixIsDetectedWithEvidence) {
  auto r = resolve("shop.example.test");
  ASSERT_EQ(r.status, ResolveStatus::ok) << r.detail;
  EXPECT_EQ(r.cname_chain, (std::vector<std::string>{"alias.example.test",
                                                     "shop.example.test.cdn.cloudflare.net"}));
  EXPECT_EQ(ips(r), std::vector<std::string>{"104.16.1.1"});

  const auto& db = CdnDatabase::bundled();
  auto all = db.detect_all(r);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].cdn, "cloudflare");
  EXPECT_EQ(all[0].evidence_kind, "cname_suffix");
  EXPECT_EQ(all[0].matched, "cdn.cloudflare.net");
  EXPECT_EQ(all[0].on, "shop.example.test.cdn.cloudflare.net");
  EXPECT_NE(all[0].source.find("developers.cloudflare.com"), std::string::npos);
  EXPECT_EQ(all[1].cdn, "cloudflare");
  EXPECT_EQ(all[1].evidence_kind, "ip_range");
  EXPECT_EQ(all[1].matched, "104.16.0.0/13");
  EXPECT_EQ(all[1].on, "104.16.1.1");
  EXPECT_EQ(db.detect(r), all[0]);
}

TEST_P(ResolverTest, CloudFrontSuffixAndLabelBoundary) {
  const auto& db = CdnDatabase::bundled();
  auto cf = resolve("cf.example.test");
  ASSERT_EQ(cf.status, ResolveStatus::ok) << cf.detail;
  EXPECT_EQ(cf.cname_chain, std::vector<std::string>{"d1234abcd.cloudfront.net"});
  auto m = db.detect(cf);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cdn, "cloudfront");
  EXPECT_EQ(m->matched, "cloudfront.net");
  EXPECT_EQ(m->on, "d1234abcd.cloudfront.net");

  auto evil = resolve("evil.example.test");
  ASSERT_EQ(evil.status, ResolveStatus::ok) << evil.detail;
  EXPECT_EQ(evil.cname_chain, std::vector<std::string>{"www.evilcloudfront.net"});
  EXPECT_FALSE(db.detect(evil));
}

TEST_P(ResolverTest, NxdomainIsDistinctFromNoData) {
  auto nx = resolve("does-not-exist.example.test");
  EXPECT_EQ(nx.status, ResolveStatus::nxdomain) << nx.detail;
  EXPECT_TRUE(nx.addresses.empty());

  auto nodata = resolve("txtonly.example.test");
  EXPECT_EQ(nodata.status, ResolveStatus::no_data) << nodata.detail;
  EXPECT_TRUE(nodata.addresses.empty());

  auto t =
      expand_all({HostPort{"does-not-exist.example.test", std::nullopt, false}}, 443, options());
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->at(0).ok());
  ASSERT_TRUE(t->at(0).resolution);
  EXPECT_EQ(t->at(0).resolution->status, ResolveStatus::nxdomain);
}

TEST_P(ResolverTest, TruncatedUdpAnswerIsRetriedOverTcp) {
  auto r = resolve("big.example.test");
  ASSERT_EQ(r.status, ResolveStatus::ok) << r.detail;
  EXPECT_EQ(r.addresses.size(), 60u);
  EXPECT_EQ(r.timeouts, 0);
  // c-ares 1.18.1 sends no EDNS, so the UDP answer holds 29 records with TC set
  // (checked with dig +noedns); all 60 arriving proves the TCP retry worked.
}

TEST_P(ResolverTest, DanglingCnameIsNoData) {
  // dnsmasq answers NOERROR with only the CNAME (an authoritative server would
  // usually say NXDOMAIN); c-ares reports ARES_ENODATA and no addrinfo.
  auto r = resolve("dangling.example.test");
  EXPECT_EQ(r.status, ResolveStatus::no_data) << r.detail;
  EXPECT_TRUE(r.addresses.empty());
  // Known limitation (docs/resolve.md): c-ares 1.18.1 hands ares_getaddrinfo's
  // callback no addrinfo on failure, so the CNAME chain of a failed name is lost.
  EXPECT_TRUE(r.cname_chain.empty());
}

TEST_P(ResolverTest, RefusedWhenServerHasNoDataForTheZone) {
  // dnsmasq has no upstream: names outside its local zones are REFUSED.
  auto r = resolve("www.example.invalid");
  EXPECT_EQ(r.status, ResolveStatus::refused) << r.detail;
}

TEST_P(ResolverTest, MalformedNamesAreRejectedBeforeAnyQuery) {
  for (std::string name : std::vector<std::string>{
           "", "bad..example.test", "-lead.example.test", "trail-.example.test",
           "has space.example.test", std::string(64, 'a') + ".example.test", "127.0.0.1", "::1"}) {
    auto r = resolve(name);
    EXPECT_EQ(r.status, ResolveStatus::bad_name) << "'" << name << "': " << r.detail;
    EXPECT_EQ(r.name, name);
  }
}

TEST_P(ResolverTest, ManyConcurrentLookupsOnOneLoopWithoutLosingAnswers) {
  // 150 names (300 queries) at once. Without the max_in_flight cap, a burst
  // like this lost answers to full UDP receive buffers (timed-out tries, one
  // timeout late); with it, every answer arrives on the first try.
  std::vector<std::string> names;
  for (int i = 0; i < 50; ++i) {
    names.push_back("www.example.test");
    names.push_back("multi.example.test");
    names.push_back("nope" + std::to_string(i) + ".example.test");
  }
  for (std::size_t cap : {std::size_t{64}, std::size_t{1}}) {
    ResolverOptions o = options();
    o.max_in_flight = cap;
    auto start = std::chrono::steady_clock::now();
    auto r = resolve_all(names, o);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r);
    int timeouts = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
      ResolveStatus want = (i % 3 == 2) ? ResolveStatus::nxdomain : ResolveStatus::ok;
      EXPECT_EQ(r->at(i).status, want) << names[i];
      EXPECT_EQ(r->at(i).name, names[i]);
      timeouts += r->at(i).timeouts;
    }
    EXPECT_EQ(timeouts, 0) << "cap " << cap;
    std::printf("150 names, max_in_flight %zu: %lld ms\n", cap,
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  }
}

TEST_P(ResolverTest, CallbacksRunOnTheLoopAndNotInsideResolve) {
  asio::io_context io;
  auto resolver = Resolver::create(io, options());
  ASSERT_TRUE(resolver) << resolver.error().to_string();
  int done = 0;
  bool inside = true;
  (*resolver)->resolve("www.example.test", [&](ResolveResult r) {
    EXPECT_FALSE(inside);
    EXPECT_EQ(r.status, ResolveStatus::ok);
    ++done;
  });
  (*resolver)->resolve("bad..name", [&](ResolveResult r) {
    EXPECT_FALSE(inside);
    EXPECT_EQ(r.status, ResolveStatus::bad_name);
    ++done;
  });
  (*resolver)->expand(HostPort{"192.0.2.7", std::nullopt, true}, 443, [&](TargetsResult t) {
    EXPECT_FALSE(inside);
    EXPECT_FALSE(t.resolution); // no DNS for IP literals
    ASSERT_EQ(t.targets.size(), 1u);
    EXPECT_EQ(t.targets[0].endpoint, (Endpoint{"192.0.2.7", 443}));
    ++done;
  });
  inside = false;
  io.run_for(5s);
  EXPECT_EQ(done, 3);
}

TEST_P(ResolverTest, DestroyingTheResolverWithLookupsInFlightDropsThem) {
  testing::SilentUdpPort silent(GetParam() == Family::v4 ? "127.0.0.1" : "::1");
  asio::io_context io;
  ResolverOptions o = options();
  o.servers = {silent.server()};
  auto resolver = Resolver::create(io, o);
  ASSERT_TRUE(resolver);
  int called = 0;
  (*resolver)->resolve("www.example.test", [&](ResolveResult) { ++called; });
  io.run_for(50ms); // the query is sent and pending
  resolver->reset();
  io.run_for(50ms);
  EXPECT_EQ(called, 0);
}

TEST_P(ResolverTest, SilentServerTimesOutWithinTheConfiguredTime) {
  testing::SilentUdpPort silent(GetParam() == Family::v4 ? "127.0.0.1" : "::1");
  ResolverOptions o;
  o.servers = {silent.server()};
  o.timeout = 200ms;
  o.tries = 2; // c-ares 1.18.1: 200 ms, then 400 ms
  auto start = std::chrono::steady_clock::now();
  auto r = resolve_all({"www.example.test"}, o);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at(0).status, ResolveStatus::timeout) << r->at(0).detail;
  EXPECT_GE(took, 550ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_GE(r->at(0).elapsed, 550ms);
  RecordProperty(
      "timeout_ms",
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

TEST_P(ResolverTest, PortWithNothingBoundIsAnErrorNotATimeout) {
  // The kernel answers ICMP port unreachable; c-ares 1.18.1 gives up with
  // ARES_ECONNREFUSED long before the timeout.
  std::string addr = GetParam() == Family::v4 ? "127.0.0.1" : "::1";
  std::uint16_t port = testing::free_udp_port(addr);
  ResolverOptions o;
  o.servers = {Endpoint{addr, port}.to_string()};
  o.timeout = 2000ms;
  o.tries = 2;
  auto start = std::chrono::steady_clock::now();
  auto r = resolve_all({"www.example.test"}, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at(0).status, ResolveStatus::error) << r->at(0).detail;
  EXPECT_NE(r->at(0).detail.find("refused"), std::string::npos) << r->at(0).detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST_P(ResolverTest, ServfailAndRefusedFromAServerAreReportedAsSuch) {
  std::string addr = GetParam() == Family::v4 ? "127.0.0.1" : "::1";
  for (auto [rcode, want] :
       {std::pair{2, ResolveStatus::servfail}, std::pair{5, ResolveStatus::refused},
        std::pair{3, ResolveStatus::nxdomain}}) {
    testing::RcodeDnsServer server(rcode, addr);
    ResolverOptions o;
    o.servers = {server.server()};
    o.timeout = 1000ms;
    o.tries = 1;
    auto r = resolve_all({"www.example.test"}, o);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at(0).status, want) << "rcode " << rcode << ": " << r->at(0).detail;
    EXPECT_GE(server.queries(), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Loopback, ResolverTest, ::testing::Values(Family::v4, Family::v6),
                         family_name);

TEST(ResolverOptionsTest, BadResolverAddressesAreUsageErrors) {
  for (std::string bad : std::vector<std::string>{"dns.example", "127.0.0.1:0", "127.0.0.1:99999",
                                                  "[::1", "1.2.3", "[127.0.0.1]:53", ""}) {
    ResolverOptions o;
    o.servers = {bad};
    auto v = validate(o);
    ASSERT_FALSE(v) << bad;
    EXPECT_EQ(v.error().code, ErrorCode::usage);
    EXPECT_EQ(v.error().where, "--resolver");
    asio::io_context io;
    EXPECT_FALSE(Resolver::create(io, o));
  }
  ResolverOptions ok;
  ok.servers = {"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353"};
  EXPECT_TRUE(validate(ok));
  ResolverOptions tries;
  tries.tries = 0;
  EXPECT_FALSE(validate(tries));
}

TEST(ResolverOptionsTest, IpLiteralTargetsNeverTouchDns) {
  // A server that would time out: IP literals must not wait for it.
  testing::SilentUdpPort silent;
  ResolverOptions o;
  o.servers = {silent.server()};
  o.timeout = 2000ms;
  auto start = std::chrono::steady_clock::now();
  auto t = expand_all(
      {HostPort{"2001:db8::1", 8443, true}, HostPort{"192.0.2.1", std::nullopt, true}}, 443, o);
  ASSERT_TRUE(t);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ(t->at(0).targets,
            (std::vector<Target>{{"2001:db8::1", {"2001:db8::1", 8443}, AddressFamily::ipv6}}));
  EXPECT_EQ(t->at(0).input, "[2001:db8::1]:8443");
  EXPECT_EQ(t->at(1).targets,
            (std::vector<Target>{{"192.0.2.1", {"192.0.2.1", 443}, AddressFamily::ipv4}}));
}

} // namespace
} // namespace edgeshake::resolve
