"""Membership changes on a running cluster of real `cairn` processes, with etcdctl:
learners added and promoted, members removed and updated, leadership moved, and
etcd's refusals (unready learner, too many learners, quorum loss, learner writes).
"""
import os
import time

import pytest

from cluster import Cluster, Member, free_port, wait_until

LEARNER_ERROR = "etcdserver: rpc not supported for learner"


@pytest.fixture
def cluster3(tmp_path):
    c = Cluster(tmp_path, size=3).start()
    c.leader()
    yield c
    for m in getattr(c, "extra", []):
        m.kill()
    c.stop()


def members(m):
    return m.etcdctl_json("member", "list")["members"]


def hex_id(i):
    return "%x" % i


def add_member(cluster, via, tmp_path, name, learner=True):
    """etcdctl member add, then start the new member with --initial-cluster-state existing."""
    new = Member(os.path.join(str(tmp_path), name), name=name)
    args = ["member", "add", name, "--peer-urls", new.peer_url] + (["--learner"] if learner else [])
    out = via.etcdctl(*args).stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if line.startswith("ETCD_"))
    new.initial_cluster = env["ETCD_INITIAL_CLUSTER"].strip('"')
    new.extra_args = ["--initial-cluster-state", env["ETCD_INITIAL_CLUSTER_STATE"].strip('"')]
    cluster.__dict__.setdefault("extra", []).append(new)
    return new, out


def dump(m):
    """Every key with its revisions, read locally (serializable) on one member."""
    r = m.etcdctl_json("get", "", "--prefix", "--consistency=s")
    return r["header"]["revision"], tuple((kv["key"], kv["value"], kv["mod_revision"]) for kv in r.get("kvs", []))


def test_learner_joins_catches_up_is_promoted_and_another_member_is_removed(cluster3, tmp_path):
    leader = cluster3.leader()
    follower = next(m for m in cluster3.members if m is not leader)
    for i in range(0, 200, 50):
        leader.etcdctl("put", "before-%03d" % i, "v%d" % i)
    # etcdctl's interactive txn: no compares, the puts as success ops, no failure ops.
    txn = "\n" + "\n".join("put bulk-%04d value-%d" % (i, i) for i in range(100)) + "\n\n\n"
    for _ in range(20):
        leader.etcdctl("txn", "-i", input=txn)
    # Added through a follower: the follower forwards to the leader.
    learner, out = add_member(cluster3, follower, tmp_path, "learner")
    assert "added to cluster" in out
    listed = {m["peerURLs"][0]: m for m in members(leader)}
    entry = listed[learner.peer_url]
    assert entry["isLearner"] is True
    # Not started yet: promoting it now is refused, as etcd refuses it.
    r = leader.etcdctl("member", "promote", hex_id(entry["ID"]), check=False)
    assert r.returncode != 0 and "can only promote a learner member which is in sync with leader" in r.stderr
    learner.start(wait=False)
    # Keep writing while it catches up.
    for i in range(0, 100, 10):
        follower.etcdctl("put", "during-%03d" % i, str(i))
    wait_until(lambda: learner.etcdctl("get", "during-090", "--consistency=s", check=False).stdout.strip(),
               30, "the learner to catch up")
    # A learner serves serializable reads only.
    r = learner.etcdctl("put", "x", "y", "--command-timeout", "2s", check=False)
    assert r.returncode != 0 and LEARNER_ERROR in r.stderr
    r = learner.etcdctl("get", "x", "--command-timeout", "2s", check=False)
    assert r.returncode != 0 and LEARNER_ERROR in r.stderr
    assert learner.status()["isLearner"] is True
    wait_until(lambda: leader.etcdctl("member", "promote", hex_id(entry["ID"]), check=False).returncode == 0,
               20, "the promotion to be accepted")
    assert all(not m.get("isLearner") for m in members(follower))
    assert learner.status().get("isLearner", False) is False
    learner.etcdctl("put", "from-promoted", "1")
    # Remove one of the original members; four become three.
    victim = next(m for m in cluster3.members if m is not leader and m is not follower)
    leader.etcdctl("member", "remove", hex_id(victim.member_id()))
    assert len(members(learner)) == 3
    # Like etcd, the removed member stops by itself.
    wait_until(lambda: victim.proc.poll() is not None, 15, "the removed member to stop")
    assert "permanently removed from the cluster" in victim.log()
    leader.etcdctl("put", "after-remove", "1")
    survivors = [leader, follower, learner]
    wait_until(lambda: len({dump(m) for m in survivors}) == 1 and dump(learner)[0] > 0, 20, "identical data")
    revision, kvs = dump(learner)
    assert len(kvs) == 100 + 4 + 10 + 2


