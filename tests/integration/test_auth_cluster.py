"""Auth across members: tokens issued by one member work on the others, permission
changes made through one member are enforced by all, a leader change keeps every check
in place, and a snapshot restored into a new cluster keeps users and roles."""
import json
import subprocess

import pytest

from cluster import AGAINST, CAIRN_BIN, Cluster, Member, free_port, wait_until
from test_auth import FAST, ROOT, add_user, authenticate, enable_auth, fails, user_with_role

U = ("--user", "u:pw")


def check_enforced(member):
    member.etcdctl(*U, "put", "l/x", member.name)
    assert member.etcdctl(*U, "get", "l/x", "--print-value-only").stdout == member.name + "\n"
    assert "etcdserver: permission denied" in fails(member, *U, "put", "other", "v")
    assert "etcdserver: permission denied" in fails(member, *U, "get", "other")
    assert "etcdserver: user name is empty" in fails(member, "get", "l/x")
    member.etcdctl(*ROOT, "put", "other", member.name)


def test_three_members_enforce_the_same_rules_across_a_leader_change(tmp_path):
    from etcd3 import etcdrpc
    from test_auth import py_client
    c = Cluster(tmp_path, size=3, extra_args=FAST).start()
    try:
        m0, m1, m2 = c.members
        user_with_role(m0, "u", "pw", "r", "readwrite", "l/", "--prefix")
        enable_auth(m0)
        for m in c.members:
            check_enforced(m)
        # A token issued by one member works on another: Authenticate went through the log.
        token = authenticate(m1, "u", "pw")
        etcdrpc.KVStub(py_client(m2).channel).Put(etcdrpc.PutRequest(key=b"l/t", value=b"1"), timeout=10,
                                                  metadata=[("token", token)])
        # A revoke through one member is enforced by the others at once.
        m2.etcdctl(*ROOT, "role", "revoke-permission", "r", "l/", "--prefix")
        for m in c.members:
            assert "etcdserver: permission denied" in fails(m, *U, "put", "l/x", "v")
        m0.etcdctl(*ROOT, "role", "grant-permission", "r", "readwrite", "l/", "--prefix")
        leader = c.leader()
        leader.kill()
        rest = [m for m in c.members if m is not leader]
        c.leader(among=rest)
        for m in rest:
            check_enforced(m)
    finally:
        c.stop()


@pytest.mark.skipif(AGAINST == "etcd", reason="etcd restores with etcdctl/etcdutl, from bbolt files")
def test_a_restored_snapshot_keeps_users_roles_and_auth(tmp_path):
    m = Member(tmp_path / "data", extra_args=FAST).start()
    try:
        user_with_role(m, "u", "pw", "r", "readwrite", "l/", "--prefix")
        enable_auth(m)
        m.etcdctl(*U, "put", "l/x", "before")
        snapshot = tmp_path / "backup.db"
        m.etcdctl(*ROOT, "snapshot", "save", str(snapshot))
    finally:
        m.stop()
    restored = Member(tmp_path / "restored", name="r0", extra_args=FAST)
    r = subprocess.run([CAIRN_BIN, "snapshot", "restore", str(snapshot)] + restored.command()[1:],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    restored.etcdctl_args = list(ROOT)  # the readiness probe needs a user: auth is on
    restored.start()
    restored.etcdctl_args = []
    try:
        assert restored.etcdctl(*U, "get", "l/x", "--print-value-only").stdout == "before\n"
        restored.name = "restored"
        check_enforced(restored)
        assert restored.etcdctl(*ROOT, "user", "list").stdout == "root\nu\n"
    finally:
        restored.stop()


def test_member_changes_through_a_follower_are_authorized_there(tmp_path):
    """A follower checks the caller's root role itself and has the leader carry the
    change out: the caller's simple token is valid only on the member that issued it, so
    it must not have to travel (etcd proposes the change on the member asked)."""
    c = Cluster(tmp_path, size=3, extra_args=FAST).start()
    try:
        enable_auth(c.members[0])
        add_user(c.members[0], "u", "pw")
        leader = c.leader()
        follower = next(m for m in c.members if m is not leader)
        url = "http://127.0.0.1:%d" % free_port()

        def add():
            r = follower.etcdctl(*ROOT, "-w", "json", "member", "add", "l1", "--learner", "--peer-urls", url,
                                 check=False)
            # etcd refuses changes until its leader has heard from its peers for a while.
            assert r.returncode == 0 or "etcdserver: unhealthy cluster" in r.stderr, r.stderr
            return r.returncode == 0 and r
        member_id = json.loads(wait_until(add, 15, "the learner's addition").stdout)["member"]["ID"]
        listed = follower.etcdctl(*ROOT, "member", "list").stdout
        assert url in listed, listed
        assert "etcdserver: user name is empty" in fails(follower, "member", "remove", "%x" % member_id)
        assert "etcdserver: permission denied" in fails(follower, "--user", "u:pw", "member", "remove",
                                                        "%x" % member_id)
        follower.etcdctl(*ROOT, "member", "remove", "%x" % member_id)
        assert url not in leader.etcdctl(*ROOT, "member", "list").stdout
    finally:
        c.stop()
