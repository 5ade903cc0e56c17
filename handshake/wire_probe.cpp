// The wire probe: the profile's ClientHello byte for byte (built by
// handshake/enumerate/wire.cpp), written as the edge's kernel writes it (in
// segments of the profile's MSS), read to the ServerHello. A HelloRetryRequest
// is answered as the real client answers it: a ChangeCipherSpec and a second
// ClientHello with one key share for the group asked for, on the same
// connection. What the server chose is then judged as the client judges it
// (enumerate::judge_server_hello). For TLS <= 1.2 the first flight is read to
// ServerHelloDone, so the certificate chain (sent in the clear) is described and
// verified like an OpenSSL probe's.
#include "handshake/wire_probe.hpp"

#include "common/tls_registry.hpp"
#include "handshake/enumerate/connection.hpp"
#include "handshake/enumerate/wire.hpp"

// g++ 12 misreports asio's awaitable frame allocator (operator new/delete
// pairs of awaitable_frame_base) as mismatched: a known false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>

#include <openssl/x509.h>

#include <algorithm>
#include <memory>

namespace edgeshake::handshake::detail {

namespace en = enumerate;
using Clock = std::chrono::steady_clock;

namespace {

milliseconds since(Clock::time_point from) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - from);
}

void add_missing(std::vector<std::uint16_t>& to, const std::vector<std::uint16_t>& from) {
  for (auto c : from)
    if (std::find(to.begin(), to.end(), c) == to.end())
      to.push_back(c);
}

std::string printable(const std::vector<std::uint8_t>& bytes, std::size_t max) {
  std::string s(bytes.begin(),
                bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), max)));
  return printable_excerpt(s, max);
}

// The chain of a TLS <= 1.2 Certificate message, described and verified like
// an OpenSSL probe's chain (probe.cpp collect_chain + verify_chain).
void take_chain(const std::vector<std::vector<std::uint8_t>>& ders, ProbeResult& r,
                ContextCache& cache) {
  using Stack = std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)>;
  Stack chain(sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); });
  if (!chain)
    return;
  std::vector<std::string> digests;
  for (const auto& der : ders) {
    const unsigned char* p = der.data();
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (cert == nullptr)
      break; // an undecodable certificate ends the chain we can judge
    if (sk_X509_push(chain.get(), cert) == 0) {
      X509_free(cert);
      break;
    }
    digests.push_back(certificate_digest(cert));
    r.chain.push_back(cache.facts().describe(cert, digests.back()));
  }
  const std::string trust_path = trust_store_path(r.spec);
  if (r.chain.empty()) {
    r.verification.host = r.spec.host;
    r.verification.trust_store = trust_path;
    return;
  }
  std::string store_error;
  auto store = cache.store(trust_path, store_error);
  r.verification =
      verify_chain(chain.get(), store.get(), r.spec.host, trust_path, &cache.verdicts(), &digests);
  if (!store_error.empty())
    r.verification.text = store_error;
}

void take_server_hello(const en::ServerResponse& sh, ProbeResult& r) {
  for (auto v : k_all_tls_versions)
    if (wire_version(v) == sh.version)
      r.version = v;
  r.wire.cipher_suite = sh.cipher_suite;
  if (const auto* suite = tls::find_cipher_suite(sh.cipher_suite)) {
    r.cipher = std::string(tls::display_name(sh.cipher_suite));
    r.cipher_iana = std::string(suite->iana_name);
  }
  r.wire.group = sh.version >= 0x0304 ? sh.key_share_group : sh.ecdhe_group;
  if (r.wire.group)
    r.group = group_name(*r.wire.group);
  r.alpn = sh.alpn.value_or("");
  r.wire.dh_bits = sh.dh_bits;
  r.wire.signature_scheme = sh.signature_scheme;
  r.wire.server_extensions = sh.extensions;
  r.client_cert_requested = sh.certificate_request;
  r.ocsp_stapled = sh.certificate_status;
}

