"""Authentication and role-based access, driven by etcdctl 3.4's `user`, `role` and `auth`
subcommands, `--user`, and python-etcd3 with user and password, against real server
processes. Every expectation holds for etcd 3.4 too (CAIRN_TEST_AGAINST=etcd), except
where a test says it checks something etcd 3.4 lacks."""
import json
import subprocess
import threading
import time

import grpc
import pytest

from cluster import AGAINST, Member
from test_tls import Pki, tls_member

ROOT = ("--user", "root:rootpw")


def fails(member, *args):
    r = member.etcdctl(*args, check=False)
    assert r.returncode != 0, "expected %s to fail, got %r" % (args, r.stdout)
    return r.stderr.strip()


def enable_auth(member):
    member.etcdctl("user", "add", "root:rootpw", "--interactive=false")
    # etcdctl grants root the root role itself when AuthEnable says it lacks it.
    assert member.etcdctl("auth", "enable").stdout.strip() == "Authentication Enabled"


def user_with_role(member, user, password, role, perm, key, *flags):
    """Before auth is on: `role` granted `perm` on `key` (etcdctl's flags), held by `user`."""
    member.etcdctl("role", "add", role)
    member.etcdctl("role", "grant-permission", role, perm, key, *flags)
    member.etcdctl("user", "add", "%s:%s" % (user, password), "--interactive=false")
    member.etcdctl("user", "grant-role", user, role)


def add_user(member, name, password, *roles):
    member.etcdctl(*ROOT, "user", "add", "%s:%s" % (name, password), "--interactive=false")
    for role in roles:
        member.etcdctl(*ROOT, "user", "grant-role", name, role)


# A low bcrypt cost keeps each user add and authenticate quick (etcd has the flag too).
FAST = ["--bcrypt-cost", "4"]


@pytest.fixture
def fast_member(tmp_path):
    m = Member(tmp_path / "data", extra_args=FAST).start()
    yield m
    m.stop()


@pytest.fixture
def tls_fast_member(tmp_path):
    """python-etcd3 sends its token as call credentials, which gRPC only sends over TLS."""
    pki = Pki(tmp_path / "pki")
    m = tls_member(tmp_path, pki)
    m.extra_args += FAST
    m.start()
    m.ca = pki.ca
    yield m
    m.stop()


def py_client(member, **kwargs):
    import etcd3
    return etcd3.client(host="127.0.0.1", port=member.port, timeout=10, ca_cert=getattr(member, "ca", None), **kwargs)


def authenticate(member, name, password):
    from etcd3 import etcdrpc
    stub = etcdrpc.AuthStub(py_client(member).channel)
    return stub.Authenticate(etcdrpc.AuthenticateRequest(name=name, password=password), timeout=10).token


def raw_error(call, request, token):
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=10, metadata=[("token", token)])
    return err.value.code(), err.value.details()


def test_auth_enable_needs_root_and_then_every_call_needs_a_user(fast_member):
    m = fast_member
    assert "etcdserver: root user does not exist" in fails(m, "auth", "enable")
    m.etcdctl("put", "k", "v")
    enable_auth(m)
    assert "etcdserver: user name is empty" in fails(m, "get", "k")
    assert "etcdserver: user name is empty" in fails(m, "put", "k", "v2")
    assert "authentication failed, invalid user ID or password" in fails(m, "--user", "root:wrong", "get", "k")
    assert "authentication failed, invalid user ID or password" in fails(m, "--user", "nobody:x", "get", "k")
    assert m.etcdctl(*ROOT, "get", "k", "--print-value-only").stdout == "v\n"
    assert m.etcdctl(*ROOT, "user", "get", "root").stdout == "User: root\nRoles: root\n"
    assert m.etcdctl(*ROOT, "role", "list").stdout == "root\n"
    assert m.etcdctl(*ROOT, "auth", "disable").stdout.strip() == "Authentication Disabled"
    assert m.etcdctl("get", "k", "--print-value-only").stdout == "v\n"


