// ClientHello writer and the defensive server-response parser. Every read goes
// through ByteReader, which checks bounds; a failed read marks the reader bad
// instead of touching memory it does not own.
#include "handshake/enumerate/wire.hpp"
#include "handshake/names.hpp"

#include "handshake/enumerate/tables.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
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

// ---------------------------------------------------------------- a profile's hello

namespace {

using EvpKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// The public half of a freshly generated key of `type` (X25519, X448, EC on
// `curve`, DH on a named FFDHE group); empty when OpenSSL cannot make one.
std::vector<std::uint8_t> generated_public_key(const char* type, const char* curve,
                                               std::size_t size) {
  EvpKey key(nullptr, EVP_PKEY_free);
  if (curve != nullptr && std::string_view(type) == "DH") {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr), EVP_PKEY_CTX_free);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(curve), 0),
        OSSL_PARAM_construct_end()};
    EVP_PKEY* raw = nullptr;
    if (ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
        EVP_PKEY_CTX_set_params(ctx.get(), params) == 1 && EVP_PKEY_generate(ctx.get(), &raw) == 1)
      key.reset(raw);
  } else if (curve != nullptr) {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve));
  } else {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  }
  if (!key)
    return {};
  std::vector<std::uint8_t> out(size);
  std::size_t len = 0;
  if (std::string_view(type) == "DH") {
    // The public value, left-padded to the prime's length (RFC 8446 4.2.8.1).
    BIGNUM* pub = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, &pub) != 1)
      return {};
    const int ok = BN_bn2binpad(pub, out.data(), static_cast<int>(size));
    BN_free(pub);
    return ok == static_cast<int>(size) ? out : std::vector<std::uint8_t>{};
  }
  if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out.data(),
                                      out.size(), &len) != 1 ||
      len != size)
    return {};
  return out;
}

// An ML-KEM encapsulation key of rank k (2, 3, 4): k*256 coefficients below
// q = 3329, 12 bits each (servers reject a key with a coefficient out of
// range, FIPS 203 7.2), then the 32-byte seed rho.
std::vector<std::uint8_t> mlkem_encapsulation_key(int rank, std::mt19937& rng) {
  std::uniform_int_distribution<std::uint32_t> coefficient(0, 3328);
  std::vector<std::uint8_t> out;
  for (int i = 0; i < rank * 256; i += 2) {
    const auto a = coefficient(rng), b = coefficient(rng);
    out.push_back(static_cast<std::uint8_t>(a & 0xff));
    out.push_back(static_cast<std::uint8_t>((a >> 8) | ((b & 0x0f) << 4)));
    out.push_back(static_cast<std::uint8_t>(b >> 4));
  }
  random_bytes(rng, out, 32);
  return out;
}

std::vector<std::uint8_t> make_key_share(std::uint16_t group) {
  std::mt19937 rng(std::random_device{}());
  auto concat = [](std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
    if (a.empty() || b.empty())
      return std::vector<std::uint8_t>{};
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  switch (group) {
  case 23:
    return generated_public_key("EC", "P-256", 65);
  case 24:
    return generated_public_key("EC", "P-384", 97);
  case 25:
    return generated_public_key("EC", "P-521", 133);
  case 26:
  case 31:
    return generated_public_key("EC", "brainpoolP256r1", 65);
  case 27:
  case 32:
    return generated_public_key("EC", "brainpoolP384r1", 97);
  case 28:
  case 33:
    return generated_public_key("EC", "brainpoolP512r1", 129);
  case 29:
    return generated_public_key("X25519", nullptr, 32);
  case 30:
    return generated_public_key("X448", nullptr, 56);
  case 256:
    return generated_public_key("DH", "ffdhe2048", 256);
  case 257:
    return generated_public_key("DH", "ffdhe3072", 384);
  case 258:
    return generated_public_key("DH", "ffdhe4096", 512);
  case 259:
    return generated_public_key("DH", "ffdhe6144", 768);
  case 260:
    return generated_public_key("DH", "ffdhe8192", 1024);
  case 0x0200:
    return mlkem_encapsulation_key(2, rng);
  case 0x0201:
    return mlkem_encapsulation_key(3, rng);
  case 0x0202:
    return mlkem_encapsulation_key(4, rng);
  // draft-ietf-tls-ecdhe-mlkem: X25519MLKEM768 puts the ML-KEM key first, the
  // NIST-curve hybrids put the curve point first.
  case 0x11EC:
    return concat(mlkem_encapsulation_key(3, rng), make_key_share(29));
  case 0x11EB:
    return concat(make_key_share(23), mlkem_encapsulation_key(3, rng));
  case 0x11ED:
    return concat(make_key_share(24), mlkem_encapsulation_key(4, rng));
  // draft-tls-westerbaan-xyber768d00: X25519 first, then the Kyber768 key.
  case 0x6399:
    return concat(make_key_share(29), mlkem_encapsulation_key(3, rng));
  case 0x639A:
    return concat(make_key_share(23), mlkem_encapsulation_key(3, rng));
  default:
    break;
  }
  return {};
}

} // namespace

