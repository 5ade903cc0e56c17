// `edgeshake scan --targets FILE|-`: diagnose many sites concurrently on one
// event loop, one JSON Lines object per site as each finishes, a summary at
// the end. Formats, interruption and exit codes: docs/fleet.md.
#include "cmd/command.hpp"
#include "cmd/diagnose.hpp"
#include "cmd/fleet.hpp"
#include "cmd/output.hpp"
#include "cmd/report_diagnose.hpp"
#include "common/text.hpp"
#include "handshake/handshake.hpp"
#include "profiles/profiles.hpp"
#include "resolve/resolve.hpp"

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>

#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <fmt/core.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>

namespace edgeshake::cmd {

namespace {

using nlohmann::json;

struct ScanArgs {
  std::string targets;
  std::string cdn = "auto";
  std::vector<std::string> variants;
  std::string mode = "all";
  int concurrency = 64;
  int per_address = 16;
  std::vector<std::string> resolvers;
  std::string trust_store;
  std::string timeout = "10s";
  std::string deadline; // the whole scan; "" = none
  bool no_edge = false;
  bool json_lines = false;
  std::string resume;
  bool no_progress = false;
};

// --targets and --resume: a regular file (or "-", stdin) of at most
// k_max_list_bytes (docs/fleet.md); a FIFO, a directory or a device is an
// input error (exit 2) instead of a hang or an "internal error".
constexpr std::size_t k_max_list_bytes = 256u << 20; // 256 MiB

Result<std::string> read_all(const std::string& path, const std::string& flag) {
  std::istream* in = &std::cin;
  std::ifstream file;
  if (path != "-") {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(st))
      return fail(ErrorCode::io, "cannot read " + path, flag);
    if (!std::filesystem::is_regular_file(st))
      return fail(ErrorCode::io, path + " is not a regular file", flag);
    file.open(path, std::ios::binary);
    if (!file)
      return fail(ErrorCode::io, "cannot read " + path, flag);
    in = &file;
  }
  std::string out;
  char buf[65536];
  while (*in) {
    in->read(buf, sizeof buf);
    out.append(buf, static_cast<std::size_t>(in->gcount()));
    if (out.size() > k_max_list_bytes)
      return fail(ErrorCode::input,
                  fmt::format("larger than {} MiB (split the list)", k_max_list_bytes >> 20), flag);
  }
  if (in->bad())
    return fail(ErrorCode::io, "cannot read " + path, flag);
  return out;
}

std::string_view kind_of(ErrorCode c) {
  switch (c) {
  case ErrorCode::usage:
    return "usage";
  case ErrorCode::input:
    return "input";
  case ErrorCode::profile:
    return "profile";
  case ErrorCode::io:
    return "io";
  case ErrorCode::runtime:
    return "runtime";
  }
  return "error";
}

// The "scan" member of a site's record: which line of the target list it is.
json scan_member(const ScanTarget& t) {
  json scan(json::value_t::object);
  scan["line"] = t.line;
  scan["host"] = t.host;
  scan["origin"] = t.origin;
  scan["key"] = t.key();
  return scan;
}

// One record of --json-lines output on stdout.
std::string json_line(const json& j) {
  return json_text(j, -1) + '\n';
}

long peak_rss_kib() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0)
    return 0;
  return u.ru_maxrss; // KiB on Linux
}

