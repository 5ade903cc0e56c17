// classify() and the HTTP parser are pure: rows of observations in, statuses
// out, no network. (The same statuses are produced by real servers in
// test_probe.cpp; these rows pin the precedence rules.)
#include "handshake/detail.hpp"
#include "tests/support/certs.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sslerr.h>

#include <cerrno>
#include <cstdio>

namespace edgeshake::handshake::detail {
namespace {

unsigned long ssl_reason(int reason) {
  return ERR_PACK(ERR_LIB_SSL, 0, reason);
}

Observation connected() {
  Observation o;
  o.connected = true;
  return o;
}

Alert alert(bool received, int code) {
  return Alert{received, 2, code, std::string(alert_name(code))};
}

struct ClassifyRow {
  const char* name;
  Observation obs;
  ProbeStatus status;
  ProbePhase phase;
};

void PrintTo(const ClassifyRow& row, std::ostream* os) {
  *os << row.name;
}

std::vector<ClassifyRow> classify_rows() {
  std::vector<ClassifyRow> rows;
  {
    Observation o;
    o.connect_errno = ECONNREFUSED;
    rows.push_back({"Refused", o, ProbeStatus::tcp_refused, ProbePhase::connect});
  }
  {
    Observation o;
    o.connect_timed_out = true;
    rows.push_back({"ConnectTimeout", o, ProbeStatus::tcp_timeout, ProbePhase::connect});
  }
  {
    Observation o;
    o.connect_errno = ENETUNREACH;
    rows.push_back({"Unreachable", o, ProbeStatus::tcp_unreachable, ProbePhase::connect});
  }
  {
    Observation o = connected();
    o.handshake_done = true;
    rows.push_back({"Ok", o, ProbeStatus::ok, ProbePhase::done});
  }
  {
    Observation o = connected();
    o.ssl_error = SSL_ERROR_SSL;
    o.alert = alert(true, 40);
    o.error_codes = {ssl_reason(SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)};
    rows.push_back({"ReceivedAlert", o, ProbeStatus::tls_alert, ProbePhase::handshake});
  }
  {
    // "HTTP/" as a record header: not TLS, even though OpenSSL sent an alert.
    Observation o = connected();
    o.ssl_error = SSL_ERROR_SSL;
    o.first_record = "HTTP/";
    o.alert = alert(false, 70);
    o.error_codes = {ssl_reason(SSL_R_WRONG_VERSION_NUMBER)};
    rows.push_back({"HttpReply", o, ProbeStatus::not_tls, ProbePhase::handshake});
  }
  {
    Observation o = connected();
    o.handshake_timed_out = true;
    o.ssl_error = SSL_ERROR_WANT_READ;
    rows.push_back({"HandshakeTimeout", o, ProbeStatus::handshake_timeout, ProbePhase::handshake});
  }
  {
    Observation o = connected();
    o.ssl_error = SSL_ERROR_SYSCALL;
    o.sys_errno = ECONNRESET;
    rows.push_back({"Reset", o, ProbeStatus::reset, ProbePhase::handshake});
  }
  {
    Observation o = connected();
    o.ssl_error = SSL_ERROR_SSL;
    o.error_codes = {ssl_reason(SSL_R_UNEXPECTED_EOF_WHILE_READING)};
    rows.push_back({"Eof", o, ProbeStatus::eof, ProbePhase::handshake});
  }
  {
    // We rejected what the server sent and told it so.
    Observation o = connected();
    o.ssl_error = SSL_ERROR_SSL;
    o.alert = alert(false, 47);
    o.first_record = std::string("\x16\x03\x03\x00\x40", 5);
    o.error_codes = {ssl_reason(SSL_R_BAD_EXTENSION)};
    rows.push_back({"SentAlert", o, ProbeStatus::tls_alert, ProbePhase::handshake});
  }
  {
    Observation o = connected();
    o.ssl_error = SSL_ERROR_SSL;
    o.error_codes = {ssl_reason(SSL_R_BAD_EXTENSION)};
    rows.push_back({"ProtocolError", o, ProbeStatus::protocol_error, ProbePhase::handshake});
  }
  {
    Observation o;
    o.client_setup_failed = true;
    o.client_setup_error = "cannot load client certificate";
    rows.push_back({"ClientSetup", o, ProbeStatus::client_error, ProbePhase::connect});
  }
  return rows;
}

class Classify : public ::testing::TestWithParam<ClassifyRow> {};

TEST_P(Classify, Row) {
  const auto& row = GetParam();
  auto c = classify(row.obs);
  EXPECT_EQ(to_string(c.status), to_string(row.status)) << c.reason;
  EXPECT_EQ(to_string(c.phase), to_string(row.phase));
  if (row.status != ProbeStatus::ok) {
    EXPECT_FALSE(c.reason.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Observations, Classify, ::testing::ValuesIn(classify_rows()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ClassifyReason, AlertReasonNamesTheAlert) {
  Observation o = connected();
  o.ssl_error = SSL_ERROR_SSL;
  o.alert = alert(true, 112);
  EXPECT_EQ(classify(o).reason, "received fatal alert 112 unrecognized_name");
}

TEST(LooksLikeTls, RecordHeaders) {
  EXPECT_TRUE(looks_like_tls(std::string("\x16\x03\x01", 3)));
  EXPECT_TRUE(looks_like_tls(std::string("\x15\x03\x03", 3)));
  EXPECT_FALSE(looks_like_tls("HTTP/"));
  EXPECT_FALSE(looks_like_tls("SSH-2"));
  EXPECT_FALSE(looks_like_tls(std::string("\x16\x01", 2)));
}

TEST(HttpParse, StatusHeadersDateBody) {
  auto r = parse_http_response("HTTP/1.1 301 Moved Permanently\r\nServer: cloudflare\r\n"
                               "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nCF-RAY: 1234-AMS\r\n"
                               "Location: https://x.test/\r\nX-Other: dropped\r\n\r\nbody\x01");
  EXPECT_EQ(r.status, HttpStatus::ok);
  EXPECT_EQ(r.code, 301);
  EXPECT_EQ(r.status_line, "HTTP/1.1 301 Moved Permanently");
  using H = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(r.headers, (H{{"server", "cloudflare"},
                          {"date", "Sun, 06 Nov 1994 08:49:37 GMT"},
                          {"cf-ray", "1234-AMS"},
                          {"location", "https://x.test/"}}));
  ASSERT_TRUE(r.date.has_value());
  EXPECT_EQ(r.date->time_since_epoch().count(), 784111777);
  EXPECT_EQ(r.body_excerpt, "body\\x01");
}

TEST(HttpParse, NotHttpAndTruncated) {
  EXPECT_EQ(parse_http_response("SSH-2.0-OpenSSH\r\n").status, HttpStatus::error);
  auto partial = parse_http_response("HTTP/1.1 200 OK\r\nServ");
  EXPECT_EQ(partial.code, 200);
  EXPECT_TRUE(partial.headers.empty());
  EXPECT_EQ(parse_http_response("").status, HttpStatus::not_attempted);
}

TEST(HttpDate, RejectsMalformed) {
  EXPECT_FALSE(parse_http_date("yesterday").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 32 Nov 1994 08:49:37 GMT").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 CET").has_value());
}

TEST(Printable, EscapesControlBytes) {
  EXPECT_EQ(printable_excerpt("a\r\nb\x7f", 100), "a\\r\\nb\\x7f");
  EXPECT_EQ(printable_excerpt("abcdef", 3), "abc");
}

TEST(AlpnWire, LengthPrefixed) {
  EXPECT_EQ(alpn_wire({"h2", "http/1.1"}), std::string("\x02h2\x08http/1.1"));
  EXPECT_EQ(alpn_wire({""}), "");
}

TEST(ContextKey, DistinguishesClientHelloSettings) {
  ProbeSpec a;
  a.profile.edit().ciphers = {"AES128-SHA"};
  ProbeSpec b = a;
  EXPECT_EQ(context_key(a), context_key(b));
  b.overrides.only_version = TlsVersion::tls1_2;
  EXPECT_NE(context_key(a), context_key(b));
  ProbeSpec c = a;
  c.profile.edit().ciphers = {"AES128", "SHA"};
  EXPECT_NE(context_key(a), context_key(c));
  ProbeSpec d = a;
  d.sni = "x.test"; // SNI is per connection, not per context
  EXPECT_EQ(context_key(a), context_key(d));
}

// A chain as a server sends it: the certificates of the PEM files, in order.
std::shared_ptr<STACK_OF(X509)> chain_of(const std::vector<std::filesystem::path>& files) {
  std::shared_ptr<STACK_OF(X509)> chain(sk_X509_new_null(),
                                        [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); });
  for (const auto& f : files) {
    FILE* fp = std::fopen(f.c_str(), "r");
    EXPECT_NE(fp, nullptr) << f;
    if (!fp)
      continue;
    while (X509* x = PEM_read_X509(fp, nullptr, nullptr, nullptr))
      sk_X509_push(chain.get(), x);
    std::fclose(fp);
    ERR_clear_error(); // the end of the file
  }
  return chain;
}

// A run's caches, the test CA's store, and two chains: leaf + intermediate, leaf alone.
class ChainVerdicts : public ::testing::Test {
protected:
  void SetUp() override {
    std::string error;
    store = cache.store(c.ca_file.string(), error);
    ASSERT_TRUE(store) << error;
    ASSERT_EQ(sk_X509_num(full.get()), 2);
  }
  const edgeshake::testing::CertCatalogue& c = edgeshake::testing::shared_catalogue();
  ContextCache cache;
  std::shared_ptr<X509_STORE> store;
  std::shared_ptr<STACK_OF(X509)> full = chain_of({c.leaf_ecdsa.cert, c.intermediate.cert});
  std::shared_ptr<STACK_OF(X509)> leaf_only = chain_of({c.leaf_ecdsa.cert});
  VerdictCache& verdicts = cache.verdicts();
};

// The verdict cache answers a repeated chain without verifying it again, but
// never across trust stores or across chains that differ in any certificate
// (the same leaf without its intermediate must still fail).
TEST_F(ChainVerdicts, SameChainVerifiedOnceOtherChainsNot) {
  auto expired = chain_of({c.expired.cert, c.intermediate.cert});

  const auto first = verify_chain(full.get(), store.get(), c.host, "ca", &verdicts);
  EXPECT_TRUE(first.chain_ok) << first.text;
  EXPECT_TRUE(first.hostname_ok);
  EXPECT_EQ(verdicts.hits(), 0u);
  // Same chain, another name: the chain verdict is reused, the name checked anew.
  const auto again = verify_chain(full.get(), store.get(), "other.invalid", "ca", &verdicts);
  EXPECT_EQ(verdicts.hits(), 1u);
  EXPECT_TRUE(again.chain_ok);
  EXPECT_FALSE(again.hostname_ok);
  EXPECT_EQ(again.host, "other.invalid");

  const auto partial = verify_chain(leaf_only.get(), store.get(), c.host, "ca", &verdicts);
  EXPECT_EQ(verdicts.hits(), 1u);
  EXPECT_FALSE(partial.chain_ok);
  EXPECT_EQ(partial.code, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) << partial.text;
  const auto old = verify_chain(expired.get(), store.get(), c.host, "ca", &verdicts);
  EXPECT_FALSE(old.chain_ok);
  EXPECT_EQ(old.code, X509_V_ERR_CERT_HAS_EXPIRED) << old.text;
  // Another trust store label: verified again.
  const auto other_store = verify_chain(full.get(), store.get(), c.host, "ca2", &verdicts);
  EXPECT_EQ(verdicts.hits(), 1u);
  EXPECT_TRUE(other_store.chain_ok);
  // Cached answers equal uncached ones.
  EXPECT_EQ(verify_chain(leaf_only.get(), store.get(), c.host, "ca", &verdicts),
            verify_chain(leaf_only.get(), store.get(), c.host, "ca", nullptr));
  EXPECT_EQ(verdicts.hits(), 2u);
}

// The facts cache answers a certificate it has described, by its SHA-256, with
// exactly what describing it again would give, and tells other certificates apart.
TEST_F(ChainVerdicts, CertificateFactsDescribedOnceOthersNot) {
  X509* leaf = sk_X509_value(full.get(), 0);
  X509* intermediate = sk_X509_value(full.get(), 1);
  const std::string leaf_digest = certificate_digest(leaf);
  ASSERT_EQ(leaf_digest.size(), 32u);
  EXPECT_NE(certificate_digest(intermediate), leaf_digest);

  CertFactsCache facts;
  const auto first = facts.describe(leaf, leaf_digest);
  EXPECT_EQ(facts.hits(), 0u);
  EXPECT_EQ(first, describe_certificate(leaf));
  EXPECT_EQ(facts.describe(leaf, leaf_digest), first);
  EXPECT_EQ(facts.hits(), 1u);
  const auto other = facts.describe(intermediate, certificate_digest(intermediate));
  EXPECT_EQ(facts.hits(), 1u);
  EXPECT_EQ(other, describe_certificate(intermediate));
  EXPECT_NE(other.sha256, first.sha256);
  // No digest: described, never cached.
  EXPECT_EQ(facts.describe(leaf, ""), first);
  EXPECT_EQ(facts.describe(leaf, ""), first);
  EXPECT_EQ(facts.hits(), 1u);
}

// Digests handed in by the caller give the same verdicts as digests computed
// here; digests for another chain (wrong count) are not used.
TEST_F(ChainVerdicts, CallerDigestsGiveTheSameVerdicts) {
  const std::vector<std::string> digests = {certificate_digest(sk_X509_value(full.get(), 0)),
                                            certificate_digest(sk_X509_value(full.get(), 1))};
  const auto first = verify_chain(full.get(), store.get(), c.host, "ca", &verdicts, &digests);
  EXPECT_TRUE(first.chain_ok) << first.text;
  EXPECT_EQ(verify_chain(full.get(), store.get(), c.host, "ca", &verdicts), first);
  EXPECT_EQ(verdicts.hits(), 1u);
  // Two digests for a one-certificate chain: ignored, so no false hit.
  const auto partial =
      verify_chain(leaf_only.get(), store.get(), c.host, "ca", &verdicts, &digests);
  EXPECT_EQ(verdicts.hits(), 1u);
  EXPECT_FALSE(partial.chain_ok);
}

} // namespace
} // namespace edgeshake::handshake::detail
