"""Linearizability of a Cairn cluster under faults, checked with tests/linearizability.

Client threads run puts, linearizable gets and compare-and-swaps (etcd txns) on a
handful of keys through every member while a nemesis kills and restarts members,
pauses them (SIGSTOP/SIGCONT) and cuts them off the network (netproxy). Every
operation is recorded with its call and return time; a write whose outcome the
client cannot know (timeout, connection lost) is recorded as indeterminate, a failed
read is dropped (it had no effect). The checker then searches for a linearization.

CI runs a short form; CAIRN_LINEARIZABILITY_SECONDS=300 runs longer.
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cluster import Cluster  # noqa: E402
from linearizability import KvModel, Recorder, cas, check, dump, get, put  # noqa: E402

DURATION = float(os.environ.get("CAIRN_LINEARIZABILITY_SECONDS", "20"))
KEYS = ["lin-a", "lin-b", "lin-c"]
CLIENTS = 6


def client_loop(client_id, cluster, recorder, stop, counts):
    import etcd3
    rng = random.Random(client_id)
    connections = [etcd3.client(host="127.0.0.1", port=m.port, timeout=2) for m in cluster.members]
    n = 0
    # Paced so the history stays small enough to check in CI time; the faults matter, not the volume.
    while not stop.wait(rng.uniform(0, 0.08)):
        c = rng.choice(connections)
        key = rng.choice(KEYS)
        kind = rng.random()
        n += 1
        value = "%d-%d" % (client_id, n)
        if kind < 0.35:
            token = recorder.call(client_id, put(key, value))
            try:
                c.put(key, value)
                recorder.ok(token)
                counts["ok"] += 1
            except Exception:  # timeout, unavailable, connection reset: it may have happened
                recorder.unknown(token)
        elif kind < 0.7:
            token = recorder.call(client_id, get(key))
            try:
                v, _ = c.get(key)
                recorder.ok(token, v.decode() if v is not None else None)
                counts["ok"] += 1
            except Exception:
                recorder.fail(token)
        else:
            expected = rng.choice([None, "%d-%d" % (rng.randrange(CLIENTS), rng.randrange(1, n + 1))])
            # CAS on a value another client most likely just wrote: read it first.
            try:
                current, _ = c.get(key)
                expected = current.decode() if current is not None else None
            except Exception:
                pass
            token = recorder.call(client_id, cas(key, expected, value))
            compare = (c.transactions.version(key) == 0 if expected is None
                       else c.transactions.value(key) == expected)
            try:
                succeeded, _ = c.transaction(compare=[compare], success=[c.transactions.put(key, value)], failure=[])
                recorder.ok(token, succeeded)
                counts["ok"] += 1
                counts["cas_ok"] += int(succeeded)
            except Exception:
                recorder.unknown(token)


def nemesis(cluster, stop, rng, log):
    while not stop.is_set():
        victim = rng.choice(cluster.members)
        fault = rng.choice(["kill", "pause", "isolate"])
        log.append("%.1f %s %s" % (time.time(), fault, victim.name))
        if fault == "kill":
            victim.kill()
            stop.wait(rng.uniform(0.5, 2.5))
            victim.start(wait=False)
        elif fault == "pause":
            victim.pause()
            stop.wait(rng.uniform(0.5, 2.5))
            victim.resume()
        else:
            cluster.isolate(victim)
            stop.wait(rng.uniform(0.5, 3))
            cluster.heal()
        stop.wait(rng.uniform(1, 3))


def test_history_under_kills_pauses_and_partitions_is_linearizable(tmp_path):
    cluster = Cluster(tmp_path, size=3, proxies=True).start()
    recorder = Recorder()
    stop = threading.Event()
    counts = {"ok": 0, "cas_ok": 0}
    faults = []
    try:
        cluster.leader()
        clients = [threading.Thread(target=client_loop, args=(i, cluster, recorder, stop, counts), daemon=True)
                   for i in range(CLIENTS)]
        for t in clients:
            t.start()
        chaos = threading.Thread(target=nemesis, args=(cluster, stop, random.Random(int(time.time())), faults),
                                 daemon=True)
        chaos.start()
        time.sleep(DURATION)
        stop.set()
        chaos.join(30)
        for t in clients:
            t.join(30)
        # After healing, the cluster serves again: the history ends with a working system.
        cluster.heal()
        for m in cluster.members:
            if m.proc.poll() is not None:
                m.start(wait=False)
        for m in cluster.members:
            m.wait_ready(30)
        cluster.leader()
    finally:
        cluster.stop()
    operations = recorder.operations()
    with open(str(tmp_path / "history.jsonl"), "w") as f:
        dump(operations, f)
    assert counts["ok"] > 100 and counts["cas_ok"] > 5, "too few completed operations to mean anything: %s" % counts
    started = time.time()
    result = check(KvModel(), operations, timeout=240)
    print("%d operations (%s), %d faults, checked in %.1fs: %s" % (len(operations), counts, len(faults),
                                                                  time.time() - started, result.verdict))
    assert result.ok, "%s\nfaults:\n%s\nhistory: %s" % (result, "\n".join(faults), tmp_path / "history.jsonl")