def test_refusals(cluster3, tmp_path):
    leader = cluster3.leader()
    learner, _ = add_member(cluster3, leader, tmp_path, "l1")
    # One learner at a time (etcd's default).
    r = leader.etcdctl("member", "add", "l2", "--learner", "--peer-urls", "http://127.0.0.1:1", check=False)
    assert r.returncode != 0 and "etcdserver: too many learner members in cluster" in r.stderr
    # Peer URLs in use.
    r = leader.etcdctl("member", "add", "dup", "--peer-urls", cluster3.members[1].peer_url, check=False)
    assert r.returncode != 0 and "etcdserver: Peer URLs already exists" in r.stderr
    # Promoting a voter.
    r = leader.etcdctl("member", "promote", hex_id(cluster3.members[1].member_id()), check=False)
    assert r.returncode != 0 and "etcdserver: can only promote a learner member" in r.stderr
    # Unknown member.
    r = leader.etcdctl("member", "remove", "abcdef", check=False)
    assert r.returncode != 0 and "etcdserver: member not found" in r.stderr
    # With one voter down, removing another live voter would leave one of two working:
    # refused as etcd refuses it (the client may retry once the cluster is healthy).
    down, keep = [m for m in cluster3.members if m is not leader]
    down.kill()
    time.sleep(3)  # longer than the "recently heard from" window
    r = leader.etcdctl("member", "remove", hex_id(keep.member_id()), "--command-timeout", "2s", check=False)
    assert r.returncode != 0 and "etcdserver: unhealthy cluster" in r.stderr
    # Adding a member while a voter is down: refused too.
    leader.etcdctl("member", "remove", hex_id([m for m in members(leader) if m.get("isLearner")][0]["ID"]))
    r = leader.etcdctl("member", "add", "v4", "--peer-urls", "http://127.0.0.1:2", "--command-timeout", "2s",
                       check=False)
    assert r.returncode != 0 and "etcdserver: unhealthy cluster" in r.stderr
    # Removing the dead member is allowed, and the cluster keeps working.
    leader.etcdctl("member", "remove", hex_id(down.member_id()))
    leader.etcdctl("put", "still", "ok")
    assert len(members(keep)) == 2


def test_member_update_and_move_leader(cluster3):
    leader = cluster3.leader()
    target = next(m for m in cluster3.members if m is not leader)
    leader.etcdctl("move-leader", hex_id(target.member_id()), "--endpoints",
                   ",".join(m.endpoint for m in cluster3.members))
    assert cluster3.leader() is target
    # Only the leader moves leadership.
    other = next(m for m in cluster3.members if m is not target)
    r = other.etcdctl("move-leader", hex_id(leader.member_id()), "--endpoints", other.endpoint, check=False)
    assert r.returncode != 0
    # MemberUpdate changes the URLs everyone sees (the old URL still reaches the member here,
    # so we give it both).
    m = cluster3.members[2]
    new_urls = "%s,http://127.0.0.1:%d" % (m.peer_url, m.peer_port + 10000 if m.peer_port < 55000 else m.peer_port - 10000)
    target.etcdctl("member", "update", hex_id(m.member_id()), "--peer-urls", new_urls)
    listed = {x["ID"]: x for x in members(cluster3.members[0])}
    assert sorted(listed[m.member_id()]["peerURLs"]) == sorted(new_urls.split(","))
    target.etcdctl("put", "after-update", "1")
    wait_until(lambda: m.etcdctl("get", "after-update", "--consistency=s").stdout.strip(), 10, "replication")


def probe(member, path):
    """GET an HTTP probe on the member's client URL: (status, reason)."""
    import json
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen("http://%s%s" % (member.endpoint, path), timeout=10) as r:
            return r.status, json.loads(r.read())["reason"]
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())["reason"]
    except (urllib.error.URLError, ConnectionError):
        return None, None  # not listening yet


@pytest.mark.skipif(os.environ.get("CAIRN_TEST_AGAINST") == "etcd", reason="etcd 3.4 has no /livez or /readyz")
def test_readyz_waits_until_a_restarted_member_has_published_its_new_client_url(cluster3):
    # A pod restarted on another client URL (a client TLS switch) must not be routed to
    # before the other members list it there.
    m = cluster3.members[0]
    others = cluster3.members[1:]
    m.stop()
    old = m.endpoint
    m.port = free_port()
    m.start(wait=False)
    deadline = time.time() + 30
    while probe(m, "/readyz")[0] != 200:  # polled tightly: the window is milliseconds wide
        assert time.time() < deadline, "the restarted member never became ready"
        time.sleep(0.002)
    urls = {x["name"]: x.get("clientURLs", []) for x in others[0].etcdctl_json("member", "list")["members"]}
    assert urls[m.name] == ["http://" + m.endpoint], "ready before publishing: listed at %s, was %s" % (urls[m.name], old)


@pytest.mark.skipif(os.environ.get("CAIRN_TEST_AGAINST") == "etcd", reason="etcd 3.4 has no /livez or /readyz")
def test_readyz_refuses_learners_and_members_without_leader_while_livez_stays_up(cluster3, tmp_path):
    for m in cluster3.members:
        assert probe(m, "/readyz") == (200, "")
        assert probe(m, "/livez") == (200, "")
    learner, _ = add_member(cluster3, cluster3.leader(), tmp_path, "learner")
    learner.start(wait=False)
    wait_until(lambda: probe(learner, "/livez")[0] == 200, 30, "the learner to serve HTTP")
    # A learner refuses writes and linearizable reads: no Service should send it clients.
    assert probe(learner, "/readyz") == (503, "LEARNER")
    # Cut one voter off from the others: it loses its leader and stops being ready, but
    # stays alive, so a liveness probe would not restart it for a partition.
    lone = cluster3.members[0]
    for m in cluster3.members[1:]:
        m.pause()
    try:
        wait_until(lambda: probe(lone, "/readyz")[0] == 503, 30, "the cut-off member to become unready")
        assert probe(lone, "/readyz")[1] in ("RAFT NO LEADER", "QGET ERROR")
        assert probe(lone, "/livez") == (200, "")
    finally:
        for m in cluster3.members[1:]:
            m.resume()
    wait_until(lambda: probe(lone, "/readyz")[0] == 200, 30, "the member to be ready again")
