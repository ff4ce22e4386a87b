"""etcdctl (Debian's etcd-client 3.4) against one member: put, get, del, txn,
compaction and endpoint status, checked field by field in etcdctl's own output."""
from cluster import b64, unb64
from conftest import CLEAN_EXIT


def keys_of(resp):
    return [unb64(kv["key"]) for kv in resp.get("kvs", [])]


def test_put_get_and_response_header(member):
    assert member.etcdctl("put", "foo", "bar").stdout.strip() == "OK"
    assert member.etcdctl("get", "foo").stdout == "foo\nbar\n"
    resp = member.etcdctl_json("get", "foo")
    status = member.etcdctl_json("endpoint", "status")[0]["Status"]
    assert resp["header"]["cluster_id"] == status["header"]["cluster_id"] != 0
    assert resp["header"]["member_id"] == status["header"]["member_id"] == status["leader"] != 0
    assert resp["header"]["raft_term"] >= 1
    kv = resp["kvs"][0]
    assert kv["value"] == b64("bar")
    assert kv["create_revision"] == kv["mod_revision"] == resp["header"]["revision"]
    assert kv["version"] == 1
    member.etcdctl("put", "foo", "baz")
    kv2 = member.etcdctl_json("get", "foo")["kvs"][0]
    assert (kv2["version"], kv2["create_revision"], kv2["mod_revision"]) == (2, kv["create_revision"],
                                                                             kv["mod_revision"] + 1)


def test_missing_key_is_empty_not_error(member):
    r = member.etcdctl("get", "nothing-here")
    assert r.stdout == ""
    assert member.etcdctl_json("get", "nothing-here").get("count", 0) == 0


def test_prefix_from_key_and_count(member):
    for k in ["a", "a/1", "a/2", "a/3", "b", "c"]:
        member.etcdctl("put", k, "v-" + k)
    assert keys_of(member.etcdctl_json("get", "--prefix", "a/")) == ["a/1", "a/2", "a/3"]
    assert keys_of(member.etcdctl_json("get", "--from-key", "b")) == ["b", "c"]
    assert keys_of(member.etcdctl_json("get", "a/1", "a/3")) == ["a/1", "a/2"]  # [key, range_end)
    # etcdctl 3.4 has no --count-only; count is reported regardless of --limit.
    limited = member.etcdctl_json("get", "--prefix", "a", "--limit", "2")
    assert keys_of(limited) == ["a", "a/1"]
    assert limited["more"] is True
    assert limited["count"] == 4
    assert member.etcdctl_json("get", "--from-key", "")["count"] == 6


def test_sort_order_and_target(member):
    member.etcdctl("put", "s/2", "b")
    member.etcdctl("put", "s/1", "c")
    member.etcdctl("put", "s/3", "a")
    assert keys_of(member.etcdctl_json("get", "--prefix", "s/", "--order", "DESCEND")) == ["s/3", "s/2", "s/1"]
    assert keys_of(member.etcdctl_json("get", "--prefix", "s/", "--sort-by", "MODIFY",
                                       "--order", "ASCEND")) == ["s/2", "s/1", "s/3"]
    assert keys_of(member.etcdctl_json("get", "--prefix", "s/", "--sort-by", "VALUE",
                                       "--order", "DESCEND")) == ["s/1", "s/2", "s/3"]
    assert keys_of(member.etcdctl_json("get", "--prefix", "s/", "--sort-by", "CREATE",
                                       "--order", "DESCEND", "--limit", "1")) == ["s/3"]


def test_keys_only_and_print_value_only(member):
    member.etcdctl("put", "k1", "value1")
    resp = member.etcdctl_json("get", "k1", "--keys-only")
    assert keys_of(resp) == ["k1"]
    assert "value" not in resp["kvs"][0]
    assert member.etcdctl("get", "k1", "--print-value-only").stdout == "value1\n"


def test_historical_reads_with_rev(member):
    r1 = member.etcdctl_json("put", "h", "one")["header"]["revision"]
    member.etcdctl("put", "h", "two")
    member.etcdctl("del", "h")
    assert member.etcdctl("get", "h", "--rev", str(r1), "--print-value-only").stdout == "one\n"
    assert member.etcdctl("get", "h", "--rev", str(r1 + 1), "--print-value-only").stdout == "two\n"
    assert member.etcdctl("get", "h", "--rev", str(r1 + 2)).stdout == ""
    future = member.etcdctl("get", "h", "--rev", "100000", check=False)
    assert future.returncode != 0
    assert "etcdserver: mvcc: required revision is a future revision" in future.stderr


def test_delete_single_prefix_and_prev_kv(member):
    for k in ["d/1", "d/2", "d/3", "e"]:
        member.etcdctl("put", k, "v" + k)
    assert member.etcdctl("del", "e").stdout.strip() == "1"
    assert member.etcdctl("del", "e").stdout.strip() == "0"
    out = member.etcdctl("del", "--prev-kv", "d/1").stdout.splitlines()
    assert out == ["1", "d/1", "vd/1"]
    assert member.etcdctl("del", "--prefix", "d/").stdout.strip() == "2"
    assert member.etcdctl_json("get", "--prefix", "d/").get("count", 0) == 0


