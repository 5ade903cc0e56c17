#!/usr/bin/env bash
# bench/scan.sh: `edgeshake scan` over >= 1,000 loopback sites at concurrency
# 1, 16, 64 and 256, against the ceiling (bench/handshake_ceiling: plain OpenSSL
# making the same 13 handshakes per site, same number in flight, same server, in
# one poll() loop and in as many threads) and against
# sslscan / testssl.sh driven by `xargs -P` over a subset of the same targets.
#
#   sudo bench/scan.sh [BUILD_DIR]          (default: build)
#
# Environment: SITES (default 1024), ADDRESSES (127.0.0.2 .. 127.0.0.(1+N),
# default 64), LEVELS ("1 16 64 256"), CEILING_SECONDS (5), SSLSCAN_SITES (32),
# TESTSSL_SITES (8), PEERS (1: run sslscan/testssl), REPEAT (1: measurements
# per level; with more, the row is the one with the median ratio to the
# one-loop ceiling, and the range of that ratio over all of them is shown).
#
# The origins: ONE nginx (one process) listening on ADDRESSES loopback
# addresses x 2 ports. Port GOOD serves a chain from the bench CA for
# *.bench.test; port BAD serves a self-signed certificate (untrusted: every
# fourth site is misconfigured and is reported as failing). The sites are
# "siteN.bench.test 127.0.0.X:PORT" (HOST ORIGIN lines, no DNS involved).
#
# Needs: root (unshare -m), nginx, openssl, /usr/bin/time, and for the peers
# sslscan and testssl (scripts/install-deps.sh --with-peers).
# Network: loopback only. The peers run in a private mount namespace where
# /etc/resolv.conf says "nameserver 127.0.0.1"; the script refuses to run them
# if that cannot be set up (the approach of bench/enumerate.sh).
set -euo pipefail

BUILD=${1:-build}
EDGESHAKE=${EDGESHAKE:-$BUILD/cmd/edgeshake}
CEILING=${CEILING:-$BUILD/bench/handshake_ceiling}
SITES=${SITES:-1024}
ADDRESSES=${ADDRESSES:-64}
LEVELS=${LEVELS:-"1 16 64 256"}
CEILING_SECONDS=${CEILING_SECONDS:-5}
SSLSCAN_SITES=${SSLSCAN_SITES:-32}
TESTSSL_SITES=${TESTSSL_SITES:-8}
PEERS=${PEERS:-1}
REPEAT=${REPEAT:-1}

die() { echo "scan.sh: $*" >&2; exit 2; }
for p in nginx openssl unshare mount python3; do
  command -v "$p" >/dev/null || [[ -x /usr/sbin/$p ]] || die "missing $p"
done
[[ -x /usr/bin/time ]] || die "missing /usr/bin/time (package time)"
[[ -x $EDGESHAKE ]] || die "no $EDGESHAKE: build the edgeshake target"
[[ -x $CEILING ]] || die "no $CEILING: build the handshake_ceiling target"
[[ $(id -u) -eq 0 ]] || die "needs root for the private mount namespace (unshare -m)"
((ADDRESSES >= 1 && ADDRESSES <= 250)) || die "ADDRESSES must be 1-250"
ulimit -n 65536 2>/dev/null || ulimit -n 8192