// The scheduler: sites in flight share one connection budget (global and per
// address) through RunLimits::shared, and no more sites are in flight than it
// takes to keep that budget busy (max_sites_in_flight).
class Scan : public std::enable_shared_from_this<Scan> {
public:
  Scan(asio::io_context& io, resolve::Resolver& resolver, const ScanArgs& args,
       DiagnoseOptions base, std::vector<ScanTarget> targets, ScanSummary& summary)
      : m_io(io), m_resolver(resolver), m_args(args), m_base(std::move(base)),
        m_pending(targets.begin(), targets.end()), m_summary(summary), m_signals(io),
        m_progress(io), m_grace(io), m_deadline(io) {
    m_limits.max_in_flight = std::max(1, args.concurrency);
    m_limits.max_per_address = std::max(1, args.per_address);
    m_limits.shared =
        handshake::make_shared_budget(m_limits.max_in_flight, m_limits.max_per_address);
    m_max_sites = max_sites_in_flight(m_limits.max_in_flight, m_limits.max_per_address);
    m_show_progress = !args.no_progress && isatty(STDERR_FILENO);
  }

  void start(std::optional<std::chrono::milliseconds> deadline) {
    m_started = std::chrono::steady_clock::now();
    m_signals.add(SIGINT);
    m_signals.add(SIGTERM);
    wait_signal();
    if (deadline) {
      m_deadline_budget = *deadline;
      m_deadline.expires_after(*deadline);
      auto self = shared_from_this();
      m_deadline.async_wait([self](std::error_code ec) {
        if (!ec && !self->m_done)
          self->deadline_reached();
      });
    }
    if (m_show_progress)
      tick();
    pump();
    maybe_done();
  }

private:
  void wait_signal() {
    auto self = shared_from_this();
    m_signals.async_wait([self](std::error_code ec, int) {
      if (ec)
        return;
      if (!self->m_summary.interrupted) {
        // First: start nothing new; in-flight sites finish (each bounded by --timeout).
        self->m_summary.interrupted = true;
        self->m_pending.clear();
        if (self->m_in_flight > 0) {
          print_err("\nscan: interrupted; waiting up to {} ms for {} site(s) in flight "
                    "(interrupt again to abandon them now)\n",
                    self->m_base.timeout.count(), self->m_in_flight);
          // Grace: one probe timeout, then the sites still in flight are abandoned.
          self->m_grace.expires_after(self->m_base.timeout);
          self->m_grace.async_wait([self](std::error_code e) {
            if (!e && !self->m_done)
              self->abandon();
          });
        }
        self->wait_signal();
        self->maybe_done();
      } else {
        self->abandon(); // second: abandon in-flight sites now
      }
    });
  }

  void abandon() {
    m_abandoned = true;
    m_io.stop();
  }

  // --deadline: start nothing more; every site not finished yet is marked (in
  // flight or not started), then the sites in flight are abandoned.
  void deadline_reached() {
    m_summary.deadline_reached = true;
    const std::size_t in_flight = m_running.size();
    const std::size_t not_started = m_pending.size();
    const std::size_t total = m_summary.finished + in_flight + not_started;
    std::vector<std::string> names;
    for (const auto& [line, t] : m_running)
      names.push_back(fmt::format("line {} {}", line, t.key()));
    for (const auto& t : m_pending)
      names.push_back(fmt::format("line {} {}", t.line, t.key()));
    if (m_show_progress)
      print_err("\r\033[K");
    print_err(
        "scan: {}\n",
        deadline_error(m_deadline_budget,
                       fmt::format("({} in flight, {} not started): {}", in_flight, not_started,
                                   unfinished_text(in_flight + not_started, total, "sites", names)))
            .to_string());
    for (const auto& [line, t] : m_running)
      write_unfinished(t, "in_flight");
    for (const auto& t : m_pending)
      write_unfinished(t, "not_started");
    m_summary.unfinished = in_flight + not_started;
    m_pending.clear();
    m_running.clear();
    if (m_in_flight > 0 || m_output_error) {
      abandon();
      return;
    }
    maybe_done();
  }