def test_user_and_role_subcommands(fast_member):
    m = fast_member
    assert m.etcdctl("role", "add", "reader").stdout == "Role reader created\n"
    m.etcdctl("role", "add", "writer")
    assert m.etcdctl("role", "grant-permission", "reader", "read", "a", "c").stdout == \
        "Role reader updated\n"
    m.etcdctl("role", "grant-permission", "reader", "readwrite", "pre/", "--prefix")
    m.etcdctl("role", "grant-permission", "writer", "write", "x", "--from-key")
    m.etcdctl("role", "grant-permission", "writer", "write", "single")
    assert m.etcdctl("role", "get", "reader").stdout == (
        "Role reader\nKV Read:\n\t[a, c)\n\t[pre/, pre0) (prefix pre/)\nKV Write:\n"
        "\t[pre/, pre0) (prefix pre/)\n")
    assert m.etcdctl("role", "get", "writer").stdout == (
        "Role writer\nKV Read:\nKV Write:\n\tsingle\n\t[x, <open ended>\n")
    assert m.etcdctl("role", "list").stdout == "reader\nwriter\n"
    assert m.etcdctl("user", "add", "alice:pw", "--interactive=false").stdout == "User alice created\n"
    m.etcdctl("user", "add", "bob", "--new-user-password", "pw2", "--interactive=false")
    assert m.etcdctl("user", "grant-role", "alice", "writer").stdout == "Role writer is granted to user alice\n"
    m.etcdctl("user", "grant-role", "alice", "reader")
    assert m.etcdctl("user", "get", "alice").stdout == "User: alice\nRoles: reader writer\n"
    assert m.etcdctl("user", "get", "alice", "--detail").stdout.startswith("User: alice\n")
    assert m.etcdctl("user", "list").stdout == "alice\nbob\n"
    assert m.etcdctl("user", "revoke-role", "alice", "writer").stdout == "Role writer is revoked from user alice\n"
    assert m.etcdctl("user", "get", "alice").stdout == "User: alice\nRoles: reader\n"
    assert m.etcdctl("role", "revoke-permission", "reader", "a", "c").stdout == \
        "Permission of range [a, c) is revoked from role reader\n"
    assert m.etcdctl("role", "revoke-permission", "reader", "pre/", "--prefix").stdout == \
        "Permission of range [pre/, pre0) is revoked from role reader\n"
    assert m.etcdctl("role", "revoke-permission", "writer", "single").stdout == \
        "Permission of key single is revoked from role writer\n"
    assert m.etcdctl("role", "revoke-permission", "writer", "x", "--from-key").stdout == \
        "Permission of range [x, <open ended> is revoked from role writer\n"
    assert m.etcdctl("user", "passwd", "bob", "--interactive=false", input="newpw\n").stdout == \
        "Password updated\n"
    assert m.etcdctl("role", "delete", "reader").stdout == "Role reader deleted\n"
    assert m.etcdctl("user", "get", "alice").stdout == "User: alice\nRoles:\n"  # 3.4 drops the deleted role
    assert m.etcdctl("user", "delete", "bob").stdout == "User bob deleted\n"
    assert m.etcdctl("user", "list").stdout == "alice\n"
    # A user without password exists for certificate authentication only.
    m.etcdctl("user", "add", "certuser", "--no-password")
    enable_auth(m)
    assert "code = Unknown desc = auth: authentication failed, password was given for no password user" in \
        fails(m, "--user", "certuser:anything", "get", "k")


