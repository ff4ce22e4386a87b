#!/usr/bin/env bash
# What auth costs: 100-client put and range throughput with auth on (simple token, a user
# whose role may read and write every key the load uses) over the same with auth off, on
# one member of etcd 3.4 (Debian's etcd-server) and of Cairn, in one run. Each server runs
# off, on, on, off (so neither mode always comes second) and the ratio is of the averages.
#
#   bench/auth_ratio.sh [total-requests]   (builds ./build first if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${1:-40000}
BUILD=${CAIRN_BUILD_DIR:-build}
LOAD=$BUILD/bench/cairn-load
CAIRN=$BUILD/server/cmd/cairn
[ -x "$LOAD" ] && [ -x "$CAIRN" ] || tools/build.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=24790
EP=127.0.0.1:$PORT
ctl() { ETCDCTL_API=3 etcdctl --endpoints "$EP" "$@" >/dev/null; }

for server in etcd cairn; do
  args=(--data-dir "$WORK/$server" --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP"
        --listen-peer-urls "http://127.0.0.1:$((PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((PORT + 1))"
        --initial-cluster "default=http://127.0.0.1:$((PORT + 1))")
  if [ "$server" = etcd ]; then etcd "${args[@]}" >"$WORK/$server.log" 2>&1 &
  else "$CAIRN" "${args[@]}" --log-level warn >"$WORK/$server.log" 2>&1 &
  fi
  pid=$!
  for _ in $(seq 100); do ctl endpoint health 2>/dev/null && break; sleep 0.1; done
  ctl user add root:rootpw --interactive=false
  ctl user grant-role root root
  ctl role add load
  ctl role grant-permission load readwrite 0 --prefix  # cairn-load's keys are zero-padded numbers
  ctl user add load:loadpw --interactive=false
  ctl user grant-role load load
  for mode in off on on off; do
    user=()
    if [ "$mode" = on ]; then ctl auth enable; user=(--user load:loadpw); fi
    for op in put range; do
      "$LOAD" --endpoint "$EP" --op "$op" --clients 100 --conns 10 --total "$TOTAL" "${user[@]}" |
        sed "s/^/$server $mode /" | tee -a "$WORK/results"
    done
    if [ "$mode" = on ]; then ctl --user root:rootpw auth disable; fi
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

/usr/bin/python3 - "$WORK/results" <<'PY'
import json, sys
runs = {}
for line in open(sys.argv[1]):
    server, mode, result = line.split(" ", 2)
    r = json.loads(result)
    runs.setdefault((server, r["op"], mode), []).append(r["throughput"])
for server in ("etcd", "cairn"):
    for op in ("put", "range"):
        off = sum(runs[(server, op, "off")]) / 2
        on = sum(runs[(server, op, "on")]) / 2
        print("%-5s %-5s auth off %8.0f/s  auth on %8.0f/s  on/off %.2f" % (server, op, off, on, on / off))
PY