// A read's outcome as a ProbeStatus (the alert, reply text and reason filled in).
void classify_read(const en::ReadResult& rd, ProbeResult& r, const std::vector<std::uint8_t>& raw,
                   std::size_t from) {
  const auto& resp = rd.response;
  r.wire.response = en::to_string(resp.kind);
  if (resp.alert) {
    Alert a;
    a.received = true;
    a.level = resp.alert->level;
    a.code = resp.alert->description;
    a.name = std::string(alert_name(resp.alert->description));
    r.alert = a;
  }
  switch (resp.kind) {
  case en::ResponseKind::alert:
    r.status = ProbeStatus::tls_alert;
    r.reason = "alert " + std::to_string(resp.alert->description) + " " + r.alert->name;
    return;
  case en::ResponseKind::not_tls:
  case en::ResponseKind::sslv2: {
    r.status = ProbeStatus::not_tls;
    std::vector<std::uint8_t> reply(raw.begin() + static_cast<std::ptrdiff_t>(from), raw.end());
    r.first_bytes = printable(reply, 256);
    r.reason = resp.detail;
    return;
  }
  case en::ResponseKind::malformed:
  case en::ResponseKind::too_large:
    r.status = ProbeStatus::protocol_error;
    r.reason = resp.detail;
    return;
  default:
    break;
  }
  // No complete answer: why the connection ended.
  if (rd.transport == en::ProbeOutcome::timeout)
    r.status = ProbeStatus::handshake_timeout;
  else if (rd.reset)
    r.status = ProbeStatus::reset;
  else
    r.status = ProbeStatus::eof;
  r.reason = resp.detail;
}

} // namespace

profiles::WireHello wire_hello_for(const ProbeSpec& spec) {
  const auto& p = *spec.profile;
  profiles::WireHello h = spec.hello < p.hellos.size() ? p.hellos[spec.hello] : p.hello;
  if (spec.wire.every_suite) {
    // Every suite of the registry for the offered versions, TLS 1.3 first; the
    // hello's own suites keep their places at the front.
    std::vector<std::uint16_t> all = h.cipher_suites;
    for (auto it = h.versions.rbegin(); it != h.versions.rend(); ++it)
      add_missing(all, tls::candidate_suites(*it));
    h.cipher_suites = std::move(all);
    h.suite_versions.clear();
  }
  if (spec.wire.every_group) {
    std::vector<std::uint16_t> all = h.groups;
    const bool tls13 =
        std::find(h.versions.begin(), h.versions.end(), TlsVersion::tls1_3) != h.versions.end();
    const bool tls12 = !h.versions.empty() && h.versions.front() < TlsVersion::tls1_3;
    if (tls13)
      add_missing(all, tls::candidate_groups(TlsVersion::tls1_3));
    if (tls12)
      add_missing(all, tls::candidate_groups(TlsVersion::tls1_2));
    h.groups = std::move(all);
    if (!h.has_extension(0x000a) && !h.groups.empty())
      h.extensions.push_back(0x000a);
  }
  if (spec.wire.one_segment)
    h.tcp_max_segment = 0;
  return h;
}

