"""Auth on the calls beyond KV: leases (revoke, time-to-live and puts that attach keys to
a lease), Maintenance and Cluster calls that need the root role, Compact, the server-side
Lock and Election services, and the HTTP/JSON gateway (Authorization header,
/v3/auth/authenticate). Run against etcd 3.4 too (CAIRN_TEST_AGAINST=etcd)."""
import base64
import json
import urllib.error
import urllib.request

import grpc
import pytest

from cluster import AGAINST, Member
from test_auth import FAST, ROOT, authenticate, enable_auth, fails, py_client, raw_error, user_with_role

DENIED = (grpc.StatusCode.PERMISSION_DENIED, "etcdserver: permission denied")


@pytest.fixture(scope="module")
def member(tmp_path_factory):
    m = Member(tmp_path_factory.mktemp("calls") / "data", extra_args=FAST).start()
    user_with_role(m, "u", "pw", "r", "readwrite", "l/", "--prefix")
    enable_auth(m)
    yield m
    m.stop()


def b64(s):
    return base64.b64encode(s.encode()).decode()


def http(member, path, body, token=None):
    req = urllib.request.Request("http://%s%s" % (member.endpoint, path), data=json.dumps(body).encode(),
                                 method="POST")
    if token is not None:
        req.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_leases_need_write_on_every_attached_key(member):
    from etcd3 import etcdrpc
    lease = etcdrpc.LeaseStub(py_client(member).channel)
    kv = etcdrpc.KVStub(py_client(member).channel)
    root, user = authenticate(member, "root", "rootpw"), authenticate(member, "u", "pw")
    md = lambda token: [("token", token)]  # noqa: E731
    secret = lease.LeaseGrant(etcdrpc.LeaseGrantRequest(TTL=300), timeout=10, metadata=md(user)).ID
    kv.Put(etcdrpc.PutRequest(key=b"secret", value=b"s", lease=secret), timeout=10, metadata=md(root))
    mine = lease.LeaseGrant(etcdrpc.LeaseGrantRequest(TTL=300), timeout=10, metadata=md(user)).ID
    kv.Put(etcdrpc.PutRequest(key=b"l/a", value=b"a", lease=mine), timeout=10, metadata=md(user))
    # Attaching a key to a lease that holds a key the user may not write is refused.
    assert raw_error(kv.Put, etcdrpc.PutRequest(key=b"l/b", value=b"b", lease=secret), user) == DENIED
    assert raw_error(lease.LeaseRevoke, etcdrpc.LeaseRevokeRequest(ID=secret), user) == DENIED
    if AGAINST != "etcd":
        # etcd checks LeaseTimeToLive's keys only from 3.4.26 / 3.5.9 on.
        assert raw_error(lease.LeaseTimeToLive, etcdrpc.LeaseTimeToLiveRequest(ID=secret, keys=True), user) == DENIED
    ttl = lease.LeaseTimeToLive(etcdrpc.LeaseTimeToLiveRequest(ID=mine, keys=True), timeout=10, metadata=md(user))
    assert list(ttl.keys) == [b"l/a"]
    lease.LeaseRevoke(etcdrpc.LeaseRevokeRequest(ID=mine), timeout=10, metadata=md(user))
    assert member.etcdctl(*ROOT, "get", "l/a").stdout == ""
    lease.LeaseRevoke(etcdrpc.LeaseRevokeRequest(ID=secret), timeout=10, metadata=md(root))
    assert member.etcdctl(*ROOT, "get", "secret").stdout == ""


def test_maintenance_and_membership_changes_need_root(member, tmp_path):
    u = ("--user", "u:pw")
    # etcd 3.4's Maintenance service answers with its auth store's own errors.
    for args in (["defrag"], ["snapshot", "save", str(tmp_path / "s.db")], ["endpoint", "hashkv"]):
        assert "code = Unknown desc = auth: permission denied" in fails(member, *u, *args), args
        assert "code = Unknown desc = auth: user name is empty" in fails(member, *args), args
    for args in (["member", "add", "x", "--peer-urls", "http://127.0.0.1:1"], ["member", "remove", "1234"],
                 ["member", "update", "1234", "--peer-urls", "http://127.0.0.1:2"]):
        assert "Error: etcdserver: permission denied" in fails(member, *u, *args), args
        assert "Error: etcdserver: user name is empty" in fails(member, *args), args
    # Open to every user: the status of the member, its alarms, the member list.
    assert member.etcdctl(*u, "endpoint", "status").returncode == 0
    assert member.etcdctl(*u, "alarm", "list").returncode == 0
    assert member.etcdctl(*u, "member", "list").returncode == 0
    member.etcdctl(*ROOT, "defrag")
    member.etcdctl(*ROOT, "snapshot", "save", str(tmp_path / "root.db"))
    member.etcdctl(*ROOT, "endpoint", "hashkv")


