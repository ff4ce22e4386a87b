"""Watches and leases of a three-member cluster across a leader kill, a member
restart and a full-cluster restart, with the real clients.

The watch check: `etcdctl watch -w json` (clientv3 resumes a broken watch on another
endpoint from the last revision it saw) follows a prefix while writers put and delete
through every member and the leader is killed and a follower restarted. Its events
must equal, in order, with no duplicate and no gap, what a fresh watch from the same
start revision reads back from MVCC history afterwards.
"""
import json
import os
import queue
import random
import subprocess
import threading
import time

import pytest

from cluster import ETCDCTL, Cluster, b64, wait_until


@pytest.fixture
def cluster3(tmp_path):
    c = Cluster(tmp_path, size=3).start()
    c.leader()
    yield c
    c.stop()


class JsonWatch:
    """`etcdctl watch -w json` against every endpoint; responses collected on a thread."""

    def __init__(self, endpoints, *args):
        self.proc = subprocess.Popen([ETCDCTL, "--endpoints", endpoints, "watch", "-w", "json"] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, ETCDCTL_API="3"))
        self.responses = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.responses.put(json.loads(line))

    def events_until(self, revision, timeout):
        """(revision, key, type, value) of every event up to `revision`, response by response."""
        events, deadline = [], time.time() + timeout
        while not events or events[-1][0] < revision:
            try:
                resp = self.responses.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                raise AssertionError("watch stopped at %s, wanted %d; stderr: %s" %
                                     (events[-1] if events else None, revision, self.stop()))
            revs = [e["kv"]["mod_revision"] for e in resp.get("Events") or []]
            # All events of one revision arrive in one response: a response never
            # starts with the revision the previous one ended with.
            assert not revs or not events or revs[0] > events[-1][0], (events[-1], revs)
            for e in resp.get("Events") or []:
                kv = e["kv"]
                events.append((kv["mod_revision"], kv["key"], e.get("type", 0), kv.get("value")))
        return events

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.communicate(timeout=10)[1]
        except ValueError:
            return ""


def writer(cluster, stop, counts, acked):
    """Puts and deletes through random members; every acknowledged change is recorded as
    the watch event it must produce: (revision, key, type, value), base64 as etcdctl's JSON."""
    rng = random.Random(7)
    i = 0
    while not stop.is_set():
        m = rng.choice(cluster.running())
        i += 1
        key = "w/k%d" % (i % 7)
        delete = i % 5 == 0
        args = ("del", key) if delete else ("put", key, "v%d" % i)
        r = m.etcdctl(*args, "-w", "json", "--command-timeout", "3s", check=False)
        counts["ok" if r.returncode == 0 else "failed"] += 1
        if r.returncode != 0:
            continue
        resp = json.loads(r.stdout)
        if delete and not resp.get("deleted"):
            continue  # nothing was there: no event
        acked.append((resp["header"]["revision"], b64(key), 1 if delete else 0, None if delete else b64("v%d" % i)))


def test_watch_is_ordered_unique_and_complete_across_leader_kill_and_member_restart(cluster3):
    start = cluster3.members[0].etcdctl_json("put", "w/start", "0")["header"]["revision"]
    watch = JsonWatch(cluster3.endpoints, "--prefix", "w/", "--rev", str(start))
    stop = threading.Event()
    counts = {"ok": 0, "failed": 0}
    acked = []
    t = threading.Thread(target=writer, args=(cluster3, stop, counts, acked), daemon=True)
    t.start()
    try:
        time.sleep(2)
        leader = cluster3.leader()
        leader.kill()
        time.sleep(3)
        leader.start()
        follower = next(m for m in cluster3.members if m is not cluster3.leader())
        follower.stop()
        time.sleep(1)
        follower.start()
        time.sleep(2)
    finally:
        stop.set()
        t.join(30)
    end = cluster3.leader().etcdctl_json("put", "w/end", "1")["header"]["revision"]
    assert counts["ok"] > 20, counts
    seen = watch.events_until(end, timeout=30)
    watch.stop()
    truth_watch = JsonWatch(cluster3.members[0].endpoint, "--prefix", "w/", "--rev", str(start))
    truth = truth_watch.events_until(end, timeout=30)
    truth_watch.stop()
    revisions = [e[0] for e in seen]
    assert revisions == sorted(revisions)
    assert len(set(seen)) == len(seen), "duplicate events"
    # Complete against what clients were told, not only against another watch.
    missing = [a for a in acked if a not in set(seen)]
    assert not missing, "acknowledged changes the watch never delivered: %s" % missing[:5]
    assert seen == truth


def test_leases_survive_a_full_cluster_restart(cluster3):
    leader = cluster3.leader()
    kept = leader.etcdctl("lease", "grant", "30").stdout.split()[1]
    short = leader.etcdctl("lease", "grant", "4").stdout.split()[1]
    leader.etcdctl("put", "long-lived", "v", "--lease", kept)
    leader.etcdctl("put", "short-lived", "v", "--lease", short)
    for m in cluster3.members:
        m.stop()
    for m in cluster3.members:
        m.start(wait=False)
    for m in cluster3.members:
        m.wait_ready(30)
    leader = cluster3.leader()
    ttl = leader.etcdctl_json("lease", "timetolive", kept)
    # Neither expired early nor revived beyond its grant.
    assert 0 < ttl["ttl"] <= 30
    # The short lease was not kept alive: it expires within TTL plus an election, on every member.
    wait_until(lambda: all(not m.etcdctl_json("get", "short-lived", "--consistency=s").get("kvs")
                           for m in cluster3.members), 15, "the short lease to expire everywhere")
    for m in cluster3.members:
        assert m.etcdctl_json("get", "long-lived", "--consistency=s").get("kvs")


def test_a_watch_that_requires_a_leader_ends_when_its_member_loses_it(cluster3):
    """etcdctl watches with clientv3's WithRequireLeader. A member cut off from the
    others must end such a watch with etcd's "no leader" (after three election
    timeouts), not keep it open and silent while it cannot know about new writes."""
    leader = cluster3.leader()
    follower = next(m for m in cluster3.members if m is not leader)
    watch = subprocess.Popen([ETCDCTL, "--endpoints", follower.endpoint, "watch", "nl/"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, ETCDCTL_API="3"))
    others = [m for m in cluster3.members if m is not follower]
    try:
        leader.etcdctl("put", "nl/a", "1")
        time.sleep(1)
        assert watch.poll() is None
        for m in others:
            m.pause()
        started = time.time()
        out, err = watch.communicate(timeout=20)
        ended_after = time.time() - started
    finally:
        for m in others:
            m.resume()
        if watch.poll() is None:
            watch.kill()
            watch.communicate()
    assert "no leader" in out + err, (out, err)
    assert ended_after < 10, "the watch ended %.1fs after the leader was lost" % ended_after
