// ClientHello writer and the defensive server-response parser. Every read goes
// through ByteReader, which checks bounds; a failed read marks the reader bad
// instead of touching memory it does not own.
#include "handshake/enumerate/wire.hpp"
#include "handshake/names.hpp"

#include "handshake/enumerate/tables.hpp"

#include <algorithm>
#include <array>
#include <random>
#include <string_view>

namespace edgeshake::handshake::enumerate {

namespace {

// ---------------------------------------------------------------- writing

class Writer {
public:
  void u8(std::uint32_t v) { m_out.push_back(static_cast<std::uint8_t>(v)); }
  void u16(std::uint32_t v) {
    u8(v >> 8);
    u8(v);
  }
  void u24(std::uint32_t v) {
    u8(v >> 16);
    u16(v & 0xffff);
  }
  void bytes(std::span<const std::uint8_t> b) { m_out.insert(m_out.end(), b.begin(), b.end()); }
  void text(std::string_view s) { m_out.insert(m_out.end(), s.begin(), s.end()); }
  // Opens a length field of `width` bytes; close() fills it in.
  std::size_t open(int width) {
    const auto at = m_out.size();
    m_out.insert(m_out.end(), static_cast<std::size_t>(width), 0);
    return at;
  }
  void close(std::size_t at, int width) {
    const auto len = m_out.size() - at - static_cast<std::size_t>(width);
    for (int i = 0; i < width; ++i)
      m_out[at + static_cast<std::size_t>(i)] =
          static_cast<std::uint8_t>(len >> (8 * (width - 1 - i)));
  }
  std::vector<std::uint8_t>& data() { return m_out; }

private:
  std::vector<std::uint8_t> m_out;
};

void random_bytes(std::mt19937& rng, std::vector<std::uint8_t>& out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(static_cast<std::uint8_t>(rng() & 0xff));
}

// A stand-in public key. ML-KEM encapsulation keys are made of coefficients below
// q = 3329 (servers check this), so hybrid shares get valid-looking coefficients.
std::vector<std::uint8_t> fake_key_share(const KeyShareSpec& ks, std::mt19937& rng) {
  std::vector<std::uint8_t> out;
  const bool mlkem_first = ks.group == 0x11EC || ks.group == 0x0201 || ks.group == 0x6399;
  if (mlkem_first && ks.size >= 1184) {
    std::uniform_int_distribution<std::uint32_t> coeff(0, 3328);
    for (int i = 0; i < 768; i += 2) {
      const auto a = coeff(rng), b = coeff(rng);
      out.push_back(static_cast<std::uint8_t>(a & 0xff));
      out.push_back(static_cast<std::uint8_t>((a >> 8) | ((b & 0x0f) << 4)));
      out.push_back(static_cast<std::uint8_t>(b >> 4));
    }
    random_bytes(rng, out, ks.size - out.size());
    return out;
  }
  random_bytes(rng, out, ks.size);
  return out;
}

} // namespace

std::vector<std::uint8_t> build_client_hello(const ClientHelloSpec& spec) {
  std::mt19937 rng(spec.seed != 0 ? spec.seed : std::random_device{}());
  Writer body;
  body.u16(spec.client_version);
  {
    std::vector<std::uint8_t> random;
    random_bytes(rng, random, 32);
    body.bytes(random);
  }
  if (spec.extensions) {
    body.u8(32);
    std::vector<std::uint8_t> sid;
    random_bytes(rng, sid, 32);
    body.bytes(sid);
  } else {
    body.u8(0);
  }
  auto at = body.open(2);
  for (auto s : spec.cipher_suites)
    body.u16(s);
  if (spec.renegotiation_scsv)
    body.u16(0x00ff);
  body.close(at, 2);
  body.u8(1); // compression methods: null only
  body.u8(0);

  if (spec.extensions) {
    auto ext_at = body.open(2);
    auto ext = [&](std::uint16_t type, auto&& fill) {
      body.u16(type);
      auto a = body.open(2);
      fill();
      body.close(a, 2);
    };
    if (spec.sni && !spec.sni->empty()) {
      ext(0x0000, [&] {
        auto l = body.open(2);
        body.u8(0);
        auto n = body.open(2);
        body.text(*spec.sni);
        body.close(n, 2);
        body.close(l, 2);
      });
    }
    if (!spec.groups.empty()) {
      ext(0x000a, [&] {
        auto l = body.open(2);
        for (auto g : spec.groups)
          body.u16(g);
        body.close(l, 2);
      });
      ext(0x000b, [&] {
        body.u8(1);
        body.u8(0);
      });
    }
    if (spec.signature_algorithms) {
      ext(0x000d, [&] {
        auto l = body.open(2);
        if (spec.signature_schemes) {
          for (auto s : *spec.signature_schemes)
            body.u16(s);
        } else {
          for (auto s : signature_schemes())
            body.u16(s);
        }
        body.close(l, 2);
      });
    }
    if (!spec.alpn.empty()) {
      ext(0x0010, [&] {
        auto l = body.open(2);
        for (const auto& p : spec.alpn) {
          body.u8(static_cast<std::uint32_t>(std::min<std::size_t>(p.size(), 255)));
          body.text(std::string_view(p).substr(0, 255));
        }
        body.close(l, 2);
      });
    }
    ext(0x0017, [] {}); // extended_master_secret
    if (!spec.supported_versions.empty()) {
      ext(0x002b, [&] {
        auto l = body.open(1);
        for (auto v : spec.supported_versions)
          body.u16(v);
        body.close(l, 1);
      });
      ext(0x002d, [&] { // psk_key_exchange_modes: psk_dhe_ke
        body.u8(1);
        body.u8(1);
      });
    }
    if (spec.key_shares) {
      ext(0x0033, [&] {
        auto l = body.open(2);
        for (const auto& ks : *spec.key_shares) {
          body.u16(ks.group);
          auto k = body.open(2);
          body.bytes(fake_key_share(ks, rng));
          body.close(k, 2);
        }
        body.close(l, 2);
      });
    }
    body.close(ext_at, 2);
  }

  Writer msg;
  msg.u8(1); // client_hello
  msg.u24(static_cast<std::uint32_t>(body.data().size()));
  msg.bytes(body.data());

  // Records of at most 2^14 bytes each.
  Writer out;
  const auto& m = msg.data();
  for (std::size_t off = 0; off < m.size(); off += 16384) {
    const auto n = std::min<std::size_t>(16384, m.size() - off);
    out.u8(22);
    out.u16(spec.record_version);
    out.u16(static_cast<std::uint32_t>(n));
    out.bytes(std::span(m).subspan(off, n));
  }
  return std::move(out.data());
}

// ---------------------------------------------------------------- parsing

namespace {

class ByteReader {
public:
  explicit ByteReader(std::span<const std::uint8_t> d) : m_d(d) {}
  bool ok() const { return m_ok; }
  std::size_t remaining() const { return m_ok ? m_d.size() - m_pos : 0; }
  bool empty() const { return remaining() == 0; }
  std::uint32_t u8() { return take(1); }
  std::uint32_t u16() { return take(2); }
  std::uint32_t u24() { return take(3); }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    if (!m_ok || n > m_d.size() - m_pos) {
      m_ok = false;
      return {};
    }
    auto s = m_d.subspan(m_pos, n);
    m_pos += n;
    return s;
  }
  ByteReader sub(std::size_t n) { return ByteReader(bytes(n), m_ok); }

private:
  ByteReader(std::span<const std::uint8_t> d, bool ok) : m_d(d), m_ok(ok) {}
  std::uint32_t take(std::size_t n) {
    if (!m_ok || n > m_d.size() - m_pos) {
      m_ok = false;
      return 0;
    }
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v = (v << 8) | m_d[m_pos + i];
    m_pos += n;
    return v;
  }
  std::span<const std::uint8_t> m_d;
  std::size_t m_pos = 0;
  bool m_ok = true;
};

constexpr std::array<std::uint8_t, 32> k_hrr_random = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

constexpr std::size_t k_max_record = 16384 + 2048;
constexpr std::size_t k_max_message = 200 * 1024;

bool mostly_text(std::span<const std::uint8_t> b) {
  const auto n = std::min<std::size_t>(b.size(), 64);
  std::size_t printable = 0;
  for (std::size_t i = 0; i < n; ++i)
    if ((b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\r' || b[i] == '\n' || b[i] == '\t')
      ++printable;
  return n > 0 && printable * 10 >= n * 9;
}

ServerResponse malformed(ServerResponse r, std::string why) {
  r.kind = ResponseKind::malformed;
  r.detail = std::move(why);
  return r;
}

// Fills the ServerHello fields; returns an error text or empty.
std::string parse_server_hello(ByteReader body, ServerResponse& r) {
  r.legacy_version = static_cast<std::uint16_t>(body.u16());
  auto random = body.bytes(32);
  const auto sid_len = body.u8();
  if (!body.ok())
    return "ServerHello too short";
  if (sid_len > 32)
    return "ServerHello session id longer than 32 bytes";
  body.bytes(sid_len);
  r.session_id_length = sid_len;
  r.cipher_suite = static_cast<std::uint16_t>(body.u16());
  r.compression = static_cast<std::uint8_t>(body.u8());
  if (!body.ok())
    return "ServerHello too short";
  const bool hrr = std::equal(random.begin(), random.end(), k_hrr_random.begin());
  r.kind = hrr ? ResponseKind::hello_retry_request : ResponseKind::server_hello;
  r.version = r.legacy_version;
  if (body.empty())
    return {};
  const auto ext_len = body.u16();
  auto exts = body.sub(ext_len);
  if (!body.ok())
    return "ServerHello extensions overrun the message";
  if (!body.empty())
    return "trailing bytes after ServerHello extensions";
  while (!exts.empty()) {
    const auto type = static_cast<std::uint16_t>(exts.u16());
    const auto len = exts.u16();
    auto data = exts.sub(len);
    if (!exts.ok())
      return "ServerHello extension overruns the extension block";
    r.extensions.push_back(type);
    switch (type) {
    case 0x0000:
      r.sni_acknowledged = true;
      break;
    case 0x002b:
      r.version = static_cast<std::uint16_t>(data.u16());
      break;
    case 0x0033:
      r.key_share_group = static_cast<std::uint16_t>(data.u16());
      break;
    case 0x0010: {
      auto list = data.sub(data.u16());
      auto proto = list.bytes(list.u8());
      if (list.ok())
        r.alpn = std::string(proto.begin(), proto.end());
      break;
    }
    case 0xff01:
      r.renegotiation_info = true;
      break;
    case 0x0017:
      r.extended_master_secret = true;
      break;
    default:
      break;
    }
    if (!data.ok())
      return "malformed ServerHello extension " + std::to_string(type);
  }
  return {};
}

void parse_key_exchange(ByteReader ske, ServerResponse& r) {
  const auto* suite = find_cipher_suite(r.cipher_suite);
  if (suite == nullptr)
    return;
  const std::string_view name = suite->iana_name;
  const bool psk = name.find("_PSK_") != std::string_view::npos;
  const bool anon = name.find("_anon_") != std::string_view::npos;
  if (psk)
    ske.bytes(ske.u16()); // psk_identity_hint
  bool params = false;
  if (name.find("ECDHE") != std::string_view::npos ||
      name.find("ECDH_anon") != std::string_view::npos) {
    if (ske.u8() == 3) {
      const auto g = ske.u16();
      if (ske.ok())
        r.ecdhe_group = static_cast<std::uint16_t>(g);
      ske.bytes(ske.u8()); // the public point
      params = ske.ok();
    }
  } else if (name.find("DHE_") != std::string_view::npos ||
             name.find("DH_anon") != std::string_view::npos) {
    auto p = ske.bytes(ske.u16());
    if (ske.ok()) {
      std::size_t i = 0;
      while (i < p.size() && p[i] == 0)
        ++i;
      std::size_t bits = (p.size() - i) * 8;
      if (i < p.size())
        for (std::uint8_t top = p[i]; (top & 0x80) == 0; top = static_cast<std::uint8_t>(top << 1))
          --bits;
      r.dh_bits = bits;
    }
    ske.bytes(ske.u16()); // g
    ske.bytes(ske.u16()); // Ys
    params = ske.ok();
  }
  // TLS 1.2 names the signature scheme before a signed key exchange's signature.
  if (params && !psk && !anon && r.version == 0x0303) {
    const auto scheme = ske.u16();
    if (ske.ok())
      r.signature_scheme = static_cast<std::uint16_t>(scheme);
  }
}

} // namespace

bool ServerResponse::complete(const ParseOptions& options) const {
  if (kind == ResponseKind::incomplete)
    return false;
  if (kind == ResponseKind::server_hello && options.through_key_exchange && version < 0x0304 &&
      !alert)
    return ecdhe_group || dh_bits || server_hello_done || !detail.empty();
  return true;
}

ServerResponse parse_server_response(std::span<const std::uint8_t> input,
                                     const ParseOptions& options) {
  ServerResponse r;
  const bool capped = input.size() > k_max_response_bytes;
  const auto bytes = input.first(std::min(input.size(), k_max_response_bytes));
  r.bytes = bytes.size();
  if (bytes.empty())
    return r;
  const auto b0 = bytes[0];
  if (b0 < 20 || b0 > 23) {
    if ((b0 & 0x80) != 0 && bytes.size() >= 3 && bytes[2] == 4) {
      r.kind = ResponseKind::sslv2;
      r.detail = "SSLv2 ServerHello";
      return r;
    }
    if (mostly_text(bytes)) {
      r.kind = ResponseKind::not_tls;
      const std::string_view head(reinterpret_cast<const char*>(bytes.data()),
                                  std::min<std::size_t>(bytes.size(), 5));
      r.detail = head == "HTTP/" ? "plain HTTP response" : "plain text response";
      return r;
    }
    return malformed(r, "first byte is not a TLS record type");
  }

  ByteReader in(bytes);
  std::vector<std::uint8_t> hs; // handshake stream, reassembled across records
  std::size_t hs_pos = 0;
  bool have_hello = false;
  r.kind = ResponseKind::incomplete;
  while (in.remaining() >= 5) {
    const auto type = in.u8();
    const auto version = static_cast<std::uint16_t>(in.u16());
    const auto len = in.u16();
    if ((version >> 8) != 3 || (version & 0xff) > 4)
      return malformed(r, "bad record version");
    if (r.record_version == 0)
      r.record_version = version;
    if (len > k_max_record)
      return malformed(r, "record longer than 2^14 + 2048");
    if (type < 20 || type > 23)
      return malformed(r, "unknown record type " + std::to_string(type));
    if (in.remaining() < len)
      break; // wait for the rest of the record
    auto payload = in.bytes(len);
    if (type == 21) {
      if (len < 2)
        return malformed(r, "alert record shorter than 2 bytes");
      r.alert = Alert{payload[0], payload[1]};
      if (!have_hello)
        r.kind = ResponseKind::alert;
      return r;
    }
    if (type == 20 || type == 23) {
      if (!have_hello)
        return malformed(r, type == 20 ? "ChangeCipherSpec before ServerHello"
                                       : "application data before ServerHello");
      return r; // encrypted from here on: nothing more to learn
    }
    if (len == 0)
      return malformed(r, "empty handshake record");
    if (hs.size() + len > k_max_response_bytes)
      return malformed(r, "handshake stream too long");
    hs.insert(hs.end(), payload.begin(), payload.end());
    // Parse whole handshake messages available so far.
    while (hs.size() - hs_pos >= 4) {
      ByteReader h(std::span<const std::uint8_t>(hs).subspan(hs_pos));
      const auto msg_type = h.u8();
      const auto msg_len = h.u24();
      const std::size_t limit = msg_type == 11 ? k_max_message : 64 * 1024;
      if (msg_len > limit) {
        r.detail = "handshake message of " + std::to_string(msg_len) + " bytes";
        if (!have_hello)
          r.kind = ResponseKind::too_large;
        return r; // a ServerHello with a detail counts as complete
      }
      if (h.remaining() < msg_len)
        break; // wait for the next record
      auto body = h.sub(msg_len);
      hs_pos += 4 + msg_len;
      if (!have_hello) {
        if (msg_type == 0 && msg_len == 0)
          continue; // HelloRequest: ignorable
        if (msg_type != 2)
          return malformed(r,
                           "expected ServerHello, got handshake type " + std::to_string(msg_type));
        if (auto err = parse_server_hello(body, r); !err.empty())
          return malformed(r, err);
        have_hello = true;
        if (!r.complete(options))
          continue;
        return r;
      }
      switch (msg_type) {
      case 11: { // Certificate
        r.certificate_seen = true;
        auto list = body.sub(body.u24());
        while (list.ok() && !list.empty()) {
          auto cert = list.bytes(list.u24());
          if (!list.ok())
            break;
          if (r.certificate_count++ == 0)
            r.leaf_certificate.assign(cert.begin(), cert.end());
        }
        if (!list.ok())
          return malformed(r, "malformed Certificate message");
        break;
      }
      case 12:
        parse_key_exchange(body, r);
        if (!r.ecdhe_group && !r.dh_bits)
          r.server_hello_done = true; // RSA export etc.: nothing more we read
        return r;
      case 14:
        r.server_hello_done = true;
        return r;
      default: // CertificateStatus, CertificateRequest ...
        break;
      }
    }
  }
  if (capped && r.kind == ResponseKind::incomplete) {
    r.kind = ResponseKind::too_large;
    r.detail = "response exceeds the read limit";
  } else if (capped) {
    r.detail = "stopped at the read limit";
  }
  return r;
}

std::string alert_name(std::uint8_t d) {
  // One table of RFC names for both engines (handshake/names.cpp).
  std::string_view name = handshake::detail::alert_name(d);
  return name == "unknown_alert" ? "alert_" + std::to_string(d) : std::string(name);
}

std::string to_string(ResponseKind kind) {
  switch (kind) {
  case ResponseKind::server_hello:
    return "server_hello";
  case ResponseKind::hello_retry_request:
    return "hello_retry_request";
  case ResponseKind::alert:
    return "alert";
  case ResponseKind::incomplete:
    return "incomplete";
  case ResponseKind::not_tls:
    return "not_tls";
  case ResponseKind::sslv2:
    return "sslv2";
  case ResponseKind::malformed:
    return "malformed";
  case ResponseKind::too_large:
    return "too_large";
  case ResponseKind::empty:
    return "empty";
  }
  return "?";
}

} // namespace edgeshake::handshake::enumerate