  void write_unfinished(const ScanTarget& t, std::string_view state) {
    const std::string message = fmt::format("deadline of {} reached before this site finished ({})",
                                            duration_text(m_deadline_budget),
                                            state == "in_flight" ? "in flight" : "not started");
    if (m_args.json_lines) {
      json j = {{"schema_version", 1},
                {"command", "diagnose"},
                {"host", t.host},
                {"ok", false},
                {"exit_code", k_exit_incomplete},
                // An error at --deadline (docs/scan.schema.json error_site); --resume retries it.
                {"error", {{"kind", "runtime"}, {"message", message}, {"where", "--deadline"}}},
                {"scan", scan_member(t)}};
      emit(json_line(j));
    } else {
      emit(fmt::format("{}\t{}\tdeadline_exceeded: {}\n", t.line, terminal_safe(t.key()), message));
    }
  }

  // Writes one site's record with one write(2) (docs/fleet.md: concurrent
  // appenders do not interleave inside a line). After a failed write nothing
  // more is written: the scan stops, and the summary says how many records
  // were written.
  bool emit(const std::string& record) {
    if (m_output_error)
      return false;
    try {
      write_stdout_record(record);
      ++m_written;
      return true;
    } catch (const StdoutError& e) {
      m_output_error = e.error();
      m_pending.clear();
      abandon();
      return false;
    }
  }

  void tick() {
    auto self = shared_from_this();
    m_progress.expires_after(std::chrono::milliseconds(500));
    m_progress.async_wait([self](std::error_code ec) {
      if (ec || self->m_done)
        return;
      self->print_progress();
      self->tick();
    });
  }

  void print_progress() {
    const double secs = seconds();
    const double rate = secs > 0 ? static_cast<double>(m_summary.finished) / secs : 0.0;
    const std::size_t left = m_pending.size() + static_cast<std::size_t>(m_in_flight);
    std::string eta = rate > 0 ? fmt::format("{:.0f}s", static_cast<double>(left) / rate) : "?";
    print_err("\r\033[K[{}/{}] {:.1f} sites/s, ETA {}, {} in flight, {} would fail",
              m_summary.finished, m_summary.total - m_summary.skipped, rate, eta, m_in_flight,
              m_summary.failing);
  }

  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
  }

  void pump() {
    while (!m_pending.empty() && m_in_flight < m_max_sites) {
      ScanTarget t = std::move(m_pending.front());
      m_pending.pop_front();
      launch(std::move(t));
    }
  }

  void launch(ScanTarget t) {
    ++m_in_flight;
    m_running.emplace(t.line, t);
    DiagnoseOptions o = m_base;
    o.host = t.host;
    if (!t.origin.empty()) {
      o.origins = {t.origin};
      o.no_edge = true; // HOST ORIGIN: check the origin before (or behind) the switch
    }
    auto self = shared_from_this();
    start_diagnose(
        m_io, m_resolver, std::move(o), m_limits,
        [self, t = std::move(t)](Result<DiagnoseReport> r) { self->finished(t, std::move(r)); });
  }

  void finished(const ScanTarget& t, Result<DiagnoseReport> r) {
    --m_in_flight;
    if (m_running.erase(t.line) == 0)
      return; // already reported as unfinished (--deadline)
    json j;
    if (r) {
      j = diagnose_to_json(*r, false);
    } else {
      j = {{"schema_version", 1},
           {"command", "diagnose"},
           {"host", t.host},
           {"ok", false},
           {"exit_code", exit_code_for(r.error().code)},
           {"error",
            {{"kind", kind_of(r.error().code)},
             {"message", r.error().message},
             {"where", r.error().where}}}};
    }
    j["scan"] = scan_member(t);
    std::string record;
    if (m_args.json_lines) {
      record = json_line(j);
    } else {
      std::string what;
      if (j.contains("error")) {
        what = "not diagnosed: " + j["error"]["message"].get<std::string>();
      } else {
        what = !j["ok"].get<bool>()                  ? "would fail:"
               : j["exit_code"] == k_exit_incomplete ? "untested:"
                                                     : "ok";
        for (const auto& f : j["findings"]) {
          if (f["severity"] != "info")
            what += " " + f["id"].get<std::string>();
        }
      }
      record = fmt::format("{}\t{}\t{}\n", t.line, terminal_safe(t.key()), terminal_safe(what));
    }
    if (!emit(record))
      return; // stdout failed: the site is not counted, the scan stops
    m_summary.add(j);
    pump();
    maybe_done();
  }

  void maybe_done() {
    if (m_done || !m_pending.empty() || m_in_flight > 0)
      return;
    m_done = true;
    m_signals.cancel();
    m_progress.cancel();
    m_grace.cancel();
    m_deadline.cancel();
  }

