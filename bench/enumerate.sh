#!/usr/bin/env bash
# bench/enumerate.sh: edgeshake enumerate versus sslscan, testssl.sh and
# nmap --script ssl-enum-ciphers, side by side in one run against the same
# loopback nginx origins (a default-config one and a mismatch one), directly and
# at a simulated round-trip time through bench/latency_proxy.
#
#   sudo bench/enumerate.sh [BUILD_DIR] [RTT_MS]     (defaults: build, 50)
#
# Each of edgeshake, sslscan and nmap runs REPEAT times (default 3) and the run
# with the median wall time is reported; testssl.sh runs once (minutes per run).
# TOOLS="edgeshake sslscan" runs a subset (default: all four).
#
# Measures per run: wall time and peak RSS (/usr/bin/time -v), TCP connections
# (counted by latency_proxy, which every tool goes through; 0 ms delay for the
# direct runs) and cipher suites found (parsed from each tool's output).
# Needs: root (unshare -m), nginx, openssl, and the peers from
# scripts/install-deps.sh --with-peers (sslscan testssl.sh nmap time).
# Network: loopback only. The peers run in a private mount namespace where
# /etc/resolv.conf says "nameserver 127.0.0.1" and /etc/hosts maps origin.test to
# 127.0.0.1; the script refuses to run them if that cannot be set up.
set -euo pipefail

BUILD=${1:-build}
RTT=${2:-50}
EDGESHAKE=${EDGESHAKE:-$BUILD/cmd/edgeshake}
PROXY=${PROXY:-$BUILD/bench/latency_proxy}
HOST=origin.test

die() { echo "enumerate.sh: $*" >&2; exit 2; }
for p in nginx openssl sslscan testssl nmap unshare mount; do
  command -v "$p" >/dev/null || [[ -x /usr/sbin/$p ]] || die "missing $p (scripts/install-deps.sh --with-peers)"
done
[[ -x /usr/bin/time ]] || die "missing /usr/bin/time (package time)"
[[ -x $EDGESHAKE ]] || die "no $EDGESHAKE: build the edgeshake target"
[[ -x $PROXY ]] || die "no $PROXY: build the latency_proxy target"
[[ $(id -u) -eq 0 ]] || die "needs root for the private mount namespace (unshare -m)"

WORK=$(mktemp -d /tmp/edgeshake-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# --- DNS isolation for the peers
printf 'nameserver 127.0.0.1\n' >"$WORK/resolv.conf"
printf '127.0.0.1 localhost %s\n::1 localhost\n' "$HOST" >"$WORK/hosts"
isolated() {
  unshare -m -- sh -c 'mount --make-rprivate / 2>/dev/null; mount --bind "$1" /etc/resolv.conf &&
    mount --bind "$2" /etc/hosts && shift 2 && exec "$@"' sh "$WORK/resolv.conf" "$WORK/hosts" "$@"
}
isolated grep -qx 'nameserver 127.0.0.1' /etc/resolv.conf ||
  die "cannot set up the private resolv.conf; refusing to run the peers"

# --- origins
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/rsa.key" -out "$WORK/rsa.crt" \
  -subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" -days 2 2>/dev/null
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$WORK/dh.pem" 2>/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  die "nothing listening on $1"
}
start_nginx() { # name tls-directives; sets NGINX_PORT
  local name=$1 port; port=$(free_port)
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name/nginx.conf" <<CONF
daemon off; master_process off; pid $WORK/$name/nginx.pid; error_log $WORK/$name/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $WORK/$name; proxy_temp_path $WORK/$name; fastcgi_temp_path $WORK/$name;
  uwsgi_temp_path $WORK/$name; scgi_temp_path $WORK/$name;
  server {
    listen 127.0.0.1:$port ssl; server_name $HOST;
    ssl_certificate $WORK/rsa.crt; ssl_certificate_key $WORK/rsa.key;
    $2
    return 200 "ok\n";
  }
}
CONF
  nginx -p "$WORK/$name" -c "$WORK/$name/nginx.conf" >"$WORK/$name/stdout" 2>&1 &
  PIDS+=($!)
  NGINX_PID=$!
  wait_port "$port"
  NGINX_PORT=$port
}
# CPU time (ms) a process has used so far: the origin's work
# during a run is the difference (nginx runs as one process: master_process off).
# /proc/PID/schedstat's first field: nanoseconds on a CPU.
cpu_ms() { awk '{printf "%d", $1 / 1000000}' "/proc/$1/schedstat"; }
# Default config: nginx 1.22's own defaults (ssl_protocols TLSv1 TLSv1.1 TLSv1.2,
# ssl_ciphers HIGH:!aNULL:!MD5), RSA certificate.
start_nginx default ""
DEFAULT_PORT=$NGINX_PORT
DEFAULT_PID=$NGINX_PID
# Mismatch: the origin accepts only what a CDN's default profile does not offer first.
start_nginx mismatch "ssl_protocols TLSv1.2; ssl_prefer_server_ciphers on;
    ssl_ciphers DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305; ssl_dhparam $WORK/dh.pem;"
