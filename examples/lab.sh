#!/usr/bin/env bash
# The example lab: a CDN-like edge and a dozen misconfigured origins, all on
# loopback (127.77.0.0/16), plus a dnsmasq zone that makes the sites look like
# they are behind Cloudflare (CNAME *.cdn.cloudflare.net -> the lab edge).
# Nothing leaves the machine: every address is loopback, dnsmasq has no upstream.
#
#   examples/lab.sh start     generate certificates, start nginx and dnsmasq
#   examples/lab.sh stop      stop both (by PID)
#   examples/lab.sh status    what runs, and the scenario table
#
# Needs root for dnsmasq on port 53 of 127.77.0.53 (use LAB_DNS_PORT to change).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
run=${LAB_DIR:-$here/lab/run}
dns_ip=127.77.0.53
dns_port=${LAB_DNS_PORT:-53}
edge_ip=127.77.0.10
port=8443

# scenario  origin-ip     what is wrong with it
scenarios=(
  "good        127.77.1.1   nothing: a healthy origin"
  "expired     127.77.1.2   certificate expired 12 days ago"
  "wronghost   127.77.1.3   certificate for another name"
  "selfsigned  127.77.1.4   self-signed certificate"
  "leafonly    127.77.1.5   chain file lacks the intermediate"
  "tls10       127.77.1.6   speaks only TLS 1.0"
  "chacha      127.77.1.7   TLS 1.2 with only ECDHE-RSA-CHACHA20-POLY1305"
  "p521        127.77.1.8   key exchange only on P-521 (fine for Cloudflare, which offers it)"
  "unknownsni  127.77.1.9   no server block for the site's name"
  "mtls        127.77.1.10  requires a client certificate (nginx: HTTP 400)"
  "plainhttp   127.77.1.11  plain HTTP on the TLS port"
  "closed      127.77.1.12  nothing listens"
  "notyet      127.77.1.13  certificate not valid until next week"
  "tls13only   127.77.1.14  speaks only TLS 1.3 (fine for Cloudflare, not for CloudFront)"
  "ed25519     127.77.1.15  an Ed25519 certificate (Cloudflare offers no signature scheme for it)"
)

die() { echo "lab: $*" >&2; exit 2; }

ts() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

gen_certs() {
  local c=$run/certs
  mkdir -p "$c/newcerts"
  : >"$c/index.txt"
  echo 1000 >"$c/serial"
  cat >"$c/ca.cnf" <<CNF
[ ca ]
default_ca = lab
[ lab ]
database = $c/index.txt
new_certs_dir = $c/newcerts
serial = $c/serial
default_md = sha256
policy = anything
copy_extensions = none
unique_subject = no
[ anything ]
commonName = supplied
organizationName = optional
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
  # root and intermediate
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c/ca.key" -out "$c/ca.crt" -days 3650 \
    -subj "/O=edgeshake lab/CN=edgeshake lab root CA" \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey rsa:2048 -nodes -keyout "$c/int.key" -out "$c/int.csr" \
    -subj "/O=edgeshake lab/CN=edgeshake lab intermediate CA" 2>/dev/null
  openssl ca -batch -config "$c/ca.cnf" -cert "$c/ca.crt" -keyfile "$c/ca.key" -in "$c/int.csr" \
    -out "$c/int.crt" -startdate "$(ts '-1 day')" -enddate "$(ts '+5 years')" \
    -extensions v3_ca -extfile "$c/ca.cnf" -notext 2>/dev/null
  # leaf NAME SAN START END [key]
  leaf() {
    local name=$1 san=$2 start=$3 end=$4 key=${5:-ec}
    local keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
    [[ $key == rsa ]] && keyopt=(-newkey rsa:2048)
    [[ $key == ed25519 ]] && keyopt=(-newkey ed25519)
    openssl req -new "${keyopt[@]}" -nodes -keyout "$c/$name.key" -out "$c/$name.csr" \
      -subj "/CN=${san%%,*}" 2>/dev/null
    printf 'basicConstraints=CA:false\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
      "$(echo "$san" | sed 's/\([^,]*\)/DNS:\1/g')" >"$c/$name.ext"
    openssl ca -batch -config "$c/ca.cnf" -cert "$c/int.crt" -keyfile "$c/int.key" -in "$c/$name.csr" \
      -out "$c/$name.crt" -startdate "$(ts "$start")" -enddate "$(ts "$end")" \
      -extfile "$c/$name.ext" -notext 2>/dev/null
    cat "$c/$name.crt" "$c/int.crt" >"$c/$name.chain.pem"
  }
  for s in good leafonly tls10 chacha p521 unknownsni mtls plainhttp closed tls13only; do
    local key=ec
    [[ $s == chacha || $s == tls10 ]] && key=rsa
    leaf "$s" "$s.lab.test" '-10 days' '+80 days' "$key"
  done
  leaf ed25519 ed25519.lab.test '-10 days' '+80 days' ed25519
  leaf expired expired.lab.test '-100 days' '-12 days'
  leaf notyet notyet.lab.test '+7 days' '+97 days'
  leaf wronghost www.elsewhere.test '-10 days' '+80 days'
  leaf unknownsni-other other.lab.test '-10 days' '+80 days'
  leaf edge "*.lab.test" '-10 days' '+80 days'
  # client certificate for mtls (clientAuth)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$c/selfsigned.key" \
    -out "$c/selfsigned.crt" -days 90 -subj "/CN=selfsigned.lab.test" \
    -addext "subjectAltName=DNS:selfsigned.lab.test" 2>/dev/null
  cp "$c/selfsigned.crt" "$c/selfsigned.chain.pem"
}