WORK=$(mktemp -d /tmp/edgeshake-scanbench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n ${KEEP:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

# --- DNS isolation for the peers (they may try to resolve names)
printf 'nameserver 127.0.0.1\n' >"$WORK/resolv.conf"
isolated() {
  unshare -m -- sh -c 'mount --make-rprivate / 2>/dev/null; mount --bind "$1" /etc/resolv.conf &&
    shift && exec "$@"' sh "$WORK/resolv.conf" "$@"
}
if [[ $PEERS == 1 ]]; then
  isolated grep -qx 'nameserver 127.0.0.1' /etc/resolv.conf ||
    die "cannot set up the private resolv.conf; refusing to run the peers"
fi

# --- certificates: a CA, a leaf for *.bench.test (P-256), a self-signed one
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
  -out ca.crt -subj "/CN=edgeshake bench CA" -days 2 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout leaf.key \
  -out leaf.csr -subj "/CN=*.bench.test" 2>/dev/null
printf 'subjectAltName=DNS:*.bench.test\n' >leaf.ext
openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
  -extfile leaf.ext -out leaf.crt 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout self.key \
  -out self.crt -subj "/CN=*.bench.test" -addext "subjectAltName=DNS:*.bench.test" -days 2 \
  2>/dev/null
cd - >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GOOD=$(free_port)
BAD=$(free_port)
[[ $GOOD != "$BAD" ]] || BAD=$(free_port)

# --- one nginx, ADDRESSES x 2 listening sockets
{
  echo "daemon off; master_process off; worker_rlimit_nofile 65536;"
  echo "pid $WORK/nginx.pid; error_log $WORK/error.log;"
  echo "events { worker_connections 8192; }"
  echo "http { access_log off;"
  echo "  client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK;"
  echo "  uwsgi_temp_path $WORK; scgi_temp_path $WORK;"
  echo "  ssl_protocols TLSv1.2 TLSv1.3;"
  echo "  server {"
  for i in $(seq 2 $((ADDRESSES + 1))); do echo "    listen 127.0.0.$i:$GOOD ssl;"; done
  echo "    ssl_certificate $WORK/leaf.crt; ssl_certificate_key $WORK/leaf.key;"
  echo "    return 200 \"ok\\n\"; }"
  echo "  server {"
  for i in $(seq 2 $((ADDRESSES + 1))); do echo "    listen 127.0.0.$i:$BAD ssl;"; done
  echo "    ssl_certificate $WORK/self.crt; ssl_certificate_key $WORK/self.key;"
  echo "    return 200 \"ok\\n\"; }"
  echo "}"
} >"$WORK/nginx.conf"
nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.stdout" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do
  (exec 3<>"/dev/tcp/127.0.0.2/$GOOD") 2>/dev/null && break
  sleep 0.05
done
(exec 3<>"/dev/tcp/127.0.0.$((ADDRESSES + 1))/$BAD") 2>/dev/null ||
  die "nginx did not come up: $(cat "$WORK/error.log" "$WORK/nginx.stdout")"

# --- the target list: every fourth site misconfigured
: >"$WORK/targets.txt"
for i in $(seq 0 $((SITES - 1))); do
  port=$GOOD
  ((i % 4 == 3)) && port=$BAD
  echo "site$i.bench.test 127.0.0.$((2 + i % ADDRESSES)):$port" >>"$WORK/targets.txt"
done
GOOD_ENDPOINTS=()
for i in $(seq 2 $((ADDRESSES + 1))); do GOOD_ENDPOINTS+=("127.0.0.$i:$GOOD"); done

binary=
[[ $EDGESHAKE == "$BUILD/cmd/edgeshake" ]] || binary=", edgeshake binary $EDGESHAKE"
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r), $SITES sites over $ADDRESSES addresses, commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')$binary"
echo
range_head=
((REPEAT > 1)) && range_head=" edgeshake / one loop, every run |"
echo "| concurrency | edgeshake sites/s | edgeshake handshakes/s | ceiling, one loop (handshakes/s) | edgeshake / one loop | ceiling, threads (handshakes/s) | edgeshake / threads | client CPU µs per handshake: edgeshake / one loop | peak RSS (KiB) | RSS per in-flight connection (KiB) | ok / failing / errors |$range_head"
if ((REPEAT > 1)); then
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
else
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
fi
# The ceiling makes the same 13 handshakes per site (--mix diagnose) with the same
# number of connections in flight (scan's --concurrency C is also its global
# connection budget): C connections in one thread driven by poll() (edgeshake's
# shape), and C threads (every core). This machine's speed drifts by tens of per
# cent from one minute to the next (shared vCPUs), so each ceiling is measured just
# before and just after the scan and the mean is used; the client CPU time per
# handshake (user + system, from /usr/bin/time) is steadier than any rate.
ceiling() { # mode-args... -> "rate cpu_us_per_handshake"
  /usr/bin/time -f '%U %S' -o "$WORK/ceil.time" "$CEILING" "$@" site0.bench.test "${GOOD_ENDPOINTS[@]}" >"$WORK/ceil.out"
  python3 - "$WORK/ceil.out" "$WORK/ceil.time" <<'PY'
import sys
f = open(sys.argv[1]).read().split()
n, rate = int(f[1]), float(f[7])
u, s = map(float, open(sys.argv[2]).read().split()[-2:])
print(f"{rate:.1f} {1e6 * (u + s) / max(n, 1):.0f}")
PY
}
measure() { # concurrency -> one table row, tab-separated ratio to the one-loop ceiling first
  local c=$1
  read -r loop_a cpu_a < <(ceiling --loop --mix diagnose "$c" "$CEILING_SECONDS")
  read -r thr_a _ < <(ceiling --mix diagnose "$c" "$CEILING_SECONDS")
  /usr/bin/time -f '%M %e %U %S' -o "$WORK/time.$c" \
    "$EDGESHAKE" scan --targets "$WORK/targets.txt" --cdn cloudflare --trust-store "$WORK/ca.crt" \
    --timeout 10s --json-lines --no-progress --concurrency "$c" --per-address "$c" \
    >"$WORK/out.$c.jsonl" 2>"$WORK/err.$c" || true
  read -r loop_b cpu_b < <(ceiling --loop --mix diagnose "$c" "$CEILING_SECONDS")
  read -r thr_b _ < <(ceiling --mix diagnose "$c" "$CEILING_SECONDS")
  read -r rss wall user sys < <(tail -n 1 "$WORK/time.$c")
  lines=$(wc -l <"$WORK/out.$c.jsonl")
  stats=$(python3 - "$WORK/out.$c.jsonl" "$wall" "$user" "$sys" <<'PY'
import json, sys
ok = fail = err = probes = 0
for line in open(sys.argv[1]):
    j = json.loads(line)
    probes += len(j.get("probes", []))
    if "error" in j: err += 1
    elif j["ok"]: ok += 1
    else: fail += 1
wall, cpu = float(sys.argv[2]), float(sys.argv[3]) + float(sys.argv[4])
print(f"{(ok+fail+err)/wall:.1f} {probes/wall:.1f} {ok}/{fail}/{err} {probes} {1e6 * cpu / max(probes, 1):.0f}")
PY
)
  read -r sites_s hs_s counts probes cpu_es <<<"$stats"
  read -r ceil_loop ceil cpu_loop < <(python3 -c "import sys; a=list(map(float,sys.argv[1:])); print(f'{(a[0]+a[1])/2:.1f} {(a[2]+a[3])/2:.1f} {(a[4]+a[5])/2:.0f}')" "$loop_a" "$loop_b" "$thr_a" "$thr_b" "$cpu_a" "$cpu_b")
  pct() { python3 -c "import sys; print('%.0f%%' % (100*float(sys.argv[1])/float(sys.argv[2])))" "$1" "$2"; }
  ratio_loop=$(pct "$hs_s" "$ceil_loop")
  ratio=$(pct "$hs_s" "$ceil")
  # (measure runs in a subshell: the first level's peak RSS is kept in a file)
  [[ -s $WORK/base_rss ]] || echo "$rss" >"$WORK/base_rss"
  per=$(python3 -c "import sys; c,r,b=map(int,sys.argv[1:]); print('-' if c<=1 else '%.1f' % ((r-b)/(c-1)))" "$c" "$rss" "$(cat "$WORK/base_rss")")
  printf '%s\t| %s | %s | %s | %s (%s, %s) | %s | %s (%s, %s) | %s | %s / %s | %s | %s | %s (%s lines, %s handshakes, %ss) |\n' \
    "${ratio_loop%\%}" "$c" "$sites_s" "$hs_s" "$ceil_loop" "$loop_a" "$loop_b" "$ratio_loop" \
    "$ceil" "$thr_a" "$thr_b" "$ratio" "$cpu_es" "$cpu_loop" "$rss" "$per" "$counts" "$lines" "$probes" "$wall"
}
for c in $LEVELS; do
  rows=()
  for ((r = 1; r <= REPEAT; r++)); do rows+=("$(measure "$c")"); done
  # The row with the median ratio to the one-loop ceiling, and the range of that ratio.
  printf '%s\n' "${rows[@]}" | sort -t$'\t' -k1,1n | awk -F'\t' -v n="$REPEAT" '
    { r[NR] = $1; row[NR] = $2 }
    END { m = int((n + 1) / 2); extra = n > 1 ? sprintf(" %d-%d%% over %d runs |", r[1], r[n], n) : "";
          print row[m] extra }'
done

if [[ $PEERS == 1 ]]; then
  echo
  echo "| peer (xargs -P) | sites | parallel | wall (s) | sites/s |"
  echo "|---|---:|---:|---:|---:|"
  head -n "$SSLSCAN_SITES" "$WORK/targets.txt" >"$WORK/sslscan.txt"
  if command -v sslscan >/dev/null; then
    start=$(date +%s.%N)
    isolated xargs -P 16 -L 1 sh -c 'sslscan --no-colour --sni-name="$0" "$1" >/dev/null 2>&1 || true' \
      <"$WORK/sslscan.txt"
    end=$(date +%s.%N)
    python3 -c "w=$end-$start; print(f'| sslscan (full enumeration) | $SSLSCAN_SITES | 16 | {w:.1f} | {$SSLSCAN_SITES/w:.2f} |')"
    start=$(date +%s.%N)
    isolated xargs -P 16 -L 1 sh -c 'sslscan --no-colour --no-ciphersuites --no-groups --no-heartbleed --no-renegotiation --no-compression --no-fallback --sni-name="$0" "$1" >/dev/null 2>&1 || true' \
      <"$WORK/sslscan.txt"
    end=$(date +%s.%N)
    python3 -c "w=$end-$start; print(f'| sslscan (certificate + protocols only) | $SSLSCAN_SITES | 16 | {w:.1f} | {$SSLSCAN_SITES/w:.2f} |')"
  fi
  if command -v testssl >/dev/null; then
    head -n "$TESTSSL_SITES" "$WORK/targets.txt" >"$WORK/testssl.txt"
    start=$(date +%s.%N)
    isolated xargs -P "$TESTSSL_SITES" -L 1 sh -c 'ip=${1%:*}; port=${1##*:};
      testssl --quiet --color 0 --warnings off --nodns none --ip "$ip" -S "https://$0:$port" >/dev/null 2>&1 || true' \
      <"$WORK/testssl.txt"
    end=$(date +%s.%N)
    python3 -c "w=$end-$start; print(f'| testssl.sh -S (server defaults) | $TESTSSL_SITES | $TESTSSL_SITES | {w:.1f} | {$TESTSSL_SITES/w:.2f} |')"
  fi
fi
