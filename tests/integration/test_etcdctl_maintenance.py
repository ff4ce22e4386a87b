"""Maintenance with etcdctl: snapshot save, defrag, and the backend quota."""
import hashlib
import sqlite3

import pytest

from cluster import AGAINST, Cluster, Member
from conftest import CLEAN_EXIT


def db_size(member):
    return member.status()["dbSize"]


def test_snapshot_save_streams_a_consistent_copy_with_its_sha256(member, tmp_path):
    for i in range(300):
        member.etcdctl("put", "snap/%03d" % i, "value-%d" % i)
    member.etcdctl("del", "snap/000")
    path = tmp_path / "backup.db"
    out = member.etcdctl("snapshot", "save", str(path)).stdout
    assert "Snapshot saved at %s" % path in out
    raw = path.read_bytes()
    data, digest = raw[:-32], raw[-32:]
    assert hashlib.sha256(data).digest() == digest
    if AGAINST == "etcd":
        return  # etcd's file is a bbolt database
    copy = tmp_path / "copy.db"
    copy.write_bytes(data)
    db = sqlite3.connect(str(copy))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = {bytes(k): bytes(v) for k, v in db.execute("SELECT key, value FROM kv_revisions")}
    assert rows[b"snap/299"] == b"value-299"
    assert len([k for k in rows if k.startswith(b"snap/")]) == 300
    revision = member.etcdctl_json("get", "snap/299")["header"]["revision"]
    assert db.execute("SELECT MAX(main) FROM kv_revisions").fetchone()[0] == revision
    db.close()
    # The copy is gone from the data dir once streamed.
    assert not list((tmp_path / "data").rglob("client-*.db"))


def test_defrag_gives_back_the_space_of_compacted_revisions(member):
    value = "x" * 8192
    for i in range(400):
        member.etcdctl("put", "big/%03d" % (i % 20), value)
    member.etcdctl("put", "keep", "me")
    rev = member.etcdctl_json("get", "keep")["header"]["revision"]
    member.etcdctl("compaction", "--physical", str(rev))
    before = db_size(member)
    out = member.etcdctl("defrag").stdout
    assert "Finished defragmenting etcd member[%s]" % member.endpoint in out
    after = db_size(member)
    # 400 values of 8 KiB, 20 of them live: most of the file was free pages.
    assert before > 3 * 1024 * 1024
    assert after < before / 3, (before, after)
    assert member.etcdctl("get", "keep", "--print-value-only").stdout == "me\n"
    assert len(member.etcdctl_json("get", "big/", "--prefix")["kvs"]) == 20
    member.etcdctl("put", "after", "defrag")
    assert member.etcdctl("get", "after", "--print-value-only").stdout == "defrag\n"


def test_defrag_survives_restart(member):
    for i in range(200):
        member.etcdctl("put", "k%03d" % i, "v" * 2000)
    member.etcdctl("del", "k", "--prefix")
    member.etcdctl("put", "k", "last")
    rev = member.etcdctl_json("get", "k")["header"]["revision"]
    member.etcdctl("compaction", "--physical", str(rev))
    member.etcdctl("defrag")
    assert member.stop() in CLEAN_EXIT
    member.start()
    resp = member.etcdctl_json("get", "k")
    assert resp["header"]["revision"] == rev
    assert member.etcdctl("get", "k", "--print-value-only").stdout == "last\n"


@pytest.fixture
def small_quota_member(tmp_path):
    m = Member(tmp_path / "data", extra_args=["--quota-backend-bytes", str(512 * 1024)]).start()
    yield m
    assert m.stop() in CLEAN_EXIT


def fill_until_no_space(m):
    written = []
    for i in range(2000):
        r = m.etcdctl("put", "fill/%04d" % i, "q" * 4096, check=False)
        if r.returncode != 0:
            return written, r.stderr
        written.append("fill/%04d" % i)
    raise AssertionError("2000 puts of 4 KiB fit in a 512 KiB quota")


def count(m, prefix):
    return m.etcdctl_json("get", prefix, "--prefix", "--keys-only").get("count", 0)