origin_block() {
  local s=$1 ip=$2 c=$run/certs
  local cert=$c/$s.chain.pem key=$c/$s.key extra="" listen="listen $ip:$port ssl;"
  case $s in
    leafonly) cert=$c/$s.crt ;;
    tls10) extra="ssl_protocols TLSv1; ssl_ciphers DEFAULT:@SECLEVEL=0;" ;;
    chacha) extra="ssl_protocols TLSv1.2; ssl_ciphers ECDHE-RSA-CHACHA20-POLY1305;" ;;
    p521) extra="ssl_ecdh_curve secp521r1;" ;;
    mtls) extra="ssl_verify_client on; ssl_client_certificate $c/ca.crt;" ;;
    plainhttp) listen="listen $ip:$port;" ;;
    tls13only) extra="ssl_protocols TLSv1.3;" ;;
    closed) return ;;
  esac
  if [[ $s == unknownsni ]]; then
    cat <<BLK
    server { listen $ip:$port ssl default_server; ssl_reject_handshake on; }
    server { listen $ip:$port ssl; server_name other.lab.test;
             ssl_certificate $c/unknownsni-other.chain.pem; ssl_certificate_key $c/unknownsni-other.key;
             location / { return 200 "origin other.lab.test\n"; } }
BLK
    return
  fi
  local tls=""
  [[ $s != plainhttp ]] && tls="ssl_certificate $cert; ssl_certificate_key $key;"
  cat <<BLK
    server { $listen server_name $s.lab.test; $tls $extra
             location / { return 200 "origin $s.lab.test\n"; } }
BLK
}