MISMATCH_PORT=$NGINX_PORT
MISMATCH_PID=$NGINX_PID

# --- one measured run
count_suites() { # tool outfile jsonfile
  case $1 in
  edgeshake) python3 -c 'import json,sys; print(sum(len(v["suites"]) for v in json.load(open(sys.argv[1]))["versions"]))' "$2" ;;
  sslscan) grep -cE '^(Preferred|Accepted) ' "$2" || true ;;
  testssl) python3 -c 'import json,sys,re
d=json.load(open(sys.argv[1]))
print(len({e["id"] for e in d if re.match(r"cipher-(tls|ssl)", e["id"]) and "_x" in e["id"]}))' "$3" ;;
  nmap) grep -cE '^\|\s+TLS_[A-Z0-9_]+ .*- [A-F]$' "$2" || true ;;
  esac
}
REPEAT=${REPEAT:-3}
run() { # tool origin-name origin-port rtt -> prints one table row (median of the repeats)
  local n=$REPEAT i
  [[ $1 == testssl ]] && n=1
  for ((i = 1; i <= n; i++)); do run_once "$@" "$i"; done |
    sort -t'|' -k5,5 -g | awk -v m=$(((n + 1) / 2)) 'NR == m'
}
run_once() { # tool origin-name origin-port rtt repeat
  local tool=$1 origin=$2 port=$3 rtt=$4 tag="$1-$2-$4ms-$5"
  local origin_pid=$DEFAULT_PID cpu0
  [[ $origin == mismatch ]] && origin_pid=$MISMATCH_PID
  local extra=() pport
  ((rtt > 0)) && extra=(--connect-rtt)
  "$PROXY" --listen 127.0.0.1:0 --upstream "127.0.0.1:$port" --delay-ms $((rtt / 2)) \
    --count-file "$WORK/$tag.count" "${extra[@]}" >"$WORK/$tag.proxy" 2>&1 &
  local proxy_pid=$!
  PIDS+=($proxy_pid)
  for _ in $(seq 100); do [[ -s $WORK/$tag.proxy ]] && break; sleep 0.02; done
  pport=$(awk '/^listening/ {print $2}' "$WORK/$tag.proxy")
  local cmd
  case $tool in
  edgeshake) cmd=("$EDGESHAKE" enumerate "$HOST:$pport" --connect 127.0.0.1 --json) ;;
  sslscan) cmd=(sslscan --no-colour "--sni-name=$HOST" --no-heartbleed --no-renegotiation
    --no-compression --no-fallback --no-check-certificate "127.0.0.1:$pport") ;;
  testssl) cmd=(testssl --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 -p -E -P -f
    --jsonfile "$WORK/$tag.json" "https://$HOST:$pport") ;;
  nmap) cmd=(nmap -n -Pn -p "$pport" --script ssl-enum-ciphers
    --script-args "tls.servername=$HOST" 127.0.0.1) ;;
  esac
  echo "${cmd[*]}" >"$WORK/$tag.cmd"
  cpu0=$(cpu_ms "$origin_pid")
  isolated /usr/bin/time -v -o "$WORK/$tag.time" "${cmd[@]}" >"$WORK/$tag.out" 2>&1 || true
  local origin_cpu=$(($(cpu_ms "$origin_pid") - cpu0))
  kill "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  local wall rss conns suites
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; printf "%.2f", s}' "$WORK/$tag.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$WORK/$tag.time")
  conns=$(cat "$WORK/$tag.count")
  suites=$(count_suites "$tool" "$WORK/$tag.out" "$WORK/$tag.json")
  printf '| %s | %s ms | %s | %s | %s | %s MiB | %s | %s |\n' "$origin" "$rtt" "$tool" "$wall" "$conns" "$rss" "$suites" "$origin_cpu"
}

echo "| origin | added RTT | tool | wall time (s) | TCP connections | peak RSS | suites found | origin CPU (ms) |"
echo "|---|---|---|---|---|---|---|---|"
for rtt in 0 "$RTT"; do
  for origin in default mismatch; do
    port=$DEFAULT_PORT
    [[ $origin == mismatch ]] && port=$MISMATCH_PORT
    for tool in ${TOOLS:-edgeshake sslscan nmap testssl}; do
      run "$tool" "$origin" "$port" "$rtt"
    done
  done
done
echo
echo "raw outputs: $WORK"
trap - EXIT
cleanup
