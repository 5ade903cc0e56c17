// The profile's ClientHello byte for byte (wire.cpp build_profile_hello), the
// second ClientHello after a HelloRetryRequest, the parser's first-flight and
// retry paths, and the client-side judge (judge_server_hello). Bytes only.
#include "common/tls_registry.hpp"
#include "handshake/enumerate/wire.hpp"
#include "tests/support/hellos.hpp"
#include "tests/support/raw_server.hpp"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <fstream>
#include <set>
#include <sstream>

namespace en = edgeshake::handshake::enumerate;
namespace profiles = edgeshake::profiles;
using edgeshake::TlsVersion;
using Bytes = std::vector<std::uint8_t>;

namespace {

using edgeshake::testing::pingora_hello;

Bytes read_hex(const std::string& name) {
  std::ifstream in(std::string(EDGESHAKE_SOURCE_DIR) + "/tests/enumerate/data/" + name);
  std::string line, hex;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#')
      hex += line;
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<bool> mask_of(const en::BuiltHello& b) {
  std::vector<bool> masked(b.bytes.size(), false);
  for (auto [off, n] : b.variable)
    for (std::size_t i = off; i < off + n && i < masked.size(); ++i)
      masked[i] = true;
  return masked;
}

// The first offset where `got` differs from `want` outside the masked bytes.
std::optional<std::size_t> first_difference(const en::BuiltHello& got, const Bytes& want) {
  const auto masked = mask_of(got);
  for (std::size_t i = 0; i < std::min(got.bytes.size(), want.size()); ++i)
    if (!masked[i] && got.bytes[i] != want[i])
      return i;
  if (got.bytes.size() != want.size())
    return std::min(got.bytes.size(), want.size());
  return std::nullopt;
}

void put16(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

Bytes record(std::uint8_t type, const Bytes& payload) {
  Bytes r{type, 3, 3};
  put16(r, static_cast<std::uint32_t>(payload.size()));
  r.insert(r.end(), payload.begin(), payload.end());
  return r;
}

Bytes handshake(std::uint8_t type, const Bytes& body) {
  Bytes h{type, static_cast<std::uint8_t>(body.size() >> 16)};
  put16(h, static_cast<std::uint32_t>(body.size() & 0xffff));
  h.insert(h.end(), body.begin(), body.end());
  return h;
}

struct Ext {
  std::uint16_t type;
  Bytes data;
};

Bytes hello_body(std::uint16_t suite, const std::vector<Ext>& exts, bool hrr = false) {
  static const Bytes hrr_random = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                                   0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                                   0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
  Bytes b;
  put16(b, 0x0303);
  if (hrr)
    b.insert(b.end(), hrr_random.begin(), hrr_random.end());
  else
    b.insert(b.end(), 32, 0x42);
  b.push_back(32);
  b.insert(b.end(), 32, 0x07);
  put16(b, suite);
  b.push_back(0);
  Bytes e;
  for (const auto& x : exts) {
    put16(e, x.type);
    put16(e, static_cast<std::uint32_t>(x.data.size()));
    e.insert(e.end(), x.data.begin(), x.data.end());
  }
  put16(b, static_cast<std::uint32_t>(e.size()));
  b.insert(b.end(), e.begin(), e.end());
  return b;
}

Ext version_ext(std::uint16_t v) {
  Bytes d;
  put16(d, v);
  return {0x002b, d};
}
Ext share_ext(std::uint16_t group, std::size_t size) {
  Bytes d;
  put16(d, group);
  put16(d, static_cast<std::uint32_t>(size));
  d.insert(d.end(), size, 0x11);
  return {0x0033, d};
}
Ext selected_group(std::uint16_t group) {
  Bytes d;
  put16(d, group);
  return {0x0033, d};
}

en::ServerResponse parsed(const Bytes& bytes, en::ParseOptions o = {}) {
  return en::parse_server_response(bytes, o);
}

} // namespace

// The writer against the bytes BoringSSL wrote for the same settings: equal
// outside random, session id and key-share values, and the same length.
TEST(ProfileHello, MatchesBoringSslCaptureByteForByte) {
  for (bool pq : {false, true}) {
    SCOPED_TRACE(pq ? "post-quantum" : "classical");
    const auto want =
        read_hex(pq ? "boringssl-pingora-post-quantum.hex" : "boringssl-pingora-classical.hex");
    ASSERT_EQ(want.size(), pq ? 1494u : 272u);
    en::HelloParams params;
    params.sni = "shop.example.test";
    auto got = en::build_profile_hello(pingora_hello(pq), params);
    EXPECT_EQ(got.bytes.size(), want.size());
    auto diff = first_difference(got, want);
    EXPECT_FALSE(diff) << "first difference at byte " << *diff;
    // Masked: random (32), session id (32), and one value per key share.
    std::size_t masked = 0;
    for (auto [off, n] : got.variable)
      masked += n;
    EXPECT_EQ(masked, 32u + 32u + (pq ? 1216u + 32u : 32u));
  }
}

TEST(ProfileHello, EncodedSizeIsWhatTheWriterWrites) {
  auto grease = pingora_hello(true);
  grease.cipher_suites.insert(grease.cipher_suites.begin(), profiles::k_grease);
  grease.groups.insert(grease.groups.begin(), profiles::k_grease);
  grease.key_shares.insert(grease.key_shares.begin(), profiles::k_grease);
  grease.extensions.insert(grease.extensions.begin(), profiles::k_grease);
  grease.extensions.push_back(profiles::k_grease);
  auto padded = pingora_hello(false);
  padded.extensions.push_back(0x0015);
  padded.extensions.push_back(0x0005);
  auto ffdhe = pingora_hello(false);
  ffdhe.groups = {256, 29};
  ffdhe.key_shares = {256, 29};
  for (const auto& h : {pingora_hello(false), pingora_hello(true), grease, padded, ffdhe}) {
    for (std::string sni : {"", "a.test", "a-much-longer-name.for-the-test.example"}) {
      en::HelloParams p;
      if (!sni.empty())
        p.sni = sni;
      EXPECT_EQ(profiles::encoded_size(h, sni.size()), en::build_profile_hello(h, p).bytes.size())
          << sni;
      p.retry_group = 25;
      EXPECT_EQ(profiles::encoded_size(h, sni.size(), 25),
                en::build_profile_hello(h, p).bytes.size());
    }
  }
}

// RFC 7685 the way OpenSSL pads (a message of 256 to 511 bytes becomes 512).
TEST(ProfileHello, PaddingFillsTheHelloTo512Bytes) {
  auto h = pingora_hello(false);
  h.extensions.push_back(0x0015);
  en::HelloParams p;
  p.sni = "shop.example.test";
  auto b = en::build_profile_hello(h, p);
  EXPECT_EQ(b.message_bytes, 512u);
  auto parsed = edgeshake::testing::parse_client_hello(std::string(b.bytes.begin(), b.bytes.end()));
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.extensions.back(), 0x0015);
}

TEST(ProfileHello, KeySharesAreWellFormed) {
  // X25519 and the NIST curves: real public keys (an EC point on the curve).
  EXPECT_EQ(en::key_share_bytes(29).size(), 32u);
  for (auto [group, nid, size] :
       {std::tuple{23, NID_X9_62_prime256v1, 65u}, std::tuple{24, NID_secp384r1, 97u},
        std::tuple{25, NID_secp521r1, 133u}}) {
    auto share = en::key_share_bytes(static_cast<std::uint16_t>(group));
    ASSERT_EQ(share.size(), size);
    EC_GROUP* g = EC_GROUP_new_by_curve_name(nid);
    EC_POINT* point = EC_POINT_new(g);
    EXPECT_EQ(EC_POINT_oct2point(g, point, share.data(), share.size(), nullptr), 1) << group;
    EXPECT_EQ(EC_POINT_is_on_curve(g, point, nullptr), 1) << group;
    EC_POINT_free(point);
    EC_GROUP_free(g);
  }
  // X25519MLKEM768: an ML-KEM-768 encapsulation key (768 coefficients below
  // q = 3329, 12 bits each, then 32 bytes of seed) followed by X25519.
  auto hybrid = en::key_share_bytes(0x11EC);
  ASSERT_EQ(hybrid.size(), 1216u);
  for (std::size_t i = 0; i < 1152; i += 3) {
    const unsigned a = hybrid[i] | ((hybrid[i + 1] & 0x0f) << 8);
    const unsigned b = (hybrid[i + 1] >> 4) | (hybrid[i + 2] << 4);
    ASSERT_LT(a, 3329u) << i;
    ASSERT_LT(b, 3329u) << i;
  }
  EXPECT_EQ(en::key_share_bytes(256).size(), 256u); // ffdhe2048
  EXPECT_EQ(en::key_share_bytes(0x0a0a), Bytes{0}); // GREASE
}

TEST(ProfileHello, FreshRandomSessionIdAndGreasePerConnection) {
  auto h = pingora_hello(false);
  h.cipher_suites.insert(h.cipher_suites.begin(), profiles::k_grease);
  en::HelloParams p;
  p.sni = "a.test";
  auto one = en::build_profile_hello(h, p);
  auto two = en::build_profile_hello(h, p);
  ASSERT_EQ(one.bytes.size(), two.bytes.size());
  EXPECT_NE(one.bytes, two.bytes);
  // The random starts after the record header (5), handshake header (4) and version (2).
  EXPECT_NE(Bytes(one.bytes.begin() + 11, one.bytes.begin() + 43),
            Bytes(two.bytes.begin() + 11, two.bytes.begin() + 43));
  auto parsed =
      edgeshake::testing::parse_client_hello(std::string(one.bytes.begin(), one.bytes.end()));
  ASSERT_TRUE(parsed.ok);
  EXPECT_TRUE(edgeshake::tls::is_grease(static_cast<std::uint16_t>(parsed.cipher_suites.front())));
}

// RFC 8446 4.1.2: the second ClientHello repeats the first but for one key share
// (the group asked for) and the cookie; its record version is TLS 1.2.
TEST(ProfileHello, SecondHelloAfterRetryRequest) {
  auto h = pingora_hello(false);
  h.extensions.insert(h.extensions.begin(), profiles::k_grease);
  en::HelloParams p;
  p.sni = "shop.example.test";
  auto first = en::build_profile_hello(h, p);
  en::HelloParams again = p;
  again.seed = first.seed;
  again.retry_group = 25;
  again.cookie = {1, 2, 3, 4};
  auto second = en::build_profile_hello(h, again);
  EXPECT_EQ(first.bytes[1], 0x03);
  EXPECT_EQ(first.bytes[2], 0x01);
  EXPECT_EQ(second.bytes[2], 0x03); // record version 0x0303
  EXPECT_EQ(Bytes(first.bytes.begin() + 11, first.bytes.begin() + 76),
            Bytes(second.bytes.begin() + 11, second.bytes.begin() + 76)); // random, session id
  auto a =
      edgeshake::testing::parse_client_hello(std::string(first.bytes.begin(), first.bytes.end()));
  auto b =
      edgeshake::testing::parse_client_hello(std::string(second.bytes.begin(), second.bytes.end()));
  ASSERT_TRUE(a.ok && b.ok) << a.error << b.error;
  EXPECT_EQ(b.key_share_groups, (std::vector<int>{25}));
  EXPECT_EQ(a.cipher_suites, b.cipher_suites);
  EXPECT_EQ(a.supported_groups, b.supported_groups);
  EXPECT_EQ(a.extensions.front(), b.extensions.front()); // the same GREASE value
  // The cookie follows supported_versions.
  auto sv = std::find(b.extensions.begin(), b.extensions.end(), 0x002b);
  ASSERT_NE(sv, b.extensions.end());
  ASSERT_NE(sv + 1, b.extensions.end());
  EXPECT_EQ(*(sv + 1), 0x002c);
  EXPECT_EQ(en::change_cipher_spec_record(), (Bytes{20, 3, 3, 0, 1, 1}));
}

TEST(ProfileHelloParser, AnswerAfterRetrySkipsTheCompatibilityChangeCipherSpec) {
  Bytes hrr = record(
      22, handshake(2, hello_body(0x1301,
                                  {version_ext(0x0304), selected_group(25), {0x002c, {0, 2, 9, 9}}},
                                  true)));
  auto r = parsed(hrr);
  EXPECT_EQ(r.kind, en::ResponseKind::hello_retry_request);
  EXPECT_EQ(r.key_share_group, std::optional<std::uint16_t>(25));
  EXPECT_EQ(r.cookie, (Bytes{9, 9}));
  EXPECT_EQ(r.hello_end, hrr.size());
  Bytes stream = hrr;
  auto ccs = en::change_cipher_spec_record();
  stream.insert(stream.end(), ccs.begin(), ccs.end());
  auto sh = record(22, handshake(2, hello_body(0x1301, {version_ext(0x0304), share_ext(25, 133)})));
  stream.insert(stream.end(), sh.begin(), sh.end());
  en::ParseOptions after;
  after.after_retry = true;
  auto second = en::parse_server_response(std::span(stream).subspan(r.hello_end), after);
  EXPECT_EQ(second.kind, en::ResponseKind::server_hello);
  EXPECT_EQ(second.key_share_group, std::optional<std::uint16_t>(25));
  // Without the option a ChangeCipherSpec before the ServerHello is malformed.
  EXPECT_EQ(en::parse_server_response(std::span(stream).subspan(r.hello_end)).kind,
            en::ResponseKind::malformed);
}

TEST(ProfileHelloParser, HandshakeDataAfterRetryRequestIsMalformed) {
  Bytes body = handshake(2, hello_body(0x1301, {version_ext(0x0304), selected_group(25)}, true));
  auto extra = handshake(11, {0, 0, 0});
  body.insert(body.end(), extra.begin(), extra.end());
  EXPECT_EQ(parsed(record(22, body)).kind, en::ResponseKind::malformed);
}

TEST(ProfileHelloParser, FirstFlightToServerHelloDone) {
  Bytes renegotiation{0};
  Bytes stream = handshake(2, hello_body(0xC02F, {{0xff01, renegotiation}}));
  Bytes certs, list;
  for (const Bytes& c : {Bytes{1, 2, 3}, Bytes{4, 5}}) {
    list.push_back(0);
    put16(list, static_cast<std::uint32_t>(c.size()));
    list.insert(list.end(), c.begin(), c.end());
  }
  certs.push_back(0);
  put16(certs, static_cast<std::uint32_t>(list.size()));
  certs.insert(certs.end(), list.begin(), list.end());
  Bytes ske{3};
  put16(ske, 23);
  ske.push_back(65);
  ske.insert(ske.end(), 65, 4);
  put16(ske, 0x0804);
  put16(ske, 2);
  ske.insert(ske.end(), {7, 7});
  for (const auto& m : {handshake(11, certs), handshake(22, {1, 0, 0, 1, 0}), handshake(12, ske),
                        handshake(13, {1, 1, 0, 0, 0, 0}), handshake(14, {})})
    stream.insert(stream.end(), m.begin(), m.end());
  en::ParseOptions o;
  o.through_key_exchange = true;
  o.until_hello_done = true;
  const Bytes bytes = record(22, stream);
  // Every prefix is incomplete; the whole flight is complete.
  for (std::size_t n = 1; n < bytes.size(); ++n)
    ASSERT_FALSE(en::parse_server_response(std::span(bytes).first(n), o).complete(o)) << n;
  auto r = parsed(bytes, o);
  ASSERT_TRUE(r.complete(o));
  EXPECT_EQ(r.certificates, (std::vector<Bytes>{{1, 2, 3}, {4, 5}}));
  EXPECT_TRUE(r.certificate_status);
  EXPECT_TRUE(r.certificate_request);
  EXPECT_TRUE(r.server_hello_done);
  EXPECT_EQ(r.ecdhe_group, std::optional<std::uint16_t>(23));
  EXPECT_EQ(r.signature_scheme, std::optional<std::uint16_t>(0x0804));
}

// ---------------------------------------------------------------- the judge

struct JudgeCase {
  const char* name;
  Bytes response;
  bool accepted;
  std::uint8_t alert;
  std::optional<std::uint16_t> after_retry = std::nullopt;
};

TEST(ProfileHelloJudge, AcceptsWhatWasOfferedAndRefusesTheRest) {
  auto h = pingora_hello(false);
  h.suite_versions[0x000a] = {TlsVersion::tls1_0};
  auto sh13 = [](std::uint16_t suite, std::vector<Ext> exts) {
    return record(22, handshake(2, hello_body(suite, exts)));
  };
  auto sh12 = [](std::uint16_t legacy, std::uint16_t suite, std::vector<Ext> exts) {
    auto body = hello_body(suite, exts);
    body[0] = static_cast<std::uint8_t>(legacy >> 8);
    body[1] = static_cast<std::uint8_t>(legacy);
    return record(22, handshake(2, body));
  };
  Bytes alpn_h2{0, 3, 2, 'h', '2'}, alpn_h3{0, 3, 2, 'h', '3'};
  const std::vector<JudgeCase> cases = {
      {"TLS 1.3 with the X25519 share", sh13(0x1301, {version_ext(0x0304), share_ext(29, 32)}),
       true, 0},
      {"TLS 1.3 suite not offered", sh13(0x1304, {version_ext(0x0304), share_ext(29, 32)}), false,
       47},
      {"TLS 1.3 share the client did not send",
       sh13(0x1301, {version_ext(0x0304), share_ext(24, 97)}), false, 47},
      {"after a retry for P-521", sh13(0x1301, {version_ext(0x0304), share_ext(25, 133)}), true, 0,
       25},
      {"HRR for P-521",
       record(22,
              handshake(2, hello_body(0x1301, {version_ext(0x0304), selected_group(25)}, true))),
       true, 0},
      {"HRR for a group already shared",
       record(22,
              handshake(2, hello_body(0x1301, {version_ext(0x0304), selected_group(29)}, true))),
       false, 47},
      {"HRR for a group not advertised",
       record(22, handshake(
                      2, hello_body(0x1301, {version_ext(0x0304), selected_group(0x11ec)}, true))),
       false, 47},
      {"TLS 1.2 with renegotiation_info", sh12(0x0303, 0xc02f, {{0xff01, {0}}}), true, 0},
      {"TLS 1.2 ALPN h2", sh12(0x0303, 0xc02f, {{0x0010, alpn_h2}}), true, 0},
      {"TLS 1.2 ALPN not offered", sh12(0x0303, 0xc02f, {{0x0010, alpn_h3}}), false, 47},
      {"TLS 1.2 extension not offered", sh12(0x0303, 0xc02f, {{0x0016, {}}}), false, 110},
      {"3DES at TLS 1.2, offered for TLS 1.0 only", sh12(0x0303, 0x000a, {}), false, 47},
      {"3DES at TLS 1.0", sh12(0x0301, 0x000a, {}), true, 0},
      {"GCM at TLS 1.0", sh12(0x0301, 0xc02f, {}), false, 47},
      {"SSLv3", sh12(0x0300, 0x002f, {}), false, 70},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parsed(c.response);
    ASSERT_TRUE(r.kind == en::ResponseKind::server_hello ||
                r.kind == en::ResponseKind::hello_retry_request)
        << r.detail;
    auto j = en::judge_server_hello(h, r, c.after_retry);
    EXPECT_EQ(j.accepted, c.accepted) << j.reason;
    EXPECT_EQ(j.alert, c.alert) << j.reason;
    EXPECT_EQ(j.reason.empty(), c.accepted);
  }
}