def test_bad_input_gets_etcds_errors_and_changes_nothing(fast_member):
    m = fast_member
    m.etcdctl("user", "add", "alice:pw", "--interactive=false")
    m.etcdctl("role", "add", "r")
    m.etcdctl("role", "grant-permission", "r", "read", "k")
    assert "etcdserver: user name already exists" in fails(m, "user", "add", "alice:pw", "--interactive=false")
    assert "etcdserver: role name already exists" in fails(m, "role", "add", "r")
    assert "etcdserver: user name not found" in fails(m, "user", "get", "nobody")
    assert "etcdserver: user name not found" in fails(m, "user", "delete", "nobody")
    assert "etcdserver: user name not found" in fails(m, "user", "grant-role", "nobody", "r")
    assert "etcdserver: role name not found" in fails(m, "user", "grant-role", "alice", "nope")
    assert "etcdserver: role name not found" in fails(m, "role", "get", "nope")
    assert "etcdserver: role name not found" in fails(m, "role", "delete", "nope")
    assert "etcdserver: role name not found" in fails(m, "role", "grant-permission", "nope", "read", "k")
    assert "etcdserver: role is not granted to the user" in fails(m, "user", "revoke-role", "alice", "r")
    assert "etcdserver: permission is not granted to the role" in \
        fails(m, "role", "revoke-permission", "r", "other")
    assert m.etcdctl("auth", "disable").stdout.strip() == "Authentication Disabled"  # already off: no-op
    assert m.etcdctl("role", "get", "r").stdout == "Role r\nKV Read:\n\tk\nKV Write:\n"
    assert m.etcdctl("user", "get", "alice").stdout == "User: alice\nRoles:\n"
    enable_auth(m)
    assert "etcdserver: invalid auth management" in fails(m, *ROOT, "user", "delete", "root")
    assert "etcdserver: invalid auth management" in fails(m, *ROOT, "user", "revoke-role", "root", "root")
    assert "etcdserver: invalid auth management" in fails(m, *ROOT, "role", "delete", "root")
    add_user(m, "bob", "bobpw", "r")
    assert "etcdserver: permission denied" in fails(m, "--user", "bob:bobpw", "user", "add", "eve:x",
                                                    "--interactive=false")
    assert "etcdserver: permission denied" in fails(m, "--user", "bob:bobpw", "user", "list")
    assert "etcdserver: permission denied" in fails(m, "--user", "bob:bobpw", "role", "list")
    assert "etcdserver: permission denied" in fails(m, "--user", "bob:bobpw", "auth", "disable")
    # A user may read itself and its own roles, nothing else.
    assert m.etcdctl("--user", "bob:bobpw", "user", "get", "bob").stdout == "User: bob\nRoles: r\n"
    assert m.etcdctl("--user", "bob:bobpw", "role", "get", "r").stdout.startswith("Role r\n")
    assert "etcdserver: permission denied" in fails(m, "--user", "bob:bobpw", "user", "get", "alice")
    assert "etcdserver: permission denied" in fails(m, "--user", "bob:bobpw", "role", "get", "root")
    assert m.etcdctl(*ROOT, "user", "list").stdout == "alice\nbob\nroot\n"


def test_python_etcd3_with_user_and_password(tls_fast_member):
    m = tls_fast_member
    user_with_role(m, "svc", "svcpw", "app", "readwrite", "/app/", "--prefix")
    enable_auth(m)
    c = py_client(m, user="svc", password="svcpw")
    c.put("/app/a", "1")
    assert c.get("/app/a")[0] == b"1"
    assert [v for v, _ in c.get_prefix("/app/")] == [b"1"]
    with pytest.raises(grpc.RpcError) as err:
        c.put("/other", "x")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert err.value.details() == "etcdserver: permission denied"
    with pytest.raises(grpc.RpcError) as err:
        py_client(m, user="svc", password="wrong")
    assert err.value.details() == "etcdserver: authentication failed, invalid user ID or password"


