// The hand-built ClientHello and the defensive ServerHello parser, on bytes only.
#include "handshake/enumerate/tables.hpp"
#include "handshake/enumerate/wire.hpp"
#include "tests/support/raw_server.hpp"

#include <gtest/gtest.h>

#include <random>

namespace en = edgeshake::handshake::enumerate;
using Bytes = std::vector<std::uint8_t>;

namespace {

void put16(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put24(Bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 16));
  put16(b, v & 0xffff);
}

Bytes record(std::uint8_t type, const Bytes& payload, std::uint16_t version = 0x0303) {
  Bytes r{type};
  put16(r, version);
  put16(r, static_cast<std::uint32_t>(payload.size()));
  r.insert(r.end(), payload.begin(), payload.end());
  return r;
}

Bytes handshake(std::uint8_t type, const Bytes& body) {
  Bytes h{type};
  put24(h, static_cast<std::uint32_t>(body.size()));
  h.insert(h.end(), body.begin(), body.end());
  return h;
}

struct Ext {
  std::uint16_t type;
  Bytes data;
};

Bytes server_hello_body(std::uint16_t legacy, std::uint16_t suite, const std::vector<Ext>& exts,
                        bool hrr = false) {
  static const Bytes hrr_random = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                                   0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                                   0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
  Bytes b;
  put16(b, legacy);
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

Bytes tls13_server_hello() {
  Bytes ks;
  put16(ks, 29);
  put16(ks, 32);
  ks.insert(ks.end(), 32, 0x11);
  Bytes sv;
  put16(sv, 0x0304);
  return record(22, handshake(2, server_hello_body(0x0303, 0x1302, {{43, sv}, {51, ks}})));
}

Bytes tls12_flight() {
  Bytes alpn;
  put16(alpn, 3);
  alpn.push_back(2);
  alpn.push_back('h');
  alpn.push_back('2');
  Bytes sh = handshake(2, server_hello_body(0x0303, 0xC02F, {{0xff01, {0}}, {16, alpn}, {0, {}}}));
  Bytes cert_body;
  Bytes certs;
  put24(certs, 5);
  certs.insert(certs.end(), {1, 2, 3, 4, 5});
  put24(certs, 2);
  certs.insert(certs.end(), {9, 9});
  put24(cert_body, static_cast<std::uint32_t>(certs.size()));
  cert_body.insert(cert_body.end(), certs.begin(), certs.end());
  Bytes ske{3};
  put16(ske, 23);
  ske.push_back(65);
  ske.insert(ske.end(), 65, 0x04);
  Bytes stream = sh;
  auto c = handshake(11, cert_body);
  stream.insert(stream.end(), c.begin(), c.end());
  auto k = handshake(12, ske);
  stream.insert(stream.end(), k.begin(), k.end());
  auto d = handshake(14, {});
  stream.insert(stream.end(), d.begin(), d.end());
  // Split the handshake stream across two records, mid-message.
  const auto cut = sh.size() + 7;
  Bytes out = record(22, Bytes(stream.begin(), stream.begin() + static_cast<long>(cut)));
  auto second = record(22, Bytes(stream.begin() + static_cast<long>(cut), stream.end()));
  out.insert(out.end(), second.begin(), second.end());
  return out;
}

} // namespace

TEST(EnumerateWire, ParsesTls13ServerHello) {
  auto r = en::parse_server_response(tls13_server_hello());
  EXPECT_EQ(r.kind, en::ResponseKind::server_hello);
  EXPECT_EQ(r.legacy_version, 0x0303);
  EXPECT_EQ(r.version, 0x0304);
  EXPECT_EQ(r.cipher_suite, 0x1302);
  EXPECT_EQ(r.key_share_group, std::optional<std::uint16_t>(29));
  EXPECT_EQ(r.session_id_length, 32u);
}

TEST(EnumerateWire, RecognisesHelloRetryRequest) {
  Bytes sel;
  put16(sel, 24);
  Bytes sv;
  put16(sv, 0x0304);
  auto bytes =
      record(22, handshake(2, server_hello_body(0x0303, 0x1301, {{43, sv}, {51, sel}}, true)));
  auto r = en::parse_server_response(bytes);
  EXPECT_EQ(r.kind, en::ResponseKind::hello_retry_request);
  EXPECT_EQ(r.cipher_suite, 0x1301);
  EXPECT_EQ(r.key_share_group, std::optional<std::uint16_t>(24));
}

