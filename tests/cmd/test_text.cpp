// common/text.hpp: the one gate for untrusted text on its way to a terminal.
#include "common/text.hpp"

#include <gtest/gtest.h>

using edgeshake::capped;
using edgeshake::is_valid_utf8;
using edgeshake::terminal_safe;
using edgeshake::utf8_replaced;

TEST(TerminalSafe, PrintableTextPassesUnchanged) {
  EXPECT_EQ(terminal_safe("origin.test"), "origin.test");
  EXPECT_EQ(terminal_safe("CN=Zürich,O=Ünïcode 日本"), "CN=Zürich,O=Ünïcode 日本");
}

TEST(TerminalSafe, ControlsBecomeVisibleEscapes) {
  EXPECT_EQ(terminal_safe(std::string("a\x1b]0;pwned\x07"
                                      "b",
                                      12)),
            "a\\x1B]0;pwned\\x07b");
  EXPECT_EQ(terminal_safe("ok\r\nverify chain ok"), "ok\\x0D\\x0Averify chain ok");
  EXPECT_EQ(terminal_safe(std::string("n\0ul", 4)), "n\\x00ul");
  EXPECT_EQ(terminal_safe("del\x7f"), "del\\x7F");
  EXPECT_EQ(terminal_safe("tab\t"), "tab\\x09");
}

TEST(TerminalSafe, C1ControlsAndBidiOverridesAreEscaped) {
  EXPECT_EQ(terminal_safe("a\xc2\x9b"
                          "31mred"),
            "a\\u{009B}31mred"); // CSI
  EXPECT_EQ(terminal_safe("\xc2\x9d"
                          "0;t"),
            "\\u{009D}0;t"); // OSC
  EXPECT_EQ(terminal_safe("x\xe2\x80\xae"
                          "y"),
            "x\\u{202E}y"); // RLO
  EXPECT_EQ(terminal_safe("x\xe2\x80\xa8"
                          "y"),
            "x\\u{2028}y"); // line separator
}

TEST(TerminalSafe, InvalidUtf8BytesBecomeHex) {
  EXPECT_EQ(terminal_safe("bad\xff.test"), "bad\\xFF.test");
  EXPECT_EQ(terminal_safe("\xc0\xaf"), "\\xC0\\xAF");          // overlong
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xED\\xA0\\x80"); // surrogate
  EXPECT_EQ(terminal_safe("cut\xe2\x80"), "cut\\xE2\\x80");    // truncated sequence
}

TEST(TerminalSafe, TruncationNeverCutsAnEscape) {
  EXPECT_EQ(terminal_safe("abcdef", 6), "abcdef");
  EXPECT_EQ(terminal_safe("abcdefg", 6), "abcde…");
  // "ab\x1B..." : the escape is 4 characters and does not fit whole in 5 - 1.
  EXPECT_EQ(terminal_safe("ab\x1b]0;x", 5), "ab…");
  EXPECT_EQ(terminal_safe("ab\x1b]0;x", 7), "ab\\x1B…");
  EXPECT_EQ(terminal_safe("日本語です", 3), "日本…");
}

TEST(Utf8Policy, InvalidBytesAreReplacedOnce) {
  EXPECT_TRUE(is_valid_utf8("ok ü"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_EQ(utf8_replaced("a\xff"
                          "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(utf8_replaced("ok ü"), "ok ü");
}

TEST(Capped, EchoedInputIsBounded) {
  EXPECT_EQ(capped("short", 200), "short");
  EXPECT_EQ(capped(std::string(1000, 'x'), 200), std::string(200, 'x') + "…");
  EXPECT_EQ(capped("aü", 2), "a…"); // never inside a UTF-8 sequence
}
