#!/usr/bin/env bash
# How long the operator's restore takes (spec.bootstrap.restore), measured on this
# machine: a Cairn member holding about SIZE_MIB MiB (default 1024) is backed up to
# s3rver with zstd, exactly as the operator does (cairn-backup-run), and then a new
# three-member cluster is made from that backup the way its pods make it:
#   1. each member's init container fetches and checks the backup (`cairn-operator
#      fetch-backup`: download, SHA-256, zstd) into its own volume, the three at once;
#   2. each start script runs `cairn snapshot restore` into a fresh data dir, at once;
#   3. the three members start; the cluster is ready when a linearizable read of a key
#      from the backup succeeds.
# Reports each phase and the total (#16's target: under 2 minutes for 1 GiB).
#   bench/restore_time.sh [SIZE_MIB]      (after tools/build.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
SIZE_MIB="${1:-1024}"
CAIRN="$BUILD/server/cmd/cairn"
OPERATOR="$BUILD/operator/cairn-operator"
RUN="$BUILD/bench/cairn-backup-run"
S3RVER="${CAIRN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn-tools}/s3rver/node_modules/.bin/s3rver"
WORK="$(mktemp -d /tmp/cairn-restore-bench-XXXXXX)"
SOURCE=127.0.0.1:26379 S3PORT=26390
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 ETCDCTL_API=3
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }

"$CAIRN" --data-dir "$WORK/source" --listen-client-urls "http://$SOURCE" --advertise-client-urls "http://$SOURCE" \
  --listen-peer-urls http://127.0.0.1:26380 --initial-advertise-peer-urls http://127.0.0.1:26380 \
  --initial-cluster default=http://127.0.0.1:26380 --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) \
  >"$WORK/source.log" 2>&1 &
source_pid=$!
pids+=("$source_pid")
NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" -d "$WORK/s3" -a 127.0.0.1 -p "$S3PORT" --configure-bucket bench \
  >"$WORK/s3rver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  etcdctl --endpoints "$SOURCE" endpoint health >/dev/null 2>&1 && grep -q "listening" "$WORK/s3rver.log" && break
  sleep 0.2
done

echo "loading ~$SIZE_MIB MiB (1 MiB values, half random)"
/usr/bin/python3 - "$SOURCE" "$SIZE_MIB" <<'PY'
import os, sys, etcd3
host, port = sys.argv[1].split(":")
c = etcd3.client(host=host, port=int(port))
for i in range(int(sys.argv[2])):
    c.put("bench/%06d" % i, os.urandom(512 * 1024) + b"x" * (512 * 1024))
PY
"$RUN" "http://$SOURCE" "http://127.0.0.1:$S3PORT" bench zstd >/dev/null
kill "$source_pid"
manifest=$(aws --endpoint-url "http://127.0.0.1:$S3PORT" s3 ls --recursive s3://bench/ | awk '/manifest.json$/ {print $4}')
last_key=$(printf 'bench/%06d' $((SIZE_MIB - 1)))

cluster="" 
for i in 0 1 2; do cluster+="${cluster:+,}m$i=http://127.0.0.1:$((26400 + 10 * i + 1))"; done

t0=$(now)
fetches=()
for i in 0 1 2; do
  mkdir -p "$WORK/m$i"
  "$OPERATOR" fetch-backup --endpoint="http://127.0.0.1:$S3PORT" --bucket=bench --path-style \
    --manifest="$manifest" --out="$WORK/m$i/restore.db" >"$WORK/fetch$i.log" 2>&1 &
  fetches+=($!)
done
for p in "${fetches[@]}"; do wait "$p"; done
fetched=$(since "$t0")

t1=$(now)
restores=()
for i in 0 1 2; do
  "$CAIRN" snapshot restore "$WORK/m$i/restore.db" --name="m$i" --data-dir="$WORK/m$i/data" \
    --initial-cluster="$cluster" --initial-advertise-peer-urls="http://127.0.0.1:$((26400 + 10 * i + 1))" \
    --initial-cluster-token=restored >"$WORK/restore$i.log" 2>&1 &
  restores+=($!)
done
for p in "${restores[@]}"; do wait "$p"; done
rm -f "$WORK"/m*/restore.db
restored=$(since "$t1")

t2=$(now)
endpoints=""
for i in 0 1 2; do
  client="http://127.0.0.1:$((26400 + 10 * i))" peer="http://127.0.0.1:$((26400 + 10 * i + 1))"
  "$CAIRN" --name="m$i" --data-dir="$WORK/m$i/data" --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "$cluster" \
    --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) >"$WORK/m$i.log" 2>&1 &
  pids+=($!)
  endpoints+="${endpoints:+,}$client"
done
until etcdctl --endpoints "$endpoints" --command-timeout 2s get "$last_key" --keys-only 2>/dev/null | grep -q "$last_key"; do
  sleep 0.2
done
ready=$(since "$t2")
total=$(since "$t0")
printf 'restore of a %s MiB backup (zstd) into 3 members: fetch %.1f s, snapshot restore %.1f s, start to first read %.1f s; total %.1f s\n' \
  "$SIZE_MIB" "$fetched" "$restored" "$ready" "$total"