TEST(EnumerateWire, ReadsTls12FlightThroughKeyExchangeAcrossRecords) {
  en::ParseOptions po;
  po.through_key_exchange = true;
  const auto bytes = tls12_flight();
  auto r = en::parse_server_response(bytes, po);
  EXPECT_EQ(r.kind, en::ResponseKind::server_hello);
  EXPECT_TRUE(r.complete(po));
  EXPECT_EQ(r.version, 0x0303);
  EXPECT_EQ(r.cipher_suite, 0xC02F);
  EXPECT_EQ(r.alpn, std::optional<std::string>("h2"));
  EXPECT_TRUE(r.sni_acknowledged);
  EXPECT_TRUE(r.renegotiation_info);
  EXPECT_TRUE(r.certificate_seen);
  EXPECT_EQ(r.certificate_count, 2u);
  EXPECT_EQ(r.leaf_certificate, (Bytes{1, 2, 3, 4, 5}));
  EXPECT_EQ(r.ecdhe_group, std::optional<std::uint16_t>(23));
  // Without the option the ServerHello alone is enough.
  EXPECT_TRUE(en::parse_server_response(bytes).complete());
}

TEST(EnumerateWire, ReadsAlertBeforeServerHello) {
  auto r = en::parse_server_response(record(21, {2, 40}));
  EXPECT_EQ(r.kind, en::ResponseKind::alert);
  ASSERT_TRUE(r.alert);
  EXPECT_EQ(r.alert->level, 2);
  EXPECT_EQ(en::alert_name(r.alert->description), "handshake_failure");
}

TEST(EnumerateWire, ClassifiesNonTls) {
  const std::string http = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  auto r = en::parse_server_response(Bytes(http.begin(), http.end()));
  EXPECT_EQ(r.kind, en::ResponseKind::not_tls);
  EXPECT_EQ(r.detail, "plain HTTP response");
  EXPECT_EQ(en::parse_server_response(Bytes{}).kind, en::ResponseKind::empty);
  EXPECT_EQ(en::parse_server_response(Bytes{0x80, 0x2e, 0x04, 0x00}).kind, en::ResponseKind::sslv2);
  EXPECT_EQ(en::parse_server_response(Bytes{0x00, 0xff, 0x13, 0x99, 0x01}).kind,
            en::ResponseKind::malformed);
}

TEST(EnumerateWire, RejectsBadFraming) {
  // Record longer than 2^14 + 2048.
  EXPECT_EQ(en::parse_server_response(Bytes{22, 3, 3, 0xff, 0xff}).kind,
            en::ResponseKind::malformed);
  // Record version not 3.x.
  EXPECT_EQ(en::parse_server_response(Bytes{22, 9, 9, 0, 4, 2, 0, 0, 0}).kind,
            en::ResponseKind::malformed);
  // A handshake message that is not a ServerHello.
  EXPECT_EQ(en::parse_server_response(record(22, handshake(11, {0, 0, 0}))).kind,
            en::ResponseKind::malformed);
  // Session id longer than 32.
  auto body = server_hello_body(0x0303, 0xC02F, {});
  body[34] = 33;
  EXPECT_EQ(en::parse_server_response(record(22, handshake(2, body))).kind,
            en::ResponseKind::malformed);
  // Extension block length overruns the message.
  body = server_hello_body(0x0303, 0xC02F, {{0xff01, {0}}});
  body[body.size() - 6] = 0x10;
  EXPECT_EQ(en::parse_server_response(record(22, handshake(2, body))).kind,
            en::ResponseKind::malformed);
  // A handshake message announcing 16 MB.
  EXPECT_EQ(en::parse_server_response(record(22, Bytes{2, 0xff, 0xff, 0xff})).kind,
            en::ResponseKind::too_large);
  // Alert record shorter than two bytes.
  EXPECT_EQ(en::parse_server_response(record(21, {2})).kind, en::ResponseKind::malformed);
}