std::vector<std::uint8_t> key_share_bytes(std::uint16_t group) {
  if (tls::is_grease(group))
    return {0};
  // Keys are made once per process and group: a probe needs a well-formed
  // share, not a secret one, and P-521 or ffdhe8192 key generation per
  // connection would cost more than the connection.
  static std::mutex mutex;
  static std::map<std::uint16_t, std::vector<std::uint8_t>> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(group);
  if (it == cache.end()) {
    auto share = make_key_share(group);
    if (share.empty()) {
      // A group OpenSSL cannot make keys for (GOST, SM2 ...): random bytes of
      // the registered length, which the server will refuse as it likes.
      const auto* info = tls::find_group(group);
      std::mt19937 rng(std::random_device{}());
      random_bytes(rng, share,
                   info != nullptr && info->key_share_size > 0 ? info->key_share_size : 32);
    }
    it = cache.emplace(group, std::move(share)).first;
  }
  return it->second;
}

std::vector<std::uint8_t> change_cipher_spec_record() {
  return {20, 0x03, 0x03, 0x00, 0x01, 0x01};
}

BuiltHello build_profile_hello(const profiles::WireHello& h, const HelloParams& params) {
  BuiltHello out;
  out.seed = params.seed != 0 ? params.seed : std::random_device{}();
  std::mt19937 rng(out.seed);
  const bool retry = params.retry_group.has_value();
  // GREASE values: drawn in a fixed order from the seed, so the second
  // ClientHello repeats them (RFC 8446 4.1.2 allows no other change).
  auto grease = [&rng] {
    const auto nibble = static_cast<std::uint16_t>(rng() & 0xf0);
    return static_cast<std::uint16_t>((nibble | 0x0a) << 8 | nibble | 0x0a);
  };
  const std::uint16_t grease_suite = grease(), grease_group = grease(), grease_version = grease(),
                      grease_ext1 = grease();
  std::uint16_t grease_ext2 = grease();
  if (grease_ext2 == grease_ext1)
    grease_ext2 ^= 0x1010;
  auto value = [&](std::uint16_t v, std::uint16_t grease_value) {
    return tls::is_grease(v) || v == profiles::k_grease ? grease_value : v;
  };

  Writer body;
  auto mark = [&out, &body](std::size_t from) { // body offsets until the end
    out.variable.emplace_back(from, body.data().size() - from);
  };
  body.u16(h.legacy_version);
  std::size_t at = body.data().size();
  {
    std::vector<std::uint8_t> random;
    random_bytes(rng, random, 32);
    body.bytes(random);
  }
  mark(at);
  // A random legacy session id in TLS 1.3's middlebox-compatibility mode (RFC
  // 8446 D.4), as BoringSSL and OpenSSL send it whenever they offer TLS 1.3;
  // none from a TLS <= 1.2 client without a session to resume.
  const bool tls13 =
      std::find(h.versions.begin(), h.versions.end(), TlsVersion::tls1_3) != h.versions.end();
  {
    std::vector<std::uint8_t> sid;
    random_bytes(rng, sid, 32); // drawn either way: the draws that follow stay the same
    body.u8(tls13 ? 32 : 0);
    at = body.data().size();
    if (tls13) {
      body.bytes(sid);
      mark(at);
    }
  }
  auto suites = body.open(2);
  for (auto c : h.cipher_suites) {
    const bool g = tls::is_grease(c) || c == profiles::k_grease;
    at = body.data().size();
    body.u16(value(c, grease_suite));
    if (g)
      mark(at);
  }
  body.close(suites, 2);
  body.u8(1); // compression methods: null only
  body.u8(0);

  auto ext_block = body.open(2);
  const auto grease_exts = std::count_if(h.extensions.begin(), h.extensions.end(), [](auto t) {
    return tls::is_grease(t) || t == profiles::k_grease;
  });
  long grease_seen = 0;
  std::optional<std::size_t> padding_at; // where the padding extension goes
  auto codes = [&](const std::vector<std::uint16_t>& list, std::uint16_t grease_value,
                   int length_width) {
    auto l = body.open(length_width);
    for (auto c : list) {
      at = body.data().size();
      body.u16(value(c, grease_value));
      if (tls::is_grease(c) || c == profiles::k_grease)
        mark(at);
    }
    body.close(l, length_width);
  };
  auto write_ext = [&](std::uint16_t type) {
    const bool grease_ext = tls::is_grease(type) || type == profiles::k_grease;
    if (type == 0x0000 && (!params.sni || params.sni->empty()))
      return; // no name, no server_name extension
    if (type == 0x0015) {
      padding_at = body.data().size();
      return; // filled in once the rest is known
    }
    at = body.data().size();
    if (grease_ext)
      ++grease_seen;
    body.u16(grease_ext ? (grease_seen == 1 ? grease_ext1 : grease_ext2) : type);
    if (grease_ext)
      mark(at);
    auto len = body.open(2);
    switch (type) {
    case 0x0000: {
      auto list = body.open(2);
      body.u8(0);
      auto name = body.open(2);
      body.text(*params.sni);
      body.close(name, 2);
      body.close(list, 2);
      break;
    }
    case 0x0005: // status_request: OCSP, no responder ids, no extensions
      body.u8(1);
      body.u16(0);
      body.u16(0);
      break;
    case 0x000a:
      codes(h.groups, grease_group, 2);
      break;
    case 0x000b: {
      auto l = body.open(1);
      for (auto f : h.ec_point_formats)
        body.u8(f);
      body.close(l, 1);
      break;
    }
    case 0x000d:
      codes(h.signature_algorithms, 0, 2);
      break;
    case 0x0032:
      codes(h.signature_algorithms_cert, 0, 2);
      break;
    case 0x0010: {
      auto l = body.open(2);
      for (const auto& p : h.alpn) {
        body.u8(static_cast<std::uint32_t>(std::min<std::size_t>(p.size(), 255)));
        body.text(std::string_view(p).substr(0, 255));
      }
      body.close(l, 2);
      break;
    }
    case 0x001b: {
      auto l = body.open(1);
      for (auto a : h.compress_certificate)
        body.u16(a);
      body.close(l, 1);
      break;
    }
    case 0x002b: {
      std::vector<std::uint16_t> versions = h.supported_versions;
      if (versions.empty())
        for (auto it = h.versions.rbegin(); it != h.versions.rend(); ++it)
          versions.push_back(static_cast<std::uint16_t>(wire_version(*it)));
      codes(versions, grease_version, 1);
      break;
    }
    case 0x002d: {
      auto l = body.open(1);
      for (auto m : h.psk_key_exchange_modes)
        body.u8(m);
      body.close(l, 1);
      break;
    }
    case 0x0033: {
      auto l = body.open(2);
      std::vector<std::uint16_t> shares = h.key_shares;
      if (retry)
        shares = {*params.retry_group};
      for (auto g : shares) {
        const bool gg = tls::is_grease(g) || g == profiles::k_grease;
        at = body.data().size();
        body.u16(value(g, grease_group));
        if (gg)
          mark(at);
        auto k = body.open(2);
        at = body.data().size();
        body.bytes(key_share_bytes(gg ? grease_group : g));
        mark(at);
        body.close(k, 2);
      }
      body.close(l, 2);
      break;
    }
    case 0xff01: // renegotiation_info: an empty renegotiated_connection
      body.u8(0);
      break;
    default:
      // Empty extensions (extended_master_secret, session_ticket, encrypt_then_mac,
      // signed_certificate_timestamp, post_handshake_auth); the last of several
      // GREASE extensions carries one byte, as BoringSSL writes it.
      if (grease_ext && grease_exts > 1 && grease_seen == grease_exts)
        body.u8(0);
      break;
    }
    body.close(len, 2);
    if (type == 0x002b && retry && !params.cookie.empty()) {
      // The cookie follows supported_versions, where BoringSSL's table puts it.
      body.u16(0x002c);
      auto c = body.open(2);
      auto v = body.open(2);
      body.bytes(params.cookie);
      body.close(v, 2);
      body.close(c, 2);
    }
  };
  for (auto type : h.extensions)
    write_ext(type);
  if (padding_at) {
    // RFC 7685 as BoringSSL pads (the F5 workaround): a ClientHello message of
    // 256 to 511 bytes grows to 512, with at least one byte of padding
    // (profiles::wire_size counts the same).
    const std::size_t unpadded = 4 + body.data().size();
    if (unpadded > 0xff && unpadded < 0x200) {
      const std::size_t room = 0x200 - unpadded;
      const std::size_t pad = room >= 5 ? room - 4 : 1;
      std::vector<std::uint8_t> ext = {0x00, 0x15, static_cast<std::uint8_t>(pad >> 8),
                                       static_cast<std::uint8_t>(pad & 0xff)};
      ext.resize(4 + pad, 0);
      auto& d = body.data();
      d.insert(d.begin() + static_cast<std::ptrdiff_t>(*padding_at), ext.begin(), ext.end());
      for (auto& [off, n] : out.variable)
        if (off >= *padding_at)
          off += ext.size();
    }
  }
  body.close(ext_block, 2);
  if (h.extensions.empty())
    body.data().resize(ext_block); // no extensions: no extensions block (SSLv3 style)

  Writer msg;
  msg.u8(1); // client_hello
  msg.u24(static_cast<std::uint32_t>(body.data().size()));
  msg.bytes(body.data());
  out.message_bytes = msg.data().size();

  Writer rec;
  const auto& m = msg.data();
  const std::uint16_t record_version = retry ? 0x0303 : h.record_version;
  // Body offset -> offset in the records: the handshake header, then one 5-byte
  // record header per 2^14 bytes of message (a range is not split at a record
  // boundary: no bundled hello comes near 16 KiB).
  for (auto& [off, n] : out.variable) {
    (void)n;
    off += 4;
    off += 5 * (off / 16384 + 1);
  }
  for (std::size_t off = 0; off < m.size(); off += 16384) {
    const auto n = std::min<std::size_t>(16384, m.size() - off);
    rec.u8(22);
    rec.u16(record_version);
    rec.u16(static_cast<std::uint32_t>(n));
    rec.bytes(std::span(m).subspan(off, n));
  }
  out.bytes = std::move(rec.data());
  return out;
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
    case 0x002c: { // cookie (HelloRetryRequest)
      auto cookie = data.bytes(data.u16());
      if (data.ok())
        r.cookie.assign(cookie.begin(), cookie.end());
      break;
    }
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
  if (kind == ResponseKind::server_hello && options.until_hello_done && version < 0x0304 && !alert)
    return server_hello_done || !detail.empty();
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
    if (type == 20 && !have_hello && options.after_retry && len == 1 && payload[0] == 1)
      continue; // the middlebox-compatibility ChangeCipherSpec after a HelloRetryRequest
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
        r.hello_end = bytes.size() - in.remaining();
        if (r.kind == ResponseKind::hello_retry_request && hs.size() > hs_pos)
          return malformed(r, "handshake data after the HelloRetryRequest"); // RFC 8446 4.1.4
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
          if (r.certificates.size() < k_max_certificates)
            r.certificates.emplace_back(cert.begin(), cert.end());
        }
        if (!list.ok())
          return malformed(r, "malformed Certificate message");
        break;
      }
      case 12:
        parse_key_exchange(body, r);
        if (options.until_hello_done)
          break; // on to CertificateRequest and ServerHelloDone
        if (!r.ecdhe_group && !r.dh_bits)
          r.server_hello_done = true; // RSA export etc.: nothing more we read
        return r;
      case 14:
        r.server_hello_done = true;
        return r;
      case 22:
        r.certificate_status = true;
        break;
      case 13:
        r.certificate_request = true;
        break;
      default:
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

