// profiles.hpp vocabulary: enum names round-trip, mode lookup, error mapping.
#include "profiles/profiles.hpp"

#include <gtest/gtest.h>

namespace edgeshake::profiles {
namespace {

TEST(ProfileVocabulary, EnumNamesRoundTrip) {
  for (auto c : k_all_failure_classes)
    EXPECT_EQ(parse_failure_class(to_string(c)), c);
  for (auto p : {SniPolicy::request_host, SniPolicy::none, SniPolicy::fixed})
    EXPECT_EQ(parse_sni_policy(to_string(p)), p);
  for (auto t : {Transport::tls, Transport::plaintext})
    EXPECT_EQ(parse_transport(to_string(t)), t);
  for (auto v : {Verify::none, Verify::chain, Verify::chain_and_name})
    EXPECT_EQ(parse_verify(to_string(v)), v);
  EXPECT_FALSE(parse_failure_class("tls_failure"));
  EXPECT_FALSE(parse_sni_policy("host"));
  EXPECT_FALSE(parse_transport("TLS"));
  EXPECT_FALSE(parse_verify("full"));
  EXPECT_EQ(to_string(FailureClass::origin_unresolvable), "origin_unresolvable");
  EXPECT_EQ(to_string(Verify::chain_and_name), "chain_and_name");
}

TEST(ProfileVocabulary, ErrorForPrefersModeThenProfileThenError) {
  Profile p;
  p.errors[FailureClass::handshake_failure] = "525";
  p.errors[FailureClass::connection_refused] = "521";
  Mode strict;
  strict.name = "strict";
  strict.errors[FailureClass::certificate_invalid] = "526";
  strict.errors[FailureClass::connection_refused] = "599";
  Mode full;
  full.name = "full";
  p.modes = {full, strict};
  const Mode* s = p.find_mode("strict");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name, "strict");
  EXPECT_EQ(p.find_mode("flexible"), nullptr);
  EXPECT_EQ(p.error_for(*s, FailureClass::certificate_invalid), "526");
  EXPECT_EQ(p.error_for(*s, FailureClass::connection_refused), "599");
  EXPECT_EQ(p.error_for(*s, FailureClass::handshake_failure), "525");
  EXPECT_EQ(p.error_for(*p.find_mode("full"), FailureClass::certificate_invalid), "error");
}

TEST(ProfileVocabulary, CanFailWithFollowsTransportAndVerify) {
  Mode plaintext;
  plaintext.transport = Transport::plaintext;
  Mode full;
  full.verify = Verify::none;
  Mode strict;
  strict.verify = Verify::chain_and_name;
  for (auto c : k_all_failure_classes) {
    bool tls_only = c == FailureClass::handshake_failure || c == FailureClass::handshake_timeout ||
                    c == FailureClass::certificate_invalid;
    EXPECT_EQ(can_fail_with(plaintext, c), !tls_only) << to_string(c);
    EXPECT_EQ(can_fail_with(full, c), c != FailureClass::certificate_invalid) << to_string(c);
    EXPECT_TRUE(can_fail_with(strict, c)) << to_string(c);
  }
}

} // namespace
} // namespace edgeshake::profiles
