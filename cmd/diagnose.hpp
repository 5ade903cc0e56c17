// `edgeshake diagnose`: resolve -> probe -> compare, on one event loop.
#pragma once

#include "common/result.hpp"
#include "compare/compare.hpp"
#include "resolve/resolve.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace asio {
class io_context;
}

namespace edgeshake::cmd {

struct DiagnoseOptions {
  std::string host;                  // HOST (name or IP)
  std::vector<std::string> origins;  // --origin (repeatable)
  std::optional<std::string> edge;   // --edge IP[:PORT]
  bool no_edge = false;              // --no-edge: do not resolve or probe the edge
  std::string cdn = "auto";          // --cdn auto|NAME|FILE
  std::vector<std::string> variants; // --variant NAME=VALUE: provider options of that profile
  std::string mode = "all";          // --mode NAME|all
  std::optional<std::uint16_t> port; // --port (origin and edge default port)
  std::optional<std::string> sni;    // --sni (model an SNI override)
  std::vector<std::string> resolvers;
  std::string trust_store;
  std::string client_cert;
  std::string client_key;
  std::chrono::milliseconds timeout{10000};
  // --capabilities: enumerate what a failing origin accepts also when the first
  // batch explained the failure (no common suite, group or version).
  bool capabilities = false;
  // The whole run (DNS, probes, the second phase): when it fires, nothing new
  // starts and on_done gets deadline_error() naming the stage and what was
  // unfinished (cmd/command.hpp). nullopt: no deadline. Work still in flight
  // then is left to the caller's loop (see run_diagnose).
  std::optional<std::chrono::milliseconds> deadline;
};

struct DiagnoseReport {
  std::string host;
  std::optional<resolve::ResolveResult> host_resolution;
  std::optional<resolve::CdnMatch> cdn_match; // what detection found
  std::string cdn_note;                       // how the CDN profile was chosen
  profiles::Profile cdn;
  profiles::Profile browser;
  std::vector<std::string> modes; // selected mode names
  std::optional<Endpoint> edge;
  std::vector<resolve::TargetsResult> origin_resolutions;
  std::vector<compare::OriginTarget> origins;
  std::vector<handshake::ProbeResult> probes;
  std::vector<compare::OriginCapabilities> capabilities; // second phase, when needed
  compare::Diagnosis diagnosis;
  std::chrono::milliseconds elapsed{0};
};

// Async: resolves, probes and compares on `io`, sharing `resolver` with other
// runs (scan); `on_done` is called exactly once, on the loop. Input errors are
// reported through on_done too (never thrown).
void start_diagnose(asio::io_context& io, resolve::Resolver& resolver, DiagnoseOptions options,
                    handshake::RunLimits limits,
                    std::function<void(Result<DiagnoseReport>)> on_done);

// The resolver settings a run asks for (--resolver, --timeout).
resolve::ResolverOptions resolver_options(const DiagnoseOptions& options);

// Sync: own loop and resolver; `render` prints the result and returns the
// exit code, which run_diagnose returns. When the deadline fired with work in
// flight, the process ends right after `render` (exit_abandoning).
int run_diagnose(const DiagnoseOptions& options,
                 const std::function<int(const Result<DiagnoseReport>&)>& render);

} // namespace edgeshake::cmd
