// The optional HTTP/1.1 request after the handshake: the request text and a
// bounded parser for the response head (status line, a few headers, a body
// excerpt). Pure functions, tested without a network.
#include "handshake/detail.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace edgeshake::handshake::detail {

namespace {

constexpr std::array<std::string_view, 8> k_kept_headers = {
    "server", "date", "cf-ray", "location", "content-type", "x-cache", "via", "content-length"};
constexpr std::size_t k_body_excerpt = 512;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string http_request(const std::string& host) {
  return "GET / HTTP/1.1\r\nHost: " + host +
         "\r\nUser-Agent: edgeshake\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

HttpResponse parse_http_response(std::string_view raw) {
  HttpResponse r;
  if (raw.empty())
    return r;
  auto head_end = raw.find("\r\n\r\n");
  std::string_view head = head_end == std::string_view::npos ? raw : raw.substr(0, head_end);
  auto eol = head.find("\r\n");
  std::string_view status_line = eol == std::string_view::npos ? head : head.substr(0, eol);
  r.status_line = printable_excerpt(status_line, 200);
  if (status_line.substr(0, 5) != "HTTP/") {
    r.status = HttpStatus::error;
    return r;
  }
  auto sp = status_line.find(' ');
  if (sp != std::string_view::npos && sp + 4 <= status_line.size()) {
    int code = 0;
    auto digits = status_line.substr(sp + 1, 3);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
    if (ec == std::errc() && p == digits.data() + digits.size())
      r.code = code;
  }
  r.status = r.code ? HttpStatus::ok : HttpStatus::error;
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  while (!rest.empty()) {
    auto e = rest.find("\r\n");
    std::string_view line = e == std::string_view::npos ? rest : rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    std::string name = lower(trim(line.substr(0, colon)));
    if (std::find(k_kept_headers.begin(), k_kept_headers.end(), name) == k_kept_headers.end())
      continue;
    if (r.headers.size() >= 16)
      break;
    std::string value = printable_excerpt(trim(line.substr(colon + 1)), 256);
    if (name == "date")
      r.date = parse_http_date(value);
    r.headers.emplace_back(std::move(name), std::move(value));
  }
  if (head_end != std::string_view::npos)
    r.body_excerpt = printable_excerpt(raw.substr(head_end + 4), k_body_excerpt);
  return r;
}

// IMF-fixdate (RFC 9110): "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<SysSeconds> parse_http_date(std::string_view text) {
  static constexpr std::array<std::string_view, 12> months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto comma = text.find(", ");
  if (comma == std::string_view::npos)
    return std::nullopt;
  std::string_view s = text.substr(comma + 2); // "06 Nov 1994 08:49:37 GMT"
  if (s.size() < 24 || s.substr(20, 4) != " GMT")
    return std::nullopt;
  auto num = [&s](std::size_t pos, std::size_t len, int& out) {
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc() && p == s.data() + pos + len;
  };
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  if (!num(0, 2, day) || !num(7, 4, year) || !num(12, 2, hh) || !num(15, 2, mm) || !num(18, 2, ss))
    return std::nullopt;
  auto month = std::find(months.begin(), months.end(), s.substr(3, 3));
  if (month == months.end())
    return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year(year),
                     std::chrono::month(static_cast<unsigned>(month - months.begin() + 1)),
                     std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 60)
    return std::nullopt;
  return sys_days(ymd) + hours(hh) + minutes(mm) + seconds(ss);
}

} // namespace edgeshake::handshake::detail