public:
  bool abandoned() const { return m_abandoned; }
  int output_error() const { return m_output_error; }
  std::size_t written() const { return m_written; }
  void finish_summary() {
    m_summary.seconds = seconds();
    m_summary.peak_rss_kib = peak_rss_kib();
    if (m_show_progress)
      print_err("\r\033[K");
    if (m_abandoned)
      print_err("scan: abandoned {} site(s) in flight\n", m_in_flight);
  }

private:
  asio::io_context& m_io;
  resolve::Resolver& m_resolver;
  const ScanArgs& m_args;
  DiagnoseOptions m_base;
  std::deque<ScanTarget> m_pending;
  ScanSummary& m_summary;
  asio::signal_set m_signals;
  asio::steady_timer m_progress;
  asio::steady_timer m_grace;
  asio::steady_timer m_deadline;
  std::chrono::milliseconds m_deadline_budget{0};
  std::map<std::size_t, ScanTarget> m_running; // in flight, by line
  handshake::RunLimits m_limits;
  int m_max_sites = 1;
  int m_in_flight = 0;
  bool m_done = false;
  bool m_abandoned = false;
  int m_output_error = 0;    // errno of the failed stdout write, 0: none
  std::size_t m_written = 0; // records written to stdout
  bool m_show_progress = false;
  std::chrono::steady_clock::time_point m_started;
};

int run_scan(const ScanArgs& a) {
  if (a.concurrency < 1 || a.concurrency > 100000)
    return report_error(Error(ErrorCode::usage, "must be 1-100000", "--concurrency"));
  if (a.per_address < 1)
    return report_error(Error(ErrorCode::usage, "must be at least 1", "--per-address"));
  auto timeout = parse_timeout(a.timeout);
  if (!timeout)
    return report_error(timeout.error());
  auto deadline = parse_deadline(a.deadline, std::nullopt);
  if (!deadline)
    return report_error(deadline.error());
  auto text = read_all(a.targets, "--targets");
  if (!text)
    return report_error(text.error());
  auto targets = parse_target_list(*text, a.targets == "-" ? "<stdin>" : a.targets);
  if (!targets)
    return report_error(targets.error());

  ScanSummary summary;
  summary.total = targets->size();
  if (!a.resume.empty()) {
    auto earlier = read_all(a.resume, "--resume");
    if (!earlier)
      return report_error(earlier.error());
    std::size_t ignored = 0;
    auto done = finished_keys(*earlier, &ignored);
    if (ignored > 0)
      print_err("scan: {}: ignored {} incomplete line(s)\n", a.resume, ignored);
    std::vector<ScanTarget> left;
    for (auto& t : *targets) {
      if (done.count(t.key()))
        ++summary.skipped;
      else
        left.push_back(std::move(t));
    }
    *targets = std::move(left);
  }

  DiagnoseOptions base;
  base.cdn = a.cdn;
  base.variants = a.variants;
  base.mode = a.mode;
  base.resolvers = a.resolvers;
  base.trust_store = a.trust_store;
  base.no_edge = a.no_edge;
  base.timeout = *timeout;
  // No deadline per site: a site's probes can wait for connection slots that
  // other sites hold, so its own clock would not measure its own slowness.
  // --deadline bounds the whole list.
  base.deadline = std::nullopt;
  // Check the shared options once, not once per site.
  if (a.cdn != "auto") {
    if (auto p = find_profile(a.cdn, a.variants); !p)
      return report_error(p.error());
  } else {
    for (const auto& v : a.variants)
      if (auto choice = profiles::parse_variant_choice(v); !choice)
        return report_error(choice.error());
  }
  if (!a.trust_store.empty()) // once, before any traffic (docs/guarantees.md)
    if (auto ok = handshake::preload_trust_store(a.trust_store); !ok)
      return report_error(ok.error());
  auto ropts = resolver_options(base);
  ropts.max_in_flight = static_cast<std::size_t>(std::clamp(a.concurrency, 16, 256));
  asio::io_context io;
  auto resolver = resolve::Resolver::create(io, ropts); // checks ropts first
  if (!resolver)
    return report_error(resolver.error());
  auto scan = std::make_shared<Scan>(io, **resolver, a, base, std::move(*targets), summary);
  scan->start(*deadline);
  io.run();
  scan->finish_summary();
  int code = scan_exit_code(summary);
  if (scan->output_error()) {
    // The summary counts only what reached stdout; EPIPE (a reader that went
    // away) ends quietly, any other write error is one line. Exit 3.
    if (scan->output_error() == EPIPE)
      std::_Exit(k_exit_incomplete);
    code = k_exit_incomplete;
    print_err("edgeshake: stdout: write error: {} ({} records written; the rest of the scan "
              "was abandoned)\n",
              std::strerror(scan->output_error()), scan->written());
  }
  print_err("{}", summary_text(summary));
  if (scan->abandoned()) {
    // Sites abandoned mid-handshake still hold suspended coroutines and OpenSSL
    // objects that only the loop could unwind; the process ends here instead of
    // destroying them piecemeal (what was finished is already written out).
    std::fflush(stderr);
    std::_Exit(code);
  }
  return code;
}

} // namespace