asio::awaitable<ProbeResult> probe_wire(ProbeSpec spec, ContextCache& cache) {
  ProbeResult r;
  r.spec = std::move(spec);
  const ProbeSpec& s = r.spec;
  const auto start = Clock::now();
  r.phase = ProbePhase::connect;
  r.wire.performed = true;
  auto finish = [&r, start] { r.timings.total = since(start); };
  if (s.profile->hellos.empty() || s.hello >= s.profile->hellos.size()) {
    r.status = ProbeStatus::client_error;
    r.reason = "profile '" + s.profile->id + "' has no ClientHello #" + std::to_string(s.hello);
    finish();
    co_return r;
  }
  const profiles::WireHello hello = wire_hello_for(s);
  r.wire.hello_label = hello.label;
  en::HelloParams params;
  params.sni = s.sni;
  const auto first = en::build_profile_hello(hello, params);
  r.wire.hello_bytes = first.bytes.size();
  r.sni_sent = s.sni && !s.sni->empty();

  auto executor = co_await asio::this_coro::executor;
  auto& io = static_cast<asio::io_context&>(asio::query(executor, asio::execution::context));
  en::Connection conn(io, en::ConnectionSpec{s.target, s.timeout, hello.tcp_max_segment});
  auto connected = co_await conn.connect();
  if (connected.transport != en::ProbeOutcome::accepted) {
    r.status = connected.transport == en::ProbeOutcome::refused ? ProbeStatus::tcp_refused
               : connected.transport == en::ProbeOutcome::connect_timeout
                   ? ProbeStatus::tcp_timeout
                   : ProbeStatus::tcp_unreachable;
    r.reason = connected.response.detail;
    finish();
    co_return r;
  }
  const auto connected_at = Clock::now();
  r.timings.connect = since(start);
  r.phase = ProbePhase::handshake;

  // One write; with TCP_MAXSEG and TCP_NODELAY the kernel cuts it into
  // ceil(size / MSS) segments (tests/support's SegmentRelay sees them arrive so).
  co_await conn.write(first.bytes);
  en::ParseOptions po;
  po.through_key_exchange = true;
  po.until_hello_done = true;
  auto rd = co_await conn.read(po);
  const std::size_t mss = hello.tcp_max_segment;
  r.wire.segments = mss > 0 ? (first.bytes.size() + mss - 1) / mss : 1;

  std::size_t from = 0;
  std::optional<std::uint16_t> retry_group;
  if (rd.response.kind == en::ResponseKind::hello_retry_request) {
    const auto hrr = rd.response;
    r.wire.response = en::to_string(hrr.kind);
    r.wire.hrr_group = hrr.key_share_group;
    auto verdict = en::judge_server_hello(hello, hrr);
    if (!verdict.accepted) {
      r.status = ProbeStatus::protocol_error;
      r.wire.refusal = "HelloRetryRequest " + verdict.reason;
      r.reason = r.wire.refusal;
      if (verdict.alert != 0)
        r.alert = Alert{false, 2, verdict.alert, std::string(alert_name(verdict.alert))};
      r.timings.handshake = since(connected_at);
      finish();
      co_return r;
    }
    // The second ClientHello: the same hello with one share for the group asked
    // for (the first one's group when the HRR carries only a cookie), after the
    // middlebox-compatibility ChangeCipherSpec, in one write as BoringSSL flushes.
    en::HelloParams again = params;
    again.seed = first.seed;
    retry_group = hrr.key_share_group ? *hrr.key_share_group
                                      : (hello.key_shares.empty() ? 0 : hello.key_shares.front());
    again.retry_group = retry_group;
    again.cookie = hrr.cookie;
    auto second = en::build_profile_hello(hello, again);
    auto bytes = en::change_cipher_spec_record();
    bytes.insert(bytes.end(), second.bytes.begin(), second.bytes.end());
    r.wire.second_hello = true;
    r.wire.second_hello_bytes = second.bytes.size();
    from = hrr.hello_end;
    co_await conn.write(bytes);
    po.after_retry = true;
    rd = co_await conn.read(po, from);
  }
  r.timings.handshake = since(connected_at);

  if (rd.response.kind != en::ResponseKind::server_hello) {
    classify_read(rd, r, conn.received(), from);
    if (rd.response.kind == en::ResponseKind::hello_retry_request) {
      r.status = ProbeStatus::protocol_error;
      r.reason = "a second HelloRetryRequest";
    }
    r.wire.refusal = r.reason;
    finish();
    co_return r;
  }
  const auto& sh = rd.response;
  take_server_hello(sh, r);
  r.wire.response = en::to_string(sh.kind);
  if (!sh.certificates.empty())
    take_chain(sh.certificates, r, cache);
  else {
    r.verification.host = s.host;
    r.verification.trust_store = trust_store_path(s);
  }
  auto verdict = en::judge_server_hello(hello, sh, retry_group);
  r.wire.accepted = verdict.accepted;
  if (!verdict.accepted) {
    r.status = ProbeStatus::protocol_error;
    r.wire.refusal = verdict.reason;
    r.reason = "the server " + verdict.reason;
    if (verdict.alert != 0)
      r.alert = Alert{false, 2, verdict.alert, std::string(alert_name(verdict.alert))};
  } else if (sh.alert && sh.alert->level == 2) {
    // A fatal alert after the ServerHello (TLS <= 1.2 first flight).
    classify_read(en::ReadResult{en::ProbeOutcome::accepted,
                                 [&] {
                                   auto a = sh;
                                   a.kind = en::ResponseKind::alert;
                                   return a;
                                 }()},
                  r, conn.received(), from);
  } else if (sh.version < 0x0304 && !sh.server_hello_done) {
    // A TLS <= 1.2 first flight cut short (a reset, a close or the deadline
    // before ServerHelloDone, or a flight too large to read): the edge's
    // handshake fails there too, whatever the ServerHello chose.
    r.wire.accepted = false;
    if (!sh.detail.empty()) {
      r.status = ProbeStatus::protocol_error;
      r.reason = sh.detail;
    } else {
      classify_read(rd, r, conn.received(), from);
      r.wire.response = en::to_string(sh.kind);
    }
    r.wire.refusal = "the server's first flight ended before ServerHelloDone (" +
                     (r.reason.empty() ? std::string(to_string(r.status)) : r.reason) + ")";
    r.reason = r.wire.refusal;
  } else {
    r.status = ProbeStatus::ok;
    r.phase = ProbePhase::done;
  }
  conn.close();
  finish();
  co_return r;
}

} // namespace edgeshake::handshake::detail