write_configs() {
  local c=$run/certs
  {
    cat <<CONF
pid $run/nginx.pid;
error_log $run/nginx-error.log warn;
worker_processes 1;
events { worker_connections 1024; }
http {
    access_log $run/nginx-access.log;
    client_body_temp_path $run/tmp; proxy_temp_path $run/tmp; fastcgi_temp_path $run/tmp;
    uwsgi_temp_path $run/tmp; scgi_temp_path $run/tmp;
    default_type text/plain;
    # --- origins ---
CONF
    for row in "${scenarios[@]}"; do
      read -r s ip _ <<<"$row"
      origin_block "$s" "$ip"
    done
    cat <<CONF
    # --- the edge: behaves like Cloudflare in Full mode towards the origins ---
    # (Cloudflare's documented origin cipher list and versions, the groups and
    # signature algorithms of its open-source origin connector as in the bundled
    # profile, SNI = the site's name, no certificate validation; an upstream TLS
    # failure becomes 525).
    map \$host \$lab_origin {
CONF
    for row in "${scenarios[@]}"; do
      read -r s ip _ <<<"$row"
      echo "        $s.lab.test $ip:$port;"
    done
    cat <<CONF
    }
    server {
        listen $edge_ip:$port ssl;
        server_name *.lab.test;
        ssl_certificate $c/edge.chain.pem; ssl_certificate_key $c/edge.key;
        location / {
            proxy_pass https://\$lab_origin;
            proxy_ssl_server_name on;
            proxy_ssl_name \$host;
            proxy_ssl_verify off;
            proxy_ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
            proxy_ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256:AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA384:AES256-SHA:@SECLEVEL=0;
            proxy_ssl_conf_command Groups X25519:P-256:P-384:P-521;
            proxy_ssl_conf_command SignatureAlgorithms ECDSA+SHA256:rsa_pss_rsae_sha256:RSA+SHA256:ECDSA+SHA384:rsa_pss_rsae_sha384:RSA+SHA384:rsa_pss_rsae_sha512:RSA+SHA512:RSA+SHA1:ECDSA+SHA512;
            proxy_connect_timeout 5s;
            proxy_read_timeout 10s;
            error_page 502 504 =525 /__edge_525;
        }
        location = /__edge_525 { internal; return 525 "error 525: SSL handshake failed (lab edge)\n"; }
    }
}
CONF
  } >"$run/nginx.conf"

  {
    echo "no-resolv"; echo "no-hosts"; echo "no-poll"
    echo "listen-address=$dns_ip"; echo "bind-interfaces"; echo "port=$dns_port"
    echo "local=/test/"; echo "local=/cloudflare.net/"
    echo "pid-file=$run/dnsmasq.pid"; echo "log-facility=$run/dnsmasq.log"
    for row in "${scenarios[@]}"; do
      read -r s ip _ <<<"$row"
      echo "host-record=$s.lab.test.cdn.cloudflare.net,$edge_ip"
      echo "cname=$s.lab.test,$s.lab.test.cdn.cloudflare.net"
      echo "host-record=origin-$s.lab.test,$ip"
    done
  } >"$run/dnsmasq.conf"
}

running() { [[ -f $1 ]] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

start() {
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || die "nginx is not installed (scripts/install-deps.sh)"
  command -v dnsmasq >/dev/null || [[ -x /usr/sbin/dnsmasq ]] || die "dnsmasq is not installed (scripts/install-deps.sh)"
  stop >/dev/null 2>&1 || true
  rm -rf "$run"; mkdir -p "$run/tmp"
  gen_certs
  write_configs
  /usr/sbin/nginx -p "$run" -c "$run/nginx.conf" -e "$run/nginx-error.log" ||
    die "nginx did not start: $(tail -3 "$run/nginx-error.log")"
  /usr/sbin/dnsmasq --conf-file="$run/dnsmasq.conf" || die "dnsmasq did not start (port $dns_port on $dns_ip; root needed for 53)"
  for _ in $(seq 50); do
    running "$run/nginx.pid" && running "$run/dnsmasq.pid" && break
    sleep 0.1
  done
  running "$run/nginx.pid" || die "nginx is not running"
  running "$run/dnsmasq.pid" || die "dnsmasq is not running"
  echo "lab: started (nginx pid $(cat "$run/nginx.pid"), dnsmasq pid $(cat "$run/dnsmasq.pid") on $dns_ip:$dns_port)"
}

stop() {
  for p in nginx dnsmasq; do
    if running "$run/$p.pid"; then
      kill "$(cat "$run/$p.pid")" && echo "lab: stopped $p"
      for _ in $(seq 50); do running "$run/$p.pid" || break; sleep 0.1; done
    fi
  done
}

status() {
  for p in nginx dnsmasq; do
    if running "$run/$p.pid"; then echo "$p: running (pid $(cat "$run/$p.pid"))"; else echo "$p: stopped"; fi
  done
  echo "DNS: $dns_ip:$dns_port   edge: $edge_ip:$port   CA: $run/certs/ca.crt"
  printf '%-12s %-17s %s\n' scenario origin problem
  for row in "${scenarios[@]}"; do
    read -r s ip what <<<"$row"
    printf '%-12s %-17s %s\n' "$s" "$ip:$port" "$what"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