namespace {

std::string code_hex(std::uint16_t v) {
  static const char* digits = "0123456789ABCDEF";
  std::string out = "0x";
  for (int shift = 12; shift >= 0; shift -= 4)
    out += digits[(v >> shift) & 0xf];
  return out;
}

std::string group_text(std::uint16_t g) {
  const auto* info = tls::find_group(g);
  return info ? std::string(info->name) : code_hex(g);
}

bool contains(const std::vector<std::uint16_t>& list, std::uint16_t v) {
  return !tls::is_grease(v) && std::find(list.begin(), list.end(), v) != list.end();
}

Judgement refuse(std::uint8_t alert, std::string why) {
  return Judgement{false, std::move(why), alert};
}

} // namespace

Judgement judge_server_hello(const profiles::WireHello& offered, const ServerResponse& r,
                             std::optional<std::uint16_t> after_retry) {
  constexpr std::uint8_t k_illegal_parameter = 47, k_protocol_version = 70,
                         k_unsupported_extension = 110, k_unexpected_message = 10;
  const bool hrr = r.kind == ResponseKind::hello_retry_request;
  if (r.kind != ResponseKind::server_hello && !hrr)
    return refuse(0, "no ServerHello");
  if (hrr && after_retry)
    return refuse(k_unexpected_message, "a second HelloRetryRequest");
  if (r.compression != 0)
    return refuse(k_illegal_parameter, "chose compression method " + std::to_string(r.compression));
  auto offers = [&offered](TlsVersion v) {
    return std::find(offered.versions.begin(), offered.versions.end(), v) != offered.versions.end();
  };
  const bool via_supported_versions =
      std::find(r.extensions.begin(), r.extensions.end(), 0x002b) != r.extensions.end();
  std::optional<TlsVersion> version;
  for (auto v : k_all_tls_versions)
    if (wire_version(v) == r.version)
      version = v;
  if (!version || !offers(*version) || (via_supported_versions && *version != TlsVersion::tls1_3) ||
      (hrr && *version != TlsVersion::tls1_3))
    return refuse(k_protocol_version,
                  "answered " + code_hex(r.version) +
                      (version ? " (" + std::string(to_string(*version)) + ")" : std::string()) +
                      ", which was not offered");
  if (!contains(offered.cipher_suites, r.cipher_suite))
    return refuse(k_illegal_parameter, "chose cipher suite " +
                                           std::string(tls::display_name(r.cipher_suite)) + " (" +
                                           code_hex(r.cipher_suite) + "), which was not offered");
  const auto* suite = tls::find_cipher_suite(r.cipher_suite);
  const bool suite_fits = suite != nullptr && (suite->versions & tls::version_bit(*version)) != 0;
  auto allowed = offered.suite_versions.find(r.cipher_suite);
  const bool profile_allows =
      allowed == offered.suite_versions.end() ||
      std::find(allowed->second.begin(), allowed->second.end(), *version) != allowed->second.end();
  if (!suite_fits || !profile_allows)
    return refuse(k_illegal_parameter, "chose " + std::string(tls::display_name(r.cipher_suite)) +
                                           " at " + std::string(to_string(*version)) +
                                           (suite_fits ? ", where this client does not accept it"
                                                       : ", where that suite does not exist"));
  if (hrr) {
    if (!r.key_share_group && r.cookie.empty())
      return refuse(k_illegal_parameter, "an empty HelloRetryRequest");
    if (r.key_share_group) {
      const auto g = *r.key_share_group;
      if (!contains(offered.groups, g))
        return refuse(k_illegal_parameter,
                      "asked for a key share for " + group_text(g) + ", which was not offered");
      if (contains(offered.key_shares, g))
        return refuse(k_illegal_parameter, "asked for a key share for " + group_text(g) +
                                               ", which the ClientHello already carried");
    }
    return Judgement{true, {}, 0};
  }
  if (*version == TlsVersion::tls1_3) {
    if (!r.key_share_group)
      return refuse(k_illegal_parameter, "TLS 1.3 ServerHello without a key share");
    const auto g = *r.key_share_group;
    const bool expected = after_retry ? g == *after_retry : contains(offered.key_shares, g);
    if (!expected)
      return refuse(k_illegal_parameter, "answered with a key share for " + group_text(g) +
                                             ", for which the client sent none");
  } else {
    if (r.ecdhe_group && !contains(offered.groups, *r.ecdhe_group))
      return refuse(k_illegal_parameter,
                    "used ECDHE group " + group_text(*r.ecdhe_group) + ", which was not offered");
    if (r.signature_scheme && !contains(offered.signature_algorithms, *r.signature_scheme))
      return refuse(k_illegal_parameter, "signed its key exchange with " +
                                             tls::signature_scheme_name(*r.signature_scheme) +
                                             ", which was not offered");
  }
  if (r.alpn && std::find(offered.alpn.begin(), offered.alpn.end(), *r.alpn) == offered.alpn.end())
    return refuse(k_illegal_parameter,
                  "chose ALPN protocol '" + *r.alpn + "', which was not offered");
  const bool scsv = contains(offered.cipher_suites, 0x00ff);
  for (auto type : r.extensions) {
    if (type == 0xff01 && scsv)
      continue; // RFC 5746: the SCSV asks for renegotiation_info
    if (type == 0x002c && hrr)
      continue;
    if (!offered.has_extension(type))
      return refuse(k_unsupported_extension, "answered with extension " +
                                                 tls::extension_name(type) +
                                                 ", which was not offered");
  }
  return Judgement{true, {}, 0};
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
