#!/usr/bin/env bash
# Backup throughput, measured in one run on this machine: a Cairn member holding about
# SIZE_MIB MiB (default 1024) is backed up to s3rver
#   (a) the way an operator-less user would: `etcdctl snapshot save` to local disk, then a
#       plain `aws s3 cp` of that file to the same s3rver;
#   (b) the way cairn-operator does (cairn-backup-run: snapshot stream -> compression ->
#       multipart upload), uncompressed and with zstd.
# Reports seconds, MiB/s and the ratio (a)/(b) — #16 asks for (b) >= 80% of (a)'s
# throughput — and (b)'s memory above idle (#16: at most ~64 MiB).
#   bench/backup_throughput.sh [SIZE_MIB]      (after tools/build.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
SIZE_MIB="${1:-1024}"
CAIRN="$BUILD/server/cmd/cairn"
RUN="$BUILD/bench/cairn-backup-run"
S3RVER="${CAIRN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn-tools}/s3rver/node_modules/.bin/s3rver"
WORK="$(mktemp -d /tmp/cairn-backup-bench-XXXXXX)"
CLIENT=127.0.0.1:24379 PEER=127.0.0.1:24380 S3PORT=24390
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 ETCDCTL_API=3
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$CAIRN" --data-dir "$WORK/member" --listen-client-urls "http://$CLIENT" --advertise-client-urls "http://$CLIENT" \
  --listen-peer-urls "http://$PEER" --initial-advertise-peer-urls "http://$PEER" --initial-cluster "default=http://$PEER" \
  --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) >"$WORK/member.log" 2>&1 &
pids+=($!)
NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" -d "$WORK/s3" -a 127.0.0.1 -p "$S3PORT" --configure-bucket bench \
  >"$WORK/s3rver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  etcdctl --endpoints "$CLIENT" endpoint health >/dev/null 2>&1 && grep -q "listening" "$WORK/s3rver.log" && break
  sleep 0.2
done

echo "loading ~$SIZE_MIB MiB (1 MiB values, half random so compression has work to do)"
/usr/bin/python3 - "$CLIENT" "$SIZE_MIB" <<'PY'
import os, sys, etcd3
host, port = sys.argv[1].split(":")
c = etcd3.client(host=host, port=int(port))
for i in range(int(sys.argv[2])):
    c.put("bench/%06d" % i, os.urandom(512 * 1024) + b"x" * (512 * 1024))
PY

t0=$(date +%s.%N)
etcdctl --endpoints "$CLIENT" snapshot save "$WORK/snap.db" >/dev/null 2>&1
t1=$(date +%s.%N)
aws --endpoint-url "http://127.0.0.1:$S3PORT" s3 cp --quiet "$WORK/snap.db" s3://bench/plain/snap.db
t2=$(date +%s.%N)
bytes=$(stat -c %s "$WORK/snap.db")
rm -f "$WORK/snap.db"
plain=$(echo "$t2 - $t0" | bc -l)
mib=$(echo "$bytes / 1048576" | bc -l)
printf 'etcdctl snapshot save + aws s3 cp: %.1f s (save %.1f s, copy %.1f s), %.0f MiB, %.1f MiB/s\n' \
  "$plain" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t2 - $t1" | bc -l)" "$mib" "$(echo "$mib / $plain" | bc -l)"

for compression in none zstd; do
  out=$("$RUN" "http://$CLIENT" "http://127.0.0.1:$S3PORT" bench "$compression")
  secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
  obj=$(sed -n 's/.*object_bytes=\([0-9]*\).*/\1/p' <<<"$out")
  before=$(sed -n 's/.*rss_before_kib=\([0-9]*\).*/\1/p' <<<"$out")
  peak=$(sed -n 's/.*rss_peak_kib=\([0-9]*\).*/\1/p' <<<"$out")
  printf 'cairn-operator backup (%s): %.1f s, %.1f MiB/s of store, object %.0f MiB, memory +%.1f MiB over idle; throughput ratio vs (a): %.2f\n' \
    "$compression" "$secs" "$(echo "$mib / $secs" | bc -l)" "$(echo "$obj / 1048576" | bc -l)" \
    "$(echo "($peak - $before) / 1024" | bc -l)" "$(echo "$plain / $secs" | bc -l)"
done
