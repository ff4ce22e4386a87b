#!/usr/bin/env bash
# Runs the same workloads against etcd 3.4 (Debian's etcd-server) and Cairn on this
# machine in one run, in A-B-B-A order (so neither always follows the other's disk
# writeback), and prints each result and the Cairn/etcd ratios of the averages. Both
# run with default durability (fsync on every commit), fresh data dirs on the same
# disk, and the same load tool. MEMBERS=3 runs three-member clusters on loopback
# (same flags for both) and loads the leader.
#
#   [MEMBERS=3] bench/compare_etcd.sh [total-requests]   (builds ./build first if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${1:-20000}
MEMBERS=${MEMBERS:-1}
BUILD=${CAIRN_BUILD_DIR:-build}
LOAD=$BUILD/bench/cairn-load
CAIRN=$BUILD/server/cmd/cairn
[ -x "$LOAD" ] && [ -x "$CAIRN" ] || tools/build.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
source bench/leader.sh

port_for() { echo $((23790 + 10 * $1 + $2)); }  # round member

start_server() {  # name round: starts MEMBERS members, writes the leader's endpoint to $WORK/endpoint
  local cluster="" i
  for i in $(seq 0 $((MEMBERS - 1))); do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:$(( $(port_for "$2" "$i") + 1000 ))"
  done
  for i in $(seq 0 $((MEMBERS - 1))); do
    local port; port=$(port_for "$2" "$i")
    local client="http://127.0.0.1:$port" peer="http://127.0.0.1:$((port + 1000))"
    local args=(--name "m$i" --data-dir "$WORK/$1/m$i" --listen-client-urls "$client" --advertise-client-urls "$client"
                --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "$cluster")
    if [ "$1" = etcd ]; then etcd "${args[@]}" >"$WORK/$1-m$i.log" 2>&1 &
    else "$CAIRN" "${args[@]}" --log-level warn >"$WORK/$1-m$i.log" 2>&1 &
    fi
  done
  local endpoints=""
  for i in $(seq 0 $((MEMBERS - 1))); do endpoints+="${endpoints:+,}127.0.0.1:$(port_for "$2" "$i")"; done
  leader_endpoint "$endpoints" >"$WORK/endpoint" && return 0
  echo "$1 did not start"; cat "$WORK/$1"-m*.log; exit 1
}

run_suite() {  # name
  local ep; ep=$(cat "$WORK/endpoint")
  "$LOAD" --endpoint "$ep" --op put --clients 1 --conns 1 --total $((TOTAL / 10)) | tee -a "$WORK/$1.results"
  "$LOAD" --endpoint "$ep" --op put --clients 100 --conns 10 --total "$TOTAL" | tee -a "$WORK/$1.results"
  "$LOAD" --endpoint "$ep" --op range --clients 100 --conns 10 --total "$TOTAL" | tee -a "$WORK/$1.results"
  "$LOAD" --endpoint "$ep" --op range --clients 100 --conns 10 --total "$TOTAL" --serializable | tee -a "$WORK/$1.results"
  echo "$1 RSS of the loaded member after load: $(ps -o rss= -p "$(pgrep -f -- "--listen-client-urls http://$ep" | head -1)") KiB"
}

round=0
for name in etcd cairn cairn etcd; do
  round=$((round + 1))
  echo "== $name (round $round)"
  start_server "$name" "$round"
  run_suite "$name"
  kill $(jobs -p); wait 2>/dev/null || true
  rm -rf "${WORK:?}/$name"
done

/usr/bin/python3 - "$WORK/etcd.results" "$WORK/cairn.results" <<'PY'
import json, sys
names = ["put, 1 client", "put, 100 clients", "range (linearizable), 100 clients", "range (serializable), 100 clients"]
def averaged(path):
    rows = [json.loads(l) for l in open(path)]
    runs = [rows[i:i + len(names)] for i in range(0, len(rows), len(names))]
    return [{k: sum(r[i][k] for r in runs) / len(runs) for k in ("throughput", "p50_ms")} for i in range(len(names))]
etcd, cairn = averaged(sys.argv[1]), averaged(sys.argv[2])
print("\n%-36s %12s %12s %8s %12s %12s" % ("workload (mean of 2 runs each)", "etcd req/s", "cairn req/s", "ratio",
      "etcd p50 ms", "cairn p50 ms"))
for n, e, c in zip(names, etcd, cairn):
    print("%-36s %12.0f %12.0f %7.2fx %12.3f %12.3f" % (n, e["throughput"], c["throughput"],
          c["throughput"] / e["throughput"], e["p50_ms"], c["p50_ms"]))
PY
