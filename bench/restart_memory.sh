#!/usr/bin/env bash
# Memory after a large load, and the time a restart takes, Cairn against etcd 3.4
# (Debian's /usr/bin/etcd) in one run on this machine (#18). For each server, etcd first:
#   1. one member starts on a fresh data dir (defaults for both: snapshot-count 100000,
#      2 GiB quota; nothing is raised);
#   2. `cairn-load --op put --clients 100 --total TOTAL --key-space KEY_SPACE
#      --value-size 256` loads it (8-byte keys picked uniformly with replacement: 1M
#      puts over 1M keys write ~631k distinct keys);
#   3. its VmRSS and VmHWM are read from /proc/PID/status;
#   4. it is killed with SIGKILL (a crash: both must recover from their WAL and
#      backend exactly as after a power cut, neither gets to flush anything on exit);
#   5. it is started again on the same data dir, and the time from exec to the first
#      successful linearizable Range of a key the load wrote is measured, polling every
#      10 ms with a fresh gRPC connection per attempt (so no reconnect backoff applies);
#      its VmRSS right after that first read is reported too.
# Prints a table with both and the Cairn/etcd ratios (#18's targets: RSS <= 0.4x etcd's,
# restart <= 2 s). Absolute figures drift on a shared machine; compare one run's ratios.
#   bench/restart_memory.sh [TOTAL [KEY_SPACE]]      (after tools/build.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${CAIRN_BUILD_DIR:-$ROOT/build}"
TOTAL="${1:-1000000}"
KEY_SPACE="${2:-1000000}"
CAIRN="$BUILD/server/cmd/cairn"
LOAD="$BUILD/bench/cairn-load"
ETCD=/usr/bin/etcd
[ -x "$LOAD" ] && [ -x "$CAIRN" ] || "$ROOT/tools/build.sh"
WORK="$(mktemp -d /tmp/cairn-restart-bench-XXXXXX)"
export ETCDCTL_API=3
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

status_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }  # pid field

server_args() {  # name port
  local client="http://127.0.0.1:$2" peer="http://127.0.0.1:$(($2 + 1))"
  local args=(--name m0 --data-dir "$WORK/$1" --listen-client-urls "$client" --advertise-client-urls "$client"
              --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "m0=$peer")
  if [ "$1" = etcd ]; then echo "$ETCD" "${args[@]}"; else echo "$CAIRN" "${args[@]}" --log-level warn; fi
}

measure() {  # name port: prints "name rss_kib hwm_kib restart_s rss_after_restart_kib"
  local name=$1 port=$2 ep="127.0.0.1:$2"
  # shellcheck disable=SC2046
  $(server_args "$name" "$port") >"$WORK/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do etcdctl --endpoints "$ep" endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
  "$LOAD" --endpoint "$ep" --op put --clients 100 --total "$TOTAL" --key-space "$KEY_SPACE" --value-size 256 >&2
  local rss hwm key
  rss=$(status_kib "$pid" VmRSS) hwm=$(status_kib "$pid" VmHWM)
  key=$(etcdctl --endpoints "$ep" get "" --from-key --limit 1 --keys-only | head -1)
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  echo "$name: data dir $(du -sh "$WORK/$name" | cut -f1) after the load" >&2
  # shellcheck disable=SC2046
  read -r restart rss2 < <(/usr/bin/python3 - "$ep" "$key" $(server_args "$name" "$port") 2>>"$WORK/$name.log" <<'PY'
import subprocess, sys, time, etcd3
host, port = sys.argv[1].split(":")
key = sys.argv[2]
t0 = time.monotonic()
server = subprocess.Popen(sys.argv[3:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while True:
    try:
        c = etcd3.client(host=host, port=int(port), timeout=1)
        try:
            value, _ = c.get(key)  # linearizable: a quorum read through Raft
        finally:
            c.close()
        if value is not None:
            break
    except Exception:
        pass
    if server.poll() is not None:
        sys.exit("server exited with %d" % server.returncode)
    time.sleep(0.01)
elapsed = time.monotonic() - t0
rss = next(l.split()[1] for l in open("/proc/%d/status" % server.pid) if l.startswith("VmRSS:"))
server.kill()
server.wait()
print("%.3f %s" % (elapsed, rss))
PY
  )
  echo "$name $rss $hwm $restart $rss2"
  rm -rf "${WORK:?}/$name"
}

etcd_row=$(measure etcd 24790)
cairn_row=$(measure cairn 24890)
/usr/bin/python3 - "$etcd_row" "$cairn_row" "$TOTAL" "$KEY_SPACE" <<'PY'
import sys
e = sys.argv[1].split(); c = sys.argv[2].split()
mib = lambda kib: int(kib) / 1024
print("\n%s puts over a key space of %s, 256-byte values, one member" % (sys.argv[3], sys.argv[4]))
print("%-40s %12s %12s %8s" % ("", "etcd", "cairn", "ratio"))
for label, i, f in (("RSS after the load (MiB)", 1, mib), ("peak RSS, VmHWM (MiB)", 2, mib),
                    ("kill -9, exec to first read (s)", 3, float), ("RSS at that first read (MiB)", 4, mib)):
    ev, cv = f(e[i]), f(c[i])
    print("%-40s %12.1f %12.1f %7.2fx" % (label, ev, cv, cv / ev))
PY