def test_token_invalidated_by_password_change_and_role_revoke_applies_next_request(fast_member):
    from etcd3 import etcdrpc
    m = fast_member
    user_with_role(m, "u", "pw", "r", "readwrite", "k")
    enable_auth(m)
    kv = etcdrpc.KVStub(py_client(m).channel)
    token = authenticate(m, "u", "pw")
    kv.Put(etcdrpc.PutRequest(key=b"k", value=b"1"), timeout=10, metadata=[("token", token)])
    m.etcdctl(*ROOT, "role", "revoke-permission", "r", "k")
    assert raw_error(kv.Put, etcdrpc.PutRequest(key=b"k", value=b"2"), token) == \
        (grpc.StatusCode.PERMISSION_DENIED, "etcdserver: permission denied")
    assert raw_error(kv.Range, etcdrpc.RangeRequest(key=b"k"), token) == \
        (grpc.StatusCode.PERMISSION_DENIED, "etcdserver: permission denied")
    m.etcdctl(*ROOT, "role", "grant-permission", "r", "readwrite", "k")
    kv.Put(etcdrpc.PutRequest(key=b"k", value=b"3"), timeout=10, metadata=[("token", token)])
    m.etcdctl(*ROOT, "user", "passwd", "u", "--interactive=false", input="pw2\n")
    assert raw_error(kv.Range, etcdrpc.RangeRequest(key=b"k"), token) == \
        (grpc.StatusCode.UNAUTHENTICATED, "etcdserver: invalid auth token")
    assert raw_error(kv.Range, etcdrpc.RangeRequest(key=b"k"), "bogus.1")[1] == "etcdserver: invalid auth token"
    fresh = authenticate(m, "u", "pw2")
    kv.Range(etcdrpc.RangeRequest(key=b"k"), timeout=10, metadata=[("token", fresh)])
    m.etcdctl(*ROOT, "user", "delete", "u")
    assert raw_error(kv.Range, etcdrpc.RangeRequest(key=b"k"), fresh)[1] == "etcdserver: invalid auth token"


@pytest.mark.skipif(AGAINST == "etcd", reason="etcd 3.4.23 answers some of these puts with 'revision of auth store "
                                              "is old' (seen here), leaving the retry to clientv3")
def test_writes_racing_auth_changes_are_proposed_again_not_refused(fast_member):
    """A write is checked when applied, against the auth revision it was read at. One that
    a concurrent auth change overtook is proposed again by the member for as long as the
    call lives, so no client sees "revision of auth store is old" however fast another
    client changes the auth store."""
    from etcd3 import etcdrpc
    m = fast_member
    user_with_role(m, "u", "pw", "r", "readwrite", "k", "--prefix")
    enable_auth(m)
    root = authenticate(m, "root", "rootpw")
    token = authenticate(m, "u", "pw")
    kv = etcdrpc.KVStub(py_client(m).channel)
    auth = etcdrpc.AuthStub(py_client(m).channel)
    stop = threading.Event()
    changes = []

    def churn():
        n = 0
        while not stop.is_set():
            auth.RoleAdd(etcdrpc.AuthRoleAddRequest(name="churn-%d" % n), timeout=10, metadata=[("token", root)])
            auth.RoleDelete(etcdrpc.AuthRoleDeleteRequest(role="churn-%d" % n), timeout=10, metadata=[("token", root)])
            n += 1
        changes.append(2 * n)

    churner = threading.Thread(target=churn)
    churner.start()
    try:
        for i in range(300):
            kv.Put(etcdrpc.PutRequest(key=b"k%d" % i, value=b"v"), timeout=10, metadata=[("token", token)])
    finally:
        stop.set()
        churner.join()
    assert changes[0] > 100, "the auth store hardly changed while writing: nothing raced"
    r = kv.Range(etcdrpc.RangeRequest(key=b"k", range_end=b"l", count_only=True), timeout=10,
                 metadata=[("token", token)])
    assert r.count == 300


def test_tokens_expire_after_the_ttl_unused(tmp_path):
    from etcd3 import etcdrpc
    m = Member(tmp_path / "data", extra_args=FAST + ["--auth-token-ttl", "2"]).start()
    try:
        enable_auth(m)
        kv = etcdrpc.KVStub(py_client(m).channel)
        token = authenticate(m, "root", "rootpw")

        def expired():
            try:
                kv.Range(etcdrpc.RangeRequest(key=b"k"), timeout=10, metadata=[("token", token)])
            except grpc.RpcError as e:
                assert e.details() == "etcdserver: invalid auth token"
                return True
            return False
        for _ in range(4):  # every use restarts the clock
            time.sleep(1)
            assert not expired()
        time.sleep(4)  # unused for twice the TTL (etcd sweeps once a second)
        assert expired()
    finally:
        m.stop()