def test_compact_is_open_to_every_caller_as_in_etcd_3_4(member):
    for user in (["--user", "u:pw"], []):
        rev = json.loads(member.etcdctl(*ROOT, "put", "l/c", "1", "-w", "json").stdout)["header"]["revision"]
        assert member.etcdctl(*user, "compact", str(rev)).stdout == "compacted revision %d\n" % rev


def test_gateway_takes_the_token_in_the_authorization_header(member):
    status, body = http(member, "/v3/auth/authenticate", {"name": "u", "password": "pw"})
    assert status == 200
    token = body["token"]
    assert http(member, "/v3/kv/put", {"key": b64("l/gw"), "value": b64("v")}, token)[0] == 200
    status, body = http(member, "/v3/kv/range", {"key": b64("l/gw")}, token)
    assert status == 200 and body["kvs"][0]["value"] == b64("v")
    status, body = http(member, "/v3/kv/put", {"key": b64("other"), "value": b64("v")}, token)
    assert (status, body["code"], body["error"]) == (403, 7, "etcdserver: permission denied")
    status, body = http(member, "/v3/kv/range", {"key": b64("l/gw")})
    assert (status, body["code"], body["error"]) == (400, 3, "etcdserver: user name is empty")
    status, body = http(member, "/v3/kv/range", {"key": b64("l/gw")}, "bogus.1")
    assert (status, body["code"], body["error"]) == (401, 16, "etcdserver: invalid auth token")
    if AGAINST != "etcd":  # AuthStatus came with etcd 3.5
        status, body = http(member, "/v3/auth/status", {}, token)
        assert status == 200 and body["enabled"] is True and int(body["authRevision"]) > 1
    status, body = http(member, "/v3/auth/authenticate", {"name": "u", "password": "nope"})
    assert (status, body["error"]) == (400, "etcdserver: authentication failed, invalid user ID or password")


def test_lock_and_election_need_permission_on_their_keys(member):
    token = authenticate(member, "u", "pw")
    lease = http(member, "/v3/lease/grant", {"TTL": 60}, token)[1]["ID"]
    status, body = http(member, "/v3/lock/lock", {"name": b64("l/lock"), "lease": lease}, token)
    assert status == 200 and base64.b64decode(body["key"]).decode().startswith("l/lock/")
    assert http(member, "/v3/lock/unlock", {"key": body["key"]}, token)[0] == 200
    # etcd 3.4's Lock and Election services report their KV errors with code Unknown.
    denied = (500, 2, "etcdserver: permission denied")
    status, body = http(member, "/v3/lock/lock", {"name": b64("elsewhere"), "lease": lease}, token)
    assert (status, body["code"], body["error"]) == denied
    status, body = http(member, "/v3/lock/lock", {"name": b64("l/lock"), "lease": lease})
    assert (status, body["code"], body["error"]) == (500, 2, "etcdserver: user name is empty")
    status, body = http(member, "/v3/election/campaign", {"name": b64("l/el"), "lease": lease, "value": b64("me")},
                        token)
    assert status == 200
    status, body = http(member, "/v3/election/leader", {"name": b64("l/el")}, token)
    assert status == 200 and body["kv"]["value"] == b64("me")
    status, body = http(member, "/v3/election/campaign", {"name": b64("top"), "lease": lease, "value": b64("me")},
                        token)
    assert (status, body["code"], body["error"]) == denied
    status, body = http(member, "/v3/election/leader", {"name": b64("top")}, token)
    assert (status, body["code"], body["error"]) == denied
