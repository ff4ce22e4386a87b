"""Crash safety: concurrent writers while the member is killed with SIGKILL at
random moments, restarted, and killed again. Every write that was acknowledged must
be present afterwards with exactly the revision the acknowledgement reported, and
no two acknowledged writes may share a revision (a lost write would let a later one
reuse its revision)."""
import os
import random
import threading
import time

from cluster import Member

ROUNDS = int(os.environ.get("CAIRN_CRASH_ROUNDS", "6"))
WRITERS = 8

def writer_loop(member, writer_id, stop, acked, lock):
    seq = 0
    client = None
    while not stop.is_set():
        try:
            if client is None:
                client = member.client()
            key = "w%d/%06d" % (writer_id, seq)
            value = "v-%d-%d" % (writer_id, seq)
            resp = client.put(key, value)
            with lock:
                acked[key] = (value, resp.header.revision)
            seq += 1
        except Exception:  # the member is down or restarting; the write is unacknowledged
            seq += 1
            client = None
            time.sleep(0.05)

def test_kill9_loses_no_acknowledged_write(tmp_path):
    rng = random.Random(int(os.environ.get("CAIRN_CRASH_SEED", "7")))
    member = Member(tmp_path / "data").start()
    acked, lock, stop = {}, threading.Lock(), threading.Event()
    threads = [threading.Thread(target=writer_loop, args=(member, i, stop, acked, lock)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(0.3, 1.5))
            member.kill()
            time.sleep(rng.uniform(0.0, 0.3))
            member.start()
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    with lock:
        snapshot = dict(acked)
    assert len(snapshot) > 100, "too few writes were acknowledged to prove anything: %d" % len(snapshot)
    revisions = [rev for _, rev in snapshot.values()]
    assert len(set(revisions)) == len(revisions), "two acknowledged writes share a revision"

    client = member.client()
    stored = {}
    for writer in range(WRITERS):
        for value, meta in client.get_prefix("w%d/" % writer):
            stored[meta.key.decode()] = (value.decode(), meta.mod_revision)
    missing = [k for k in snapshot if k not in stored]
    wrong = [(k, snapshot[k], stored[k]) for k in snapshot if k in stored and stored[k] != snapshot[k]]
    assert not missing, "acknowledged writes lost: %s" % missing[:10]
    assert not wrong, "acknowledged writes changed: %s" % wrong[:10]
    member.stop()