def first_watch_response(member, token, key, range_end=""):
    """The first response of a raw watch stream that asks to watch a range as `token`'s user."""
    from etcd3 import etcdrpc
    stub = etcdrpc.WatchStub(py_client(member).channel)
    create = etcdrpc.WatchRequest(create_request=etcdrpc.WatchCreateRequest(key=key.encode(),
                                                                             range_end=range_end.encode()))
    responses = stub.Watch(iter([create]), timeout=10, metadata=[("token", token)])
    first = next(responses)
    responses.cancel()
    return first


def test_watch_needs_read_permission_and_auth_disable_keeps_open_watches(tls_fast_member):
    m = tls_fast_member
    user_with_role(m, "u", "pw", "r", "read", "w/", "--prefix")
    enable_auth(m)
    refused = first_watch_response(m, authenticate(m, "u", "pw"), "secret")
    assert refused.created and refused.canceled
    assert refused.cancel_reason == "rpc error: code = PermissionDenied desc = etcdserver: permission denied"
    allowed = first_watch_response(m, authenticate(m, "u", "pw"), "w/x")
    assert allowed.created and not allowed.canceled
    c = py_client(m, user="u", password="pw")
    events, cancel = c.watch_prefix("w/")
    m.etcdctl(*ROOT, "put", "w/1", "a")
    assert next(events).value == b"a"
    m.etcdctl(*ROOT, "auth", "disable")
    m.etcdctl("put", "w/2", "b")
    assert next(events).value == b"b"
    cancel()


def test_users_survive_a_restart_but_tokens_do_not(fast_member):
    from etcd3 import etcdrpc
    m = fast_member
    user_with_role(m, "u", "pw", "r", "readwrite", "k")
    enable_auth(m)
    token = authenticate(m, "u", "pw")
    m.stop()
    m.etcdctl_args = list(ROOT)  # the readiness probe's health check needs a user now
    m.start()
    m.etcdctl_args = []
    assert "etcdserver: user name is empty" in fails(m, "get", "k")
    m.etcdctl("--user", "u:pw", "put", "k", "v")
    assert "etcdserver: permission denied" in fails(m, "--user", "u:pw", "put", "k2", "v")
    assert m.etcdctl(*ROOT, "role", "get", "r").stdout == "Role r\nKV Read:\n\tk\nKV Write:\n\tk\n"
    if AGAINST != "etcd":
        # Simple tokens live in memory. etcd 3.4 happens to bring some back: a restart
        # replays the Authenticate entries its backend had not yet counted as applied.
        kv = etcdrpc.KVStub(py_client(m).channel)
        assert raw_error(kv.Range, etcdrpc.RangeRequest(key=b"k"), token)[1] == "etcdserver: invalid auth token"


def test_client_certificate_common_name_is_the_user_without_a_token(tmp_path):
    pki = Pki(tmp_path / "pki")
    m = tls_member(tmp_path, pki, client_cert_auth=True)
    m.extra_args += FAST
    root_crt, root_key = pki.issue_for("root-client", "root")
    alice_crt, alice_key = pki.issue_for("alice-client", "alice")
    m.etcdctl_args = ["--cacert", pki.ca, "--cert", root_crt, "--key", root_key]
    m.start()
    try:
        m.etcdctl("role", "add", "r")
        m.etcdctl("role", "grant-permission", "r", "readwrite", "a/", "--prefix")
        m.etcdctl("user", "add", "alice", "--no-password")
        m.etcdctl("user", "grant-role", "alice", "r")
        enable_auth(m)
        m.etcdctl("put", "x", "by-root")  # the certificate says root
        m.etcdctl_args = ["--cacert", pki.ca, "--cert", alice_crt, "--key", alice_key]
        m.etcdctl("put", "a/1", "v")
        assert m.etcdctl("get", "a/1", "--print-value-only").stdout == "v\n"
        assert "etcdserver: permission denied" in fails(m, "get", "x")
        # A token names its user even over a certificate that names another.
        assert m.etcdctl(*ROOT, "get", "x", "--print-value-only").stdout == "by-root\n"
    finally:
        m.stop()


