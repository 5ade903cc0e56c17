#include "common/endpoint.hpp"

#include <gtest/gtest.h>

using namespace edgeshake;

TEST(ParseHostPort, HostnameWithAndWithoutPort) {
  auto a = parse_host_port("Example.COM");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.com");
  EXPECT_FALSE(a->port);
  EXPECT_FALSE(a->is_ip);
  auto b = parse_host_port("origin.example.net:8443");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "origin.example.net");
  EXPECT_EQ(b->port, 8443);
}

TEST(ParseHostPort, IpLiterals) {
  auto v4 = parse_host_port("127.0.0.1:443");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_ip);
  EXPECT_EQ(v4->port, 443);
  auto v6 = parse_host_port("[::1]:8443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);
  auto bare6 = parse_host_port("2001:db8::1");
  ASSERT_TRUE(bare6);
  EXPECT_TRUE(bare6->is_ip);
  EXPECT_FALSE(bare6->port);
}

TEST(ParseHostPort, RejectsBadInput) {
  for (const char* bad : {"", ":443", "host:0", "host:65536", "host:abc", "[::1", "[nope]:1",
                          "-bad-.com", "a..b", "exa mple.com", "2001:db8::zz"}) {
    EXPECT_FALSE(parse_host_port(bad)) << bad;
  }
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(parse_duration("5s").value(), std::chrono::milliseconds(5000));
  EXPECT_EQ(parse_duration("250ms").value(), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("2m").value(), std::chrono::milliseconds(120000));
  EXPECT_EQ(parse_duration("1.5").value(), std::chrono::milliseconds(1500));
  for (const char* bad : {"", "0", "-1s", "abc", "5h", "1e9s", "nan"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(Endpoint, Formats) {
  EXPECT_EQ((Endpoint{"127.0.0.1", 443}).to_string(), "127.0.0.1:443");
  EXPECT_EQ((Endpoint{"::1", 8443}).to_string(), "[::1]:8443");
}
