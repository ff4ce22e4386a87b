#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine to a running Cairn:
# installs what is missing, builds, and runs
#   tools/run.sh              one member serving 127.0.0.1:2379, data in ./default.etcd
#   tools/run.sh --cluster N  N members on loopback (clients on 2379, 22379, 32379, ...,
#                             peers on the port above each), data in ./mK.etcd, logs in ./mK.log
# Other arguments are passed to every `cairn` (etcd's flags). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=0
if [ "${1:-}" = "--cluster" ]; then
  MEMBERS=${2:?usage: tools/run.sh --cluster N [cairn flags]}
  shift 2
fi
tools/install-deps.sh
tools/build.sh
if [ "$MEMBERS" -eq 0 ]; then
  exec build/server/cmd/cairn \
    --name default --data-dir default.etcd \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 "$@"
fi

client_port() { [ "$1" -eq 0 ] && echo 2379 || echo $(( ($1 + 1) * 10000 + 2379 )); }
cluster=""
for i in $(seq 0 $((MEMBERS - 1))); do
  cluster+="${cluster:+,}m$i=http://127.0.0.1:$(( $(client_port "$i") + 1 ))"
done
trap 'kill $(jobs -p) 2>/dev/null; wait' INT TERM EXIT
endpoints=""
for i in $(seq 0 $((MEMBERS - 1))); do
  port=$(client_port "$i")
  endpoints+="${endpoints:+,}127.0.0.1:$port"
  build/server/cmd/cairn --name "m$i" --data-dir "m$i.etcd" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
    --initial-cluster "$cluster" "$@" >"m$i.log" 2>&1 &
done
echo "started $MEMBERS members; try: ETCDCTL_API=3 etcdctl --endpoints $endpoints endpoint status -w table"
wait
