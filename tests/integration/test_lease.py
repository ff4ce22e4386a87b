"""Leases through etcdctl 3.4 and python-etcd3: grant, attach keys, time-to-live,
list, keep-alive, revoke, expiry deleting the attached keys, the minimum TTL, and
leases surviving a restart."""
import re
import time

from conftest import CLEAN_EXIT


def grant(member, ttl):
    out = member.etcdctl("lease", "grant", str(ttl)).stdout
    m = re.match(r"lease ([0-9a-f]+) granted with TTL\((\d+)s\)", out)
    assert m, out
    return m.group(1), int(m.group(2))


def test_grant_attach_timetolive_list_keepalive_revoke(member):
    lease, ttl = grant(member, 60)
    assert ttl == 60
    member.etcdctl("put", "--lease=" + lease, "leased/a", "1")
    member.etcdctl("put", "--lease=" + lease, "leased/b", "2")
    out = member.etcdctl("lease", "timetolive", lease, "--keys").stdout
    m = re.match(r"lease %s granted with TTL\(60s\), remaining\((\d+)s\), attached keys\(\[(.*)\]\)" % lease, out)
    assert m, out
    assert 55 <= int(m.group(1)) <= 60
    assert sorted(m.group(2).split()) == ["leased/a", "leased/b"]
    assert lease in member.etcdctl("lease", "list").stdout.split()
    out = member.etcdctl("lease", "keep-alive", "--once", lease).stdout
    assert "lease %s keepalived with TTL(60)" % lease in out
    rev_before = member.etcdctl_json("get", "x")["header"]["revision"]
    assert member.etcdctl("lease", "revoke", lease).stdout.strip() == "lease %s revoked" % lease
    assert member.etcdctl_json("get", "--prefix", "leased/").get("count", 0) == 0
    # Both keys went in one revision.
    assert member.etcdctl_json("get", "x")["header"]["revision"] == rev_before + 1
    assert "already expired" in member.etcdctl("lease", "timetolive", lease).stdout
    r = member.etcdctl("lease", "revoke", lease, check=False)
    assert r.returncode != 0 and "etcdserver: requested lease not found" in r.stderr


def test_put_with_unknown_lease_fails(member):
    r = member.etcdctl("put", "--lease=1234abcd", "k", "v", check=False)
    assert r.returncode != 0 and "etcdserver: requested lease not found" in r.stderr


def test_expiry_deletes_attached_keys_and_min_ttl_applies(member):
    lease, ttl = grant(member, 1)
    assert ttl == 2  # etcd's minimum: 1.5 election timeouts (1 s default) rounded up
    member.etcdctl("put", "--lease=" + lease, "ephemeral", "v")
    member.etcdctl("put", "durable", "v")
    deadline = time.time() + 10
    while time.time() < deadline and member.etcdctl_json("get", "ephemeral").get("count", 0) == 1:
        time.sleep(0.2)
    assert member.etcdctl_json("get", "ephemeral").get("count", 0) == 0, "leased key outlived its lease"
    assert member.etcdctl_json("get", "durable")["count"] == 1
    assert "already expired" in member.etcdctl("lease", "timetolive", lease).stdout


def test_keepalive_keeps_a_lease_alive_past_its_ttl(member):
    c = member.client()
    lease = c.lease(2)
    c.put("kept", "v", lease=lease)
    for _ in range(8):  # 4 s: twice the TTL
        lease.refresh()
        time.sleep(0.5)
    assert c.get("kept")[0] == b"v"
    assert lease.remaining_ttl >= 1
    assert [k for k in lease.keys] == [b"kept"]
    lease.revoke()
    assert c.get("kept") == (None, None)


def test_lease_and_attached_keys_survive_restart(member):
    lease, _ = grant(member, 120)
    member.etcdctl("put", "--lease=" + lease, "survivor", "v")
    assert member.stop() in CLEAN_EXIT
    member.start()
    out = member.etcdctl("lease", "timetolive", lease, "--keys").stdout
    assert "attached keys([survivor])" in out, out
    member.etcdctl("lease", "revoke", lease)
    assert member.etcdctl_json("get", "survivor").get("count", 0) == 0
