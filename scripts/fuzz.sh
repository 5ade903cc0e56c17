#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang in build-fuzz/ and runs each for
# a bounded time on a scratch copy of its committed seed corpus, printing the
# executions per target. Any crash fails the script (exit 1) and leaves the
# reproducer in build-fuzz/artifacts/<target>/.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
# Env: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (default 2).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-2}
all_targets=(fuzz_server_response fuzz_profile fuzz_cdn_database fuzz_host_port fuzz_scan_targets
  fuzz_dns_answer)
targets=("${@:-${all_targets[@]}}")
if [[ $# -eq 0 ]]; then targets=("${all_targets[@]}"); fi

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/install-deps.sh --with-fuzz)" >&2; exit 2; }

# Asio 1.22 does not detect coroutine support for clang 14 + libstdc++ 12; it works.
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGESHAKE_FUZZ=ON -DEDGESHAKE_BUILD_TESTS=OFF \
  -DEDGESHAKE_SANITIZE="fuzzer-no-link;address;undefined" \
  -DCMAKE_CXX_FLAGS="-DASIO_HAS_CO_AWAIT=1 -DASIO_HAS_STD_COROUTINE=1" >/dev/null
cmake --build "$build" --target "${targets[@]}" -j"$jobs"

status=0
summary=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  cp "$root/fuzz/corpus/$t/"* "$corpus/"
  log="$build/$t.log"
  echo "fuzz.sh: $t for ${seconds}s" >&2
  set +e
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$root/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if [[ $rc -ne 0 ]]; then
    status=1
    summary+=("$t: FAILED (exit $rc) after ${execs:-?} executions; see $log and $artifacts/")
    tail -40 "$log" >&2
  else
    summary+=("$t: ${execs:-?} executions in ${seconds}s (${rate:-?}/s), coverage ${cov:-?} edges")
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