def test_jwt_tokens_carry_user_and_revision_and_go_stale_when_the_store_changes(tmp_path):
    import base64
    from etcd3 import etcdrpc
    key, pub = str(tmp_path / "jwt.key"), str(tmp_path / "jwt.pub")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    m = Member(tmp_path / "data", extra_args=FAST + [
        "--auth-token", "jwt,pub-key=%s,priv-key=%s,sign-method=RS256,ttl=10m" % (pub, key)]).start()
    try:
        user_with_role(m, "u", "pw", "r", "readwrite", "k")
        enable_auth(m)
        m.etcdctl("--user", "u:pw", "put", "k", "v")
        token = authenticate(m, "u", "pw")
        header, claims, _ = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"] == "RS256"
        assert claims["username"] == "u" and claims["revision"] > 1
        kv = etcdrpc.KVStub(py_client(m).channel)
        assert kv.Range(etcdrpc.RangeRequest(key=b"k"), timeout=10, metadata=[("token", token)]).kvs[0].value == b"v"
        m.etcdctl(*ROOT, "role", "add", "another")
        assert raw_error(kv.Range, etcdrpc.RangeRequest(key=b"k"), token) == \
            (grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: revision of auth store is old")
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        assert raw_error(kv.Range, etcdrpc.RangeRequest(key=b"k"), forged) == \
            (grpc.StatusCode.UNAUTHENTICATED, "etcdserver: invalid auth token")
        # etcdctl authenticates again, with the store's new revision.
        assert m.etcdctl("--user", "u:pw", "get", "k", "--print-value-only").stdout == "v\n"
    finally:
        m.stop()


class _Binary(Member):
    """A member of a given binary, whatever CAIRN_TEST_AGAINST says."""

    def __init__(self, binary, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.binary = binary

    def command(self):
        return [self.binary] + super().command()[1:]


def test_jwt_tokens_issued_by_etcd_verify_on_cairn_and_the_other_way_round(tmp_path):
    """One key pair on an etcd 3.4 member and a Cairn member whose auth stores were built
    by the same commands: a token either issues is accepted by the other, so clients and
    members can move between them (and a mixed cluster during a migration works)."""
    from cluster import CAIRN_BIN
    from etcd3 import etcdrpc
    key, pub = str(tmp_path / "jwt.key"), str(tmp_path / "jwt.pub")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    flags = FAST + ["--auth-token", "jwt,pub-key=%s,priv-key=%s,sign-method=RS256,ttl=10m" % (pub, key)]
    members = {"etcd": _Binary("etcd", tmp_path / "etcd", extra_args=flags),
               "cairn": _Binary(CAIRN_BIN, tmp_path / "cairn", extra_args=flags)}
    try:
        for name, m in members.items():
            m.start()
            user_with_role(m, "u", "pw", "r", "readwrite", "k")
            enable_auth(m)
            m.etcdctl(*ROOT, "put", "k", "on-" + name)
        tokens = {name: authenticate(m, "u", "pw") for name, m in members.items()}
        for issuer, reader in (("etcd", "cairn"), ("cairn", "etcd")):
            kv = etcdrpc.KVStub(py_client(members[reader]).channel)
            got = kv.Range(etcdrpc.RangeRequest(key=b"k"), timeout=10, metadata=[("token", tokens[issuer])])
            assert got.kvs[0].value == ("on-" + reader).encode(), "%s's token on %s" % (issuer, reader)
    finally:
        for m in members.values():
            m.stop()
