#!/usr/bin/env bash
# The README's main job: install what is missing, build edgeshake, start the
# loopback lab, diagnose one of its sites as Cloudflare would see it, stop the lab.
#
#   examples/demo.sh [SCENARIO] [extra diagnose flags...]
#   examples/demo.sh expired            (default)
#   examples/demo.sh chacha --json
#   examples/demo.sh tls13only --cdn cloudfront
#   examples/demo.sh all                every scenario, one verdict line each
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scenario=${1:-expired}
shift || true

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" >/dev/null
cmake --build "$root/build" --target edgeshake -j"$(nproc)" >/dev/null
es=$root/build/cmd/edgeshake

"$root/examples/lab.sh" start >/dev/null
trap '"$root/examples/lab.sh" stop >/dev/null' EXIT
ca=${LAB_DIR:-$root/examples/lab/run}/certs/ca.crt
# The lab edge's certificate comes from the lab CA: let the edge probe's
# "system" store be that CA (docs/cli.md, EDGESHAKE_SYSTEM_TRUST).
export EDGESHAKE_SYSTEM_TRUST=$ca
common=(--resolver 127.77.0.53 --port 8443 --trust-store "$ca")

diag() { # site, then extra flags
  local s=$1
  shift
  "$es" diagnose "$s.lab.test" --origin "origin-$s.lab.test:8443" "${common[@]}" "$@"
}

if [[ $scenario == all ]]; then
  for s in good expired wronghost selfsigned leafonly tls10 chacha p521 unknownsni mtls \
    plainhttp closed notyet tls13only ed25519; do
    echo "== $s"
    diag "$s" --no-color "$@" | sed -n '/^Verdict/,/^Findings/p' | grep -v -e '^Verdict' -e '^Findings' -e '^$' || true
  done
else
  echo "\$ edgeshake diagnose $scenario.lab.test --origin origin-$scenario.lab.test:8443 ${common[*]} $*"
  set +e
  diag "$scenario" "$@"
  rc=$?
  set -e
  echo "(exit code $rc)"
fi
