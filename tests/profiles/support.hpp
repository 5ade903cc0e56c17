// Helpers for the profile loader tests: a minimal valid profile split into a
// head (lines 1-5) and a tail, so a test can put its one bad line at a known
// position, and toml++-style one-line expectations.
#pragma once

#include "profiles/profiles.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace edgeshake::profiles::testing {

// Lines 1-5. Line 3 is versions, 4 ciphers, 5 groups; [client_hello] continues.
inline const std::string k_head = R"(name = "t"
[client_hello]
versions = ["TLSv1.2"]
ciphers = ["AES128-SHA"]
groups = ["P-256"]
)";

// Every failure class, then one mode.
inline const std::string k_errors = R"([errors]
connection_refused = "a"
connect_timeout = "b"
handshake_failure = "c"
handshake_timeout = "d"
certificate_invalid = "e"
response_timeout = "f"
http_error = "g"
origin_unresolvable = "h"
)";

inline const std::string k_mode = R"([[modes]]
name = "default"
verify = "none"
)";

inline const std::string k_tail = k_errors + k_mode;

inline Result<Profile> parse(const std::string& text) {
  return parse_profile(text, "t.toml", "t");
}

#define profile_should_fail(text_, msg_, line_, col_)                                              \
  do {                                                                                             \
    auto r_ = ::edgeshake::profiles::testing::parse(text_);                                        \
    ASSERT_FALSE(r_.has_value()) << "loaded, expected: " << (msg_);                                \
    EXPECT_EQ(r_.error().code, ::edgeshake::ErrorCode::profile);                                   \
    EXPECT_EQ(r_.error().where, "t.toml:" + std::to_string(line_) + ":" + std::to_string(col_))    \
        << r_.error().to_string();                                                                 \
    EXPECT_NE(r_.error().message.find(msg_), std::string::npos)                                    \
        << "got: " << r_.error().to_string();                                                      \
  } while (0)

#define profile_should_load(text_)                                                                 \
  do {                                                                                             \
    auto r_ = ::edgeshake::profiles::testing::parse(text_);                                        \
    ASSERT_TRUE(r_.has_value()) << r_.error().to_string();                                         \
  } while (0)

} // namespace edgeshake::profiles::testing