TEST(EnumerateWire, EveryTruncationIsIncompleteNeverAnAnswer) {
  en::ParseOptions po;
  po.through_key_exchange = true;
  for (const auto& full : {tls13_server_hello(), tls12_flight()}) {
    const bool is12 = full == tls12_flight();
    for (std::size_t n = 1; n < full.size(); ++n) {
      auto r = en::parse_server_response(std::span(full).first(n), po);
      ASSERT_FALSE(r.complete(po)) << "prefix " << n << " of " << full.size();
      ASSERT_TRUE(r.kind == en::ResponseKind::incomplete ||
                  (is12 && r.kind == en::ResponseKind::server_hello))
          << en::to_string(r.kind) << " at " << n;
      ASSERT_LE(r.bytes, n);
    }
  }
}

TEST(EnumerateWire, RandomAndMutatedBytesAreClassifiedNotCrashes) {
  std::mt19937 rng(12345);
  const auto base = tls12_flight();
  en::ParseOptions po;
  po.through_key_exchange = true;
  for (int i = 0; i < 20000; ++i) {
    Bytes b;
    if (i % 2 == 0) {
      b.resize(rng() % 300);
      for (auto& x : b)
        x = static_cast<std::uint8_t>(rng());
      if (!b.empty() && i % 4 == 0)
        b[0] = static_cast<std::uint8_t>(20 + rng() % 4); // look like a record
    } else {
      b = base;
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips)
        b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
      b.resize(rng() % (b.size() + 1));
    }
    auto r = en::parse_server_response(b, po);
    ASSERT_LE(r.bytes, b.size());
    ASSERT_NE(en::to_string(r.kind), "?");
  }
}

TEST(EnumerateWire, StopsAtTheReadLimit) {
  Bytes big;
  while (big.size() <= en::k_max_response_bytes) {
    auto rec = record(22, Bytes(16000, 0));
    big.insert(big.end(), rec.begin(), rec.end());
  }
  big[5] = 2; // a ServerHello header announcing more than the limit allows
  auto r = en::parse_server_response(big);
  EXPECT_NE(r.kind, en::ResponseKind::server_hello);
  EXPECT_LE(r.bytes, en::k_max_response_bytes);
}

// The built ClientHello, read back by the test-support parser (written separately).
TEST(EnumerateWire, ClientHelloRoundTripsThroughAnIndependentParser) {
  en::ClientHelloSpec spec;
  spec.cipher_suites = en::candidate_suites(edgeshake::TlsVersion::tls1_2);
  spec.sni = "origin.test";
  spec.groups = {0x11EC, 29, 23};
  spec.supported_versions = {0x0304, 0x0303};
  spec.key_shares = std::vector<en::KeyShareSpec>{{0x11EC, 1216}, {29, 32}};
  spec.alpn = {"h2", "http/1.1"};
  auto bytes = en::build_client_hello(spec);
  auto p = edgeshake::testing::parse_client_hello(std::string(bytes.begin(), bytes.end()));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.legacy_version, 0x0303);
  ASSERT_EQ(p.cipher_suites.size(), spec.cipher_suites.size() + 1);
  EXPECT_EQ(p.cipher_suites.back(), 0x00ff);
  for (std::size_t i = 0; i < spec.cipher_suites.size(); ++i)
    EXPECT_EQ(p.cipher_suites[i], spec.cipher_suites[i]);
  EXPECT_EQ(p.sni, std::optional<std::string>("origin.test"));
  EXPECT_EQ(p.supported_groups, (std::vector<int>{0x11EC, 29, 23}));
  EXPECT_EQ(p.supported_versions, (std::vector<int>{0x0304, 0x0303}));
  EXPECT_EQ(p.key_share_groups, (std::vector<int>{0x11EC, 29}));
  EXPECT_EQ(p.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_GT(bytes.size(), 1216u + 32u + 2u * spec.cipher_suites.size());
}

TEST(EnumerateWire, Sslv3HelloCarriesNoExtensions) {
  en::ClientHelloSpec spec;
  spec.record_version = 0x0300;
  spec.client_version = 0x0300;
  spec.extensions = false;
  spec.cipher_suites = en::candidate_suites(edgeshake::TlsVersion::ssl3);
  auto bytes = en::build_client_hello(spec);
  auto p = edgeshake::testing::parse_client_hello(std::string(bytes.begin(), bytes.end()));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.record_version, 0x0300);
  EXPECT_EQ(p.legacy_version, 0x0300);
  EXPECT_TRUE(p.extensions.empty());
}
