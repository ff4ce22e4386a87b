"""Members too far behind for the leader's log catch up through a snapshot of the
store: a learner added to a cluster that has compacted its log, and a member that was
down while the log moved on. Small --snapshot-count and
--experimental-snapshot-catchup-entries make compaction happen quickly; the data is
compared across members with etcdctl endpoint hashkv.
"""
import json
import os
import threading
import time

import pytest

from cluster import Cluster, Member, wait_until

FLAGS = ["--snapshot-count", "20", "--experimental-snapshot-catchup-entries", "5"]
TOTAL_KEYS = int(os.environ.get("CAIRN_SNAPSHOT_TEST_KEYS", "20000"))


@pytest.fixture
def cluster3(tmp_path):
    c = Cluster(tmp_path, size=3, extra_args=FLAGS).start()
    c.leader()
    yield c
    for m in getattr(c, "extra", []):
        m.kill()
    c.stop()


def write_keys(member, first, count, prefix="key"):
    """`count` keys in transactions of 100 puts (python-etcd3)."""
    client = member.client()
    for start in range(first, first + count, 100):
        ops = [client.transactions.put("%s-%07d" % (prefix, i), "value-%d" % i)
               for i in range(start, min(start + 100, first + count))]
        for attempt in range(20):
            try:
                client.transaction(compare=[], success=ops, failure=[])
                break
            except Exception:
                if attempt == 19:
                    raise
                time.sleep(0.2)


def revision(member):
    return member.etcdctl_json("get", "none", "--consistency=s")["header"]["revision"]


def hashes(members):
    """endpoint hashkv of every member at one revision."""
    rev = revision(members[0])
    out = {}
    for m in members:
        r = m.etcdctl_json("endpoint", "hashkv", "--rev", str(rev))
        out[m.name] = r[0]["HashKV"]["hash"]
    return out


def test_learner_catches_up_through_a_snapshot_is_promoted_and_data_is_identical(cluster3, tmp_path):
    leader = cluster3.leader()
    learner = Member(os.path.join(str(tmp_path), "learner"), name="learner", extra_args=list(FLAGS))
    cluster3.extra = [learner]
    out = leader.etcdctl("member", "add", "learner", "--learner", "--peer-urls", learner.peer_url).stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if line.startswith("ETCD_"))
    learner.initial_cluster = env["ETCD_INITIAL_CLUSTER"].strip('"')
    learner.extra_args += ["--initial-cluster-state", "existing"]
    # The log moves far past what the leader keeps before the learner even starts.
    write_keys(leader, 0, TOTAL_KEYS // 2)
    learner.start(wait=False)
    # ... and keeps moving while it catches up.
    writer = threading.Thread(target=write_keys, args=(leader, TOTAL_KEYS // 2, TOTAL_KEYS // 2))
    writer.start()
    writer.join()
    target = revision(leader)
    wait_until(lambda: revision(learner) >= target, 60, "the learner to reach revision %d" % target)
    assert "sending a snapshot" in open(leader.log_path).read() or any(
        "sending a snapshot" in open(m.log_path).read() for m in cluster3.members)
    learner_id = next(m["ID"] for m in leader.etcdctl_json("member", "list")["members"] if m.get("isLearner"))
    wait_until(lambda: leader.etcdctl("member", "promote", "%x" % learner_id, check=False).returncode == 0,
               30, "the promotion")
    victim = next(m for m in cluster3.members if m is not leader)
    leader.etcdctl("member", "remove", "%x" % victim.member_id())
    victim.kill()
    survivors = [leader, learner] + [m for m in cluster3.members if m not in (leader, victim)]
    leader.etcdctl("put", "after-changes", "1")
    wait_until(lambda: len({revision(m) for m in survivors}) == 1, 30, "every member at one revision")
    assert len(set(hashes(survivors).values())) == 1, hashes(survivors)
    count = json.loads(learner.etcdctl("get", "key-", "--prefix", "--keys-only", "--consistency=s", "-w", "json",
                                       "--limit", "1").stdout)["count"]
    assert count == TOTAL_KEYS


def test_member_down_while_the_log_was_compacted_rejoins_through_a_snapshot(cluster3):
    leader = cluster3.leader()
    down = next(m for m in cluster3.members if m is not leader)
    down.stop()
    write_keys(leader, 0, 3000, prefix="while-down")
    down.start()
    target = revision(leader)
    wait_until(lambda: revision(down) >= target, 30, "the member to catch up")
    assert "installed a snapshot of the store" in open(down.log_path).read()
    # Restarted after the install it starts from the snapshot, and keeps following.
    down.stop()
    down.start()
    leader.etcdctl("put", "later", "1")
    wait_until(lambda: down.etcdctl("get", "later", "--consistency=s").stdout.strip(), 15, "replication")
    assert len(set(hashes(cluster3.members).values())) == 1
