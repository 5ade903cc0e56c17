#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test.
#   scripts/test.sh          the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#                            (Debug build in build-test/): what CI runs
#   scripts/test.sh --plain  the same suite against the optimised build in build/
set -euo pipefail
cd "$(dirname "$0")/.."
"$PWD/scripts/install-deps.sh"

build=build-test
extra=(-DCMAKE_BUILD_TYPE=Debug "-DEDGESHAKE_SANITIZE=address;undefined" -DEDGESHAKE_BUILD_TESTS=ON)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [[ "${1:-}" == "--plain" ]]; then
  build=build
  extra=(-DEDGESHAKE_BUILD_TESTS=ON)
fi
jobs=$(nproc)
cmake -S . -B "$build" "${extra[@]}" >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
