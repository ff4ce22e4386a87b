#!/usr/bin/env bash
# What TLS costs: 100-client put and linearizable-range throughput of a three-member
# cluster on loopback with client and peer TLS (mutual, ECDSA P-256 certificates from
# one CA) over the same cluster in plaintext, for etcd 3.4 (Debian's etcd-server) and
# Cairn in one run. Each server runs plain, tls, tls, plain (so neither mode always
# comes second), loads the leader, and the ratio is of the averages.
#
#   bench/tls_ratio.sh [total-requests]   (builds ./build first if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${1:-20000}
BUILD=${CAIRN_BUILD_DIR:-build}
LOAD=$BUILD/bench/cairn-load
CAIRN=$BUILD/server/cmd/cairn
[ -x "$LOAD" ] && [ -x "$CAIRN" ] || tools/build.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
source bench/leader.sh

# One CA; one certificate for members (server and client use, 127.0.0.1) and one for the load.
PKI=$WORK/pki
mkdir -p "$PKI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
for who in member client; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$who" \
    -keyout "$PKI/$who.key" -out "$PKI/$who.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$PKI/$who.ext"
  openssl x509 -req -in "$PKI/$who.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 2 \
    -extfile "$PKI/$who.ext" -out "$PKI/$who.crt" 2>/dev/null
done

port_for() { echo $((25790 + 10 * $1 + $2)); }  # round member

start_cluster() {  # server mode round: writes the leader's endpoint to $WORK/endpoint
  local scheme=http tls=() ctl_tls=() cluster="" i
  if [ "$2" = tls ]; then
    scheme=https
    tls=(--cert-file "$PKI/member.crt" --key-file "$PKI/member.key" --trusted-ca-file "$PKI/ca.crt" --client-cert-auth
         --peer-cert-file "$PKI/member.crt" --peer-key-file "$PKI/member.key" --peer-trusted-ca-file "$PKI/ca.crt"
         --peer-client-cert-auth)
    ctl_tls=(--cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")
  fi
  for i in 0 1 2; do cluster+="${cluster:+,}m$i=$scheme://127.0.0.1:$(( $(port_for "$3" "$i") + 1000 ))"; done
  for i in 0 1 2; do
    local port; port=$(port_for "$3" "$i")
    local client="$scheme://127.0.0.1:$port" peer="$scheme://127.0.0.1:$((port + 1000))"
    local args=(--name "m$i" --data-dir "$WORK/$1/m$i" --listen-client-urls "$client" --advertise-client-urls "$client"
                --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "$cluster" "${tls[@]}")
    if [ "$1" = etcd ]; then etcd "${args[@]}" >"$WORK/$1-m$i.log" 2>&1 &
    else "$CAIRN" "${args[@]}" --log-level warn >"$WORK/$1-m$i.log" 2>&1 &
    fi
  done
  local endpoints=""
  for i in 0 1 2; do endpoints+="${endpoints:+,}$scheme://127.0.0.1:$(port_for "$3" "$i")"; done
  leader_endpoint "$endpoints" "${ctl_tls[@]}" >"$WORK/endpoint" && return 0
  echo "$1 ($2) did not start"; cat "$WORK/$1"-m*.log; exit 1
}

round=0
for server in etcd cairn; do
  for mode in plain tls tls plain; do
    round=$((round + 1))
    start_cluster "$server" "$mode" "$round"
    load_tls=()
    [ "$mode" = tls ] && load_tls=(--cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")
    for op in put range; do
      "$LOAD" --endpoint "$(cat "$WORK/endpoint")" --op "$op" --clients 100 --conns 10 --total "$TOTAL" "${load_tls[@]}" |
        sed "s/^/$server $mode /" | tee -a "$WORK/results"
    done
    kill $(jobs -p); wait 2>/dev/null || true
    rm -rf "${WORK:?}/$server"
  done
done

/usr/bin/python3 - "$WORK/results" <<'PY'
import json, sys
runs = {}
for line in open(sys.argv[1]):
    server, mode, result = line.split(" ", 2)
    r = json.loads(result)
    runs.setdefault((server, r["op"], mode), []).append(r["throughput"])
print()
for server in ("etcd", "cairn"):
    for op in ("put", "range"):
        plain = sum(runs[(server, op, "plain")]) / 2
        tls = sum(runs[(server, op, "tls")]) / 2
        print("%-5s %-5s plaintext %8.0f/s  TLS %8.0f/s  TLS/plaintext %.2f" % (server, op, plain, tls, tls / plain))
PY
