#!/usr/bin/env bash
# Installs everything edgeshake needs to build, test and run its example lab,
# from Debian 12's own packages. Idempotent: installs only what is missing.
# Usage: scripts/install-deps.sh [--with-peers] [--with-fuzz]
#   peers: sslscan, testssl.sh, nmap for bench/; fuzz: clang + libFuzzer for scripts/fuzz.sh
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git clang-format
  libssl-dev openssl libc-ares-dev libtomlplusplus-dev libfmt-dev
  libgtest-dev libgmock-dev libasio-dev libcli11-dev nlohmann-json3-dev libexpected-dev
  nginx-light dnsmasq-base iproute2 procps util-linux
  time jq
)
for arg in "$@"; do
  case "$arg" in
  --with-peers) pkgs+=(sslscan testssl.sh nmap hyperfine time) ;;
  --with-fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-deps: need root to install: ${missing[*]}" >&2; exit 2; fi
else SUDO=""; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The nginx package starts a system service on port 80; edgeshake never uses it.
if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
  $SUDO systemctl stop nginx || true
fi
