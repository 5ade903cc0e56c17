#!/usr/bin/env bash
# Benchmark of `edgeshake diagnose` (issue 4): wall time, TCP connections and
# peak memory of a full diagnosis of one failing origin, directly on loopback
# and through bench/latency_proxy at 50 ms round-trip time. Loopback only.
#
#   bench/diagnose.sh [RUNS]          (default 5 runs per row; prints a Markdown table)
#   EDGESHAKE=/path/to/edgeshake bench/diagnose.sh   (another build, e.g. an older
#                                     commit's, for a before/after table in one run)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
"$root/scripts/install-deps.sh" --with-peers >/dev/null
cmake -S "$root" -B "$root/build" >/dev/null
if [[ -n ${EDGESHAKE:-} ]]; then
  cmake --build "$root/build" --target latency_proxy -j"$(nproc)" >/dev/null
  es=$EDGESHAKE
else
  cmake --build "$root/build" --target edgeshake latency_proxy -j"$(nproc)" >/dev/null
  es=$root/build/cmd/edgeshake
fi
proxy_bin=$root/build/bench/latency_proxy
lab=$root/examples/lab.sh
tmp=$(mktemp -d)
proxy_pid=""
cleanup() {
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null || true
  "$lab" stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
LAB_DIR=$tmp/lab "$lab" start >/dev/null
export LAB_DIR=$tmp/lab
ca=$tmp/lab/certs/ca.crt

# start_proxy UPSTREAM ONE_WAY_MS -> sets proxy_port, proxy_pid; counts into $tmp/count
start_proxy() {
  rm -f "$tmp/count"
  "$proxy_bin" --listen 127.0.0.1:0 --upstream "$1" --delay-ms "$2" --connect-rtt \
    --count-file "$tmp/count" >"$tmp/proxy.out" 2>&1 &
  proxy_pid=$!
  for _ in $(seq 100); do
    proxy_port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$tmp/proxy.out")
    [[ -n $proxy_port ]] && return
    sleep 0.05
  done
  echo "latency_proxy did not start" >&2
  exit 3
}
stop_proxy() { kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=""; }

row() { # label scenario upstream one_way_ms
  local label=$1 scenario=$2 upstream=$3 delay=$4
  start_proxy "$upstream" "$delay"
  local best=999999 worst=0 total=0 rss=0 conns=0 verdict=""
  for i in $(seq "$runs"); do
    local before=$(cat "$tmp/count" 2>/dev/null || echo 0)
    local t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$tmp/rss" "$es" diagnose "$scenario.lab.test" \
      --origin "127.0.0.1:$proxy_port" --no-edge --cdn cloudflare --trust-store "$ca" \
      --timeout 5s --json >"$tmp/out.json" || true
    local t1=$(date +%s%N)
    local ms=$(((t1 - t0) / 1000000))
    local after=$(cat "$tmp/count" 2>/dev/null || echo 0)
    conns=$((after - before))
    ((ms < best)) && best=$ms
    ((ms > worst)) && worst=$ms
    total=$((total + ms))
    local r=$(tail -n 1 "$tmp/rss")
    ((r > rss)) && rss=$r
  done
  verdict=$(grep -o '"cause": *"[a-z_0-9]*"' "$tmp/out.json" | sort -u | sed 's/.*"\([a-z_0-9]*\)"$/\1/' | grep -v "^none$" | head -1 || true)
  stop_proxy
  printf '| %s | %s | %d | %d | %d | %d | %d | %s |\n' "$label" "$scenario" $((2 * delay)) \
    "$best" $((total / runs)) "$conns" "$rss" "${verdict:-none}"
}

echo "| run | origin | RTT (ms) | best (ms) | mean (ms) | connections | peak RSS (KiB) | cause |"
echo "|---|---|---|---|---|---|---|---|"
row "direct" chacha 127.77.1.7:8443 0
row "direct" expired 127.77.1.2:8443 0
row "direct" good 127.77.1.1:8443 0
row "50 ms RTT" chacha 127.77.1.7:8443 25
row "50 ms RTT" expired 127.77.1.2:8443 25
row "50 ms RTT" good 127.77.1.1:8443 25
