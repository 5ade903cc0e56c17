#include "tests/compare/fixtures.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace edgeshake;
using namespace edgeshake::testing;

TEST(Plan, OneSetOfProbesPerOriginAndOneEdgeProbe) {
  PlanSpec spec;
  spec.host = "www.example.test";
  spec.cdn = cloudflare_like();
  spec.browser = cloudflare_like();
  spec.edge = Endpoint{"127.0.0.9", 443};
  spec.origins = {{"a", {"127.0.0.1", 8443}}, {"b", {"127.0.0.2", 8443}}};
  auto probes = plan(spec);
  std::set<std::string> labels_a;
  int edges = 0;
  for (const auto& p : probes) {
    if (p.label == "edge") {
      ++edges;
      EXPECT_TRUE(p.http);
      EXPECT_EQ(p.sni, "www.example.test");
    } else if (p.target.address == "127.0.0.1") {
      EXPECT_TRUE(labels_a.insert(p.label).second) << "duplicate " << p.label;
    }
  }
  EXPECT_EQ(edges, 1);
  // primary, no_sni, permissive, 4 version probes, 4 profile versions, 2 swaps.
  EXPECT_EQ(labels_a.size(), 13u);
  for (const char* l : {"primary", "no_sni", "permissive", "version/TLSv1", "version/TLSv1.3",
                        "profile/TLSv1.2", "profile_any_group", "profile_any_cipher"}) {
    EXPECT_TRUE(labels_a.count(l)) << l;
  }
  EXPECT_EQ(probes.size(), 1u + 2u * 13u);
}

TEST(Plan, PrimaryIsExactlyTheProfile) {
  PlanSpec spec;
  spec.host = "www.example.test";
  spec.cdn = cloudflare_like();
  spec.origins = {{"a", {"127.0.0.1", 8443}}};
  auto probes = plan(spec);
  const auto& primary = probes.front();
  ASSERT_EQ(primary.label, "primary");
  EXPECT_EQ(primary.profile, spec.cdn);
  EXPECT_EQ(primary.overrides, handshake::ProbeOverrides{});
  EXPECT_EQ(primary.sni, "www.example.test");
  EXPECT_EQ(primary.host, "www.example.test");
  EXPECT_TRUE(primary.http);
}

TEST(Plan, SniFollowsPolicyAndOverride) {
  auto cdn = cloudflare_like();
  EXPECT_EQ(cdn_sni(cdn, "h.test", std::nullopt), "h.test");
  EXPECT_EQ(cdn_sni(cdn, "h.test", std::string("o.test")), "o.test");
  cdn.sni = profiles::SniPolicy::none;
  EXPECT_EQ(cdn_sni(cdn, "h.test", std::nullopt), std::nullopt);
  PlanSpec spec;
  spec.host = "h.test";
  spec.cdn = cdn;
  spec.origins = {{"a", {"127.0.0.1", 8443}}};
  bool with_sni = false;
  for (const auto& p : plan(spec))
    with_sni = with_sni || p.label == "with_sni";
  EXPECT_TRUE(with_sni);
}
