"""`etcdctl snapshot save` from one member, `cairn snapshot restore` into a new cluster."""
import subprocess

import pytest

from cluster import AGAINST, CAIRN_BIN, Cluster

pytestmark = pytest.mark.skipif(AGAINST == "etcd", reason="etcd restores with etcdctl/etcdutl, from bbolt files")


def restore(member, snapshot, *extra):
    cmd = [CAIRN_BIN, "snapshot", "restore", str(snapshot)] + list(extra) + member.command()[1:]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def saved_snapshot(member, tmp_path):
    lease = member.etcdctl("lease", "grant", "3600").stdout.split()[1]
    for i in range(100):
        member.etcdctl("put", "data/%03d" % i, "v%d" % i)
    member.etcdctl("put", "leased", "x", "--lease", lease)
    member.etcdctl("del", "data/000")
    path = tmp_path / "backup.db"
    member.etcdctl("snapshot", "save", str(path))
    return path, lease


def test_restore_a_snapshot_into_a_new_three_member_cluster(member, tmp_path):
    snapshot, lease = saved_snapshot(member, tmp_path)
    before = member.etcdctl_json("get", "", "--prefix")
    revision = before["header"]["revision"]
    hash_before = member.etcdctl_json("endpoint", "hashkv", "--rev", str(revision))[0]["HashKV"]["hash"]

    c = Cluster(tmp_path / "restored", size=3, extra_args=["--initial-cluster-token", "restored"])
    for m in c.members:
        r = restore(m, snapshot)
        assert r.returncode == 0, r.stderr
    c.start()
    try:
        leader = c.leader()
        after = leader.etcdctl_json("get", "", "--prefix")
        assert after["header"]["revision"] == revision
        assert after["kvs"] == before["kvs"]
        assert after["header"]["cluster_id"] != before["header"]["cluster_id"]
        for m in c.members:
            assert m.etcdctl_json("endpoint", "hashkv", "--rev", str(revision))[0]["HashKV"]["hash"] == hash_before
        members = leader.etcdctl_json("member", "list")["members"]
        assert sorted(x["name"] for x in members) == ["m0", "m1", "m2"]
        ttl = leader.etcdctl_json("lease", "timetolive", lease, "--keys")
        assert ttl["ttl"] > 0 and [k for k in ttl.get("keys", [])]
        follower = next(m for m in c.members if m is not leader)
        follower.etcdctl("put", "after", "restore")
        assert leader.etcdctl_json("get", "after")["kvs"][0]["mod_revision"] == revision + 1
    finally:
        c.stop()


def test_restore_refuses_a_corrupt_file_and_an_existing_data_dir(member, tmp_path):
    snapshot, _ = saved_snapshot(member, tmp_path)
    target = Cluster(tmp_path / "restored", size=1).members[0]
    corrupt = tmp_path / "corrupt.db"
    raw = bytearray(snapshot.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(raw))
    r = restore(target, corrupt)
    assert r.returncode != 0
    assert "integrity check" in r.stderr
    r = restore(target, snapshot)
    assert r.returncode == 0, r.stderr
    r = restore(target, snapshot)
    assert r.returncode != 0
    assert "exists" in r.stderr
    # A store copied without the trailer restores with --skip-hash-check.
    plain = tmp_path / "plain.db"
    plain.write_bytes(snapshot.read_bytes()[:-32])
    other = Cluster(tmp_path / "other", size=1).members[0]
    r = restore(other, plain, "--skip-hash-check")
    assert r.returncode == 0, r.stderr
    other.start()
    try:
        assert other.etcdctl("get", "data/099", "--print-value-only").stdout == "v99\n"
    finally:
        other.stop()
