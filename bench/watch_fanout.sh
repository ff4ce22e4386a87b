#!/usr/bin/env bash
# Watch fan-out, etcd 3.4 vs Cairn in one run: 10,000 watchers on one prefix over 100
# streams; put -> all-watchers latency (p50/p99), CPU per put and server RSS per idle
# watcher. Both are single members with fresh data dirs, measured by the same client
# (cairn-watch-fanout, see watch_fanout.cc). Each connection count is one run per
# server: the streams spread over 10 connections, then all on one, as a single etcd
# client (kube-apiserver's, or etcd's own benchmark tool) multiplexes them.
#
#   bench/watch_fanout.sh [watchers] [streams] [puts] ["conns ..."]   (needs a built CAIRN_BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
WATCHERS=${1:-10000}
STREAMS=${2:-100}
PUTS=${3:-200}
CONNS=${4:-"10 1"}
BUILD=${CAIRN_BUILD_DIR:-build}
FANOUT=$BUILD/bench/cairn-watch-fanout
CAIRN=$BUILD/server/cmd/cairn
[ -x "$FANOUT" ] && [ -x "$CAIRN" ] || { echo "build $FANOUT and $CAIRN first"; exit 1; }
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

run() {  # name port conns
  local client="http://127.0.0.1:$2" peer="http://127.0.0.1:$(($2 + 100))"
  local args=(--name bench --data-dir "$WORK/$1-$3" --listen-client-urls "$client" --advertise-client-urls "$client"
              --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "bench=$peer")
  if [ "$1" = etcd ]; then etcd "${args[@]}" >"$WORK/$1-$3.log" 2>&1 &
  else "$CAIRN" "${args[@]}" --log-level warn >"$WORK/$1-$3.log" 2>&1 &
  fi
  local pid=$!
  for _ in $(seq 100); do
    ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$2" endpoint health >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "== $1, $3 connection(s)"
  # No more client threads than connections: threads sharing one connection contend
  # for it and roughly double the client's CPU per message.
  "$FANOUT" --endpoint "127.0.0.1:$2" --streams "$STREAMS" --conns "$3" --client-threads $(($3 < 4 ? $3 : 4)) \
    --watchers "$WATCHERS" --puts "$PUTS" --server-pid "$pid"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

for conns in $CONNS; do
  run etcd 23890 "$conns"
  run cairn 23891 "$conns"
done
