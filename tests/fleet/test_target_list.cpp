// The scan target-list parser (cmd/target_list.cpp), the cases fuzz_scan_targets
// found or guards: IPv6 spellings of one address are one site, and bytes the
// fuzzer likes (NUL, CR alone, DEL, very long lines) are one-line errors with
// the line number.
#include "cmd/target_list.hpp"

#include <gtest/gtest.h>

#include <string>

namespace edgeshake::cmd {
namespace {

TEST(TargetListFuzzFindings, Ipv6SpellingsAreOneSite) {
  // Found by fuzz_scan_targets: "[2001:DB8::1]" and "[2001:db8:0::1]" were two
  // different keys, so the same origin could be listed (and scanned) twice.
  auto r = parse_target_list("a.test [2001:DB8:0:0::1]:443\n", "t.txt");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->front().origin, "[2001:db8::1]:443");
  auto dup = parse_target_list("a.test [2001:DB8::1]:443\na.test [2001:db8:0::1]:443\n", "t.txt");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().where, "t.txt:2");
  EXPECT_NE(dup.error().message.find("already listed on line 1"), std::string::npos)
      << dup.error().message;
  auto bare = parse_target_list("2001:DB8::A\n", "t.txt");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->front().host, "2001:db8::a");
}

TEST(TargetListFuzzFindings, ControlBytesAreOneLineErrorsWithTheLine) {
  for (std::string bad : {std::string("a.test\nb\0c.test\n", 16),
                          std::string("a.test\nb.test\rc\n"), std::string("a.test\n\x7f\n")}) {
    auto r = parse_target_list(bad, "t.txt");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().where, "t.txt:2");
    for (unsigned char ch : r.error().message)
      EXPECT_TRUE(ch >= 0x20 && ch != 0x7f) << r.error().message;
  }
}

TEST(TargetListFuzzFindings, VeryLongLinesAreShortenedInTheMessage) {
  auto r = parse_target_list(std::string(100000, 'x') + " a b\n", "t.txt");
  ASSERT_FALSE(r);
  EXPECT_LT(r.error().message.size(), 200u) << r.error().message;
}

} // namespace
} // namespace edgeshake::cmd