def txn_result(out):
    """etcdctl -i echoes its prompts (compares:, success requests..., failure requests...)
    before the outcome; the outcome is the first line after them."""
    lines = [l for l in out.splitlines() if l and not l.endswith(":")]
    return lines[0], lines[1:]


def test_interactive_txn(member):
    member.etcdctl("put", "user1", "bad")
    script = 'value("user1") = "bad"\n\nput user1 good\nget user1\n\nput user1 fail\n\n'
    outcome, rest = txn_result(member.etcdctl("txn", "-i", input=script).stdout)
    assert outcome == "SUCCESS"
    assert rest == ["OK", "user1", "good"]
    assert member.etcdctl("get", "user1", "--print-value-only").stdout == "good\n"
    outcome, rest = txn_result(member.etcdctl("txn", "-i", input=script).stdout)
    assert (outcome, rest) == ("FAILURE", ["OK"])
    assert member.etcdctl("get", "user1", "--print-value-only").stdout == "fail\n"


def test_txn_compare_on_mod_revision_and_version(member):
    rev = member.etcdctl_json("put", "cas", "v1")["header"]["revision"]
    script = 'mod("cas") = "%d"\nversion("cas") = "1"\n\nput cas v2\n\n\n' % rev
    assert txn_result(member.etcdctl("txn", "-i", input=script).stdout)[0] == "SUCCESS"
    assert txn_result(member.etcdctl("txn", "-i", input=script).stdout)[0] == "FAILURE"
    assert member.etcdctl("get", "cas", "--print-value-only").stdout == "v2\n"


def test_compaction(member):
    first = member.etcdctl_json("put", "c", "1")["header"]["revision"]
    for i in range(2, 6):
        member.etcdctl("put", "c", str(i))
    compact_at = first + 2
    assert member.etcdctl("compaction", str(compact_at)).stdout.strip() == "compacted revision %d" % compact_at
    old = member.etcdctl("get", "c", "--rev", str(first), check=False)
    assert old.returncode != 0
    assert "etcdserver: mvcc: required revision has been compacted" in old.stderr
    assert member.etcdctl("get", "c", "--rev", str(compact_at), "--print-value-only").stdout == "3\n"
    assert member.etcdctl("get", "c", "--print-value-only").stdout == "5\n"
    again = member.etcdctl("compaction", str(compact_at), check=False)
    assert again.returncode != 0
    assert "required revision has been compacted" in again.stderr
    physical = member.etcdctl("compaction", "--physical", str(compact_at + 1))
    assert physical.stdout.strip() == "compacted revision %d" % (compact_at + 1)


def test_endpoint_status(member):
    member.etcdctl("put", "x", "y")
    st = member.etcdctl_json("endpoint", "status")[0]["Status"]
    major, minor = (int(p) for p in st["version"].split(".")[:2])
    assert (major, minor) >= (3, 4)
    assert st["dbSize"] > 0
    assert st["leader"] == st["header"]["member_id"]
    assert st["raftIndex"] >= 1 and st["raftTerm"] >= 1
    assert st["raftAppliedIndex"] >= st["raftIndex"] - 0
    table = member.etcdctl("endpoint", "status", "-w", "table").stdout
    assert member.endpoint in table and "true" in table  # IS LEADER column


def test_data_survives_restart(member):
    for i in range(50):
        member.etcdctl("put", "persist/%02d" % i, "v%d" % i)
    before = member.etcdctl_json("get", "--prefix", "persist/")
    assert member.stop() in CLEAN_EXIT
    member.start()
    after = member.etcdctl_json("get", "--prefix", "persist/")
    assert after["kvs"] == before["kvs"]
    assert after["header"]["revision"] == before["header"]["revision"]
    assert after["header"]["cluster_id"] == before["header"]["cluster_id"]
    assert after["header"]["member_id"] == before["header"]["member_id"]


def test_member_list_reports_this_member(member):
    resp = member.etcdctl_json("member", "list")
    assert len(resp["members"]) == 1
    me = resp["members"][0]
    assert me["ID"] == resp["header"]["member_id"]
    assert me["name"] == member.name
    assert me["clientURLs"] == ["http://" + member.endpoint]
    assert me["peerURLs"] == ["http://127.0.0.1:%d" % member.peer_port]
    assert not me.get("isLearner", False)


def test_every_service_fills_the_header_as_etcd_does(member):
    """etcd's header rule (v3rpc/header.go): KV, Lease and Maintenance answers carry the
    current revision unless the handler answered at its own; the Cluster service's carry
    none (v3rpc/member.go)."""
    member.etcdctl("put", "h", "1")
    revision = member.etcdctl_json("put", "h", "2")["header"]["revision"]
    assert member.etcdctl_json("get", "h")["header"]["revision"] == revision
    status = member.etcdctl_json("endpoint", "status")[0]["Status"]["header"]
    assert status["revision"] == revision
    granted = member.etcdctl_json("lease", "grant", "100")
    assert granted["revision"] == revision and granted["member_id"] == status["member_id"]
    members = member.etcdctl_json("member", "list")["header"]
    assert "revision" not in members
    assert members["member_id"] == status["member_id"] and members["cluster_id"] == status["cluster_id"]