void add_scan_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<ScanArgs>();
  auto* sub = app.add_subcommand(
      "scan", "Diagnose many sites concurrently from a target list (docs/fleet.md)");
  sub->add_option("--targets", args->targets,
                  "File with one 'HOST [ORIGIN]' per line ('-' for stdin)")
      ->required();
  sub->add_option("--cdn", args->cdn, "auto (detect), a profile name, or a profile file")
      ->capture_default_str();
  add_variant_option(*sub, args->variants);
  sub->add_option("--mode", args->mode, "SSL mode to predict, or all")->capture_default_str();
  sub->add_option("--concurrency", args->concurrency,
                  "Connections in flight at most, over the whole scan (sites are started as they "
                  "are needed to fill it)")
      ->capture_default_str();
  sub->add_option("--per-address", args->per_address,
                  "Connections in flight at most per origin address")
      ->capture_default_str();
  sub->add_option("--resolver", args->resolvers, "DNS server IP[:PORT] (repeatable)");
  sub->add_option("--trust-store", args->trust_store, "PEM file of CAs replacing the CDN's");
  sub->add_option("--timeout", args->timeout, "Per-probe timeout (e.g. 5s, 500ms)")
      ->capture_default_str();
  sub->add_option(
      "--deadline", args->deadline,
      "Bound on the whole scan (e.g. 10m, default: none): then unfinished sites are marked "
      "(error at --deadline) and the exit code is 3");
  sub->add_flag("--no-edge", args->no_edge,
                "Do not resolve or probe edges (sites without ORIGIN are then their own origin)");
  sub->add_flag("--json-lines", args->json_lines,
                "One diagnose JSON object per site on stdout (docs/fleet.md)");
  sub->add_option("--resume", args->resume,
                  "Skip sites already present in this earlier --json-lines output");
  sub->add_flag("--no-progress", args->no_progress, "No progress line on stderr");
  sub->callback([&run, args] { run = [args] { return run_scan(*args); }; });
}

} // namespace edgeshake::cmd