def test_quota_raises_nospace_which_holds_until_disarmed(small_quota_member):
    m = small_quota_member
    written, error = fill_until_no_space(m)
    assert "etcdserver: mvcc: database space exceeded" in error
    assert len(written) > 10
    assert "alarm:NOSPACE" in m.etcdctl("alarm", "list").stdout
    assert any("alarm:NOSPACE" in e for e in m.status().get("errors", []))
    # Nothing acknowledged is lost; reads and deletes still work; writes and lease
    # grants are refused.
    assert count(m, "fill/") == len(written)
    m.etcdctl("del", "fill/", "--prefix")
    assert count(m, "fill/") == 0
    assert "database space exceeded" in m.etcdctl("put", "k", "v", check=False).stderr
    assert "database space exceeded" in m.etcdctl("lease", "grant", "60", check=False).stderr
    txn = m.etcdctl("txn", input="\n\nput k v\n\n", check=False)
    assert "database space exceeded" in txn.stderr
    # The alarm survives a restart.
    assert m.stop() in CLEAN_EXIT
    m.start()
    assert "alarm:NOSPACE" in m.etcdctl("alarm", "list").stdout
    # etcd's runbook: compact, defragment, disarm.
    rev = m.etcdctl_json("get", "k")["header"]["revision"]
    m.etcdctl("compaction", "--physical", str(rev))
    m.etcdctl("defrag")
    assert "database space exceeded" in m.etcdctl("put", "k", "v", check=False).stderr
    assert "alarm:NOSPACE" in m.etcdctl("alarm", "disarm").stdout
    assert m.etcdctl("alarm", "list").stdout.strip() == ""
    m.etcdctl("put", "k", "v")
    assert m.etcdctl("get", "k", "--print-value-only").stdout == "v\n"


def test_an_alarm_raised_on_one_member_caps_the_whole_cluster(tmp_path):
    c = Cluster(tmp_path, size=3, extra_args=["--quota-backend-bytes", str(512 * 1024)]).start()
    try:
        leader = c.leader()
        followers = [m for m in c.members if m is not leader]
        written, error = fill_until_no_space(followers[0])
        assert "database space exceeded" in error
        raised_by = followers[0].member_id()
        for m in c.members:
            alarms = m.etcdctl("alarm", "list").stdout
            assert "alarm:NOSPACE" in alarms
            assert "memberID:%d " % raised_by in alarms or AGAINST == "etcd"
            assert "database space exceeded" in m.etcdctl("put", "k", "v", check=False).stderr
        assert count(leader, "fill/") == len(written)
        followers[1].etcdctl("del", "fill/", "--prefix")
        rev = leader.etcdctl_json("get", "k")["header"]["revision"]
        leader.etcdctl("compaction", "--physical", str(rev))
        for m in c.members:
            m.etcdctl("defrag")
        followers[1].etcdctl("alarm", "disarm")
        for m in c.members:
            assert m.etcdctl("alarm", "list").stdout.strip() == ""
        followers[0].etcdctl("put", "k", "v")
        assert leader.etcdctl("get", "k", "--print-value-only").stdout == "v\n"
    finally:
        c.stop()


def test_periodic_auto_compaction_keeps_only_the_retained_history(tmp_path):
    import time
    m = Member(tmp_path / "data", extra_args=["--auto-compaction-mode", "periodic",
                                              "--auto-compaction-retention", "2s"]).start()
    try:
        m.etcdctl("put", "k", "0")
        first = m.etcdctl_json("get", "k")["header"]["revision"]
        deadline = time.time() + 20
        compacted = False
        i = 0
        while time.time() < deadline and not compacted:
            i += 1
            m.etcdctl("put", "k", str(i))
            r = m.etcdctl("get", "k", "--rev", str(first), check=False)
            compacted = "required revision has been compacted" in r.stderr
        assert compacted, "history older than the retention was never compacted"
        # The retained history (about 2 s) is still readable.
        latest = m.etcdctl_json("get", "k")["header"]["revision"]
        assert m.etcdctl("get", "k", "--rev", str(latest - 1), "--print-value-only").returncode == 0
    finally:
        assert m.stop() in CLEAN_EXIT
