"""python-etcd3 (Debian's python3-etcd3, a real third-party gRPC client) against one
member: its high-level API, and raw requests through its stubs for the exact
(gRPC code, message) pairs etcd returns on bad input."""
import grpc
import pytest
from etcd3 import etcdrpc


def rpc_error(call, request):
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=10)
    return err.value.code(), err.value.details()


def test_put_get_delete_prefix(member):
    c = member.client()
    c.put("/app/a", "1")
    c.put("/app/b", "2")
    c.put("/other", "3")
    value, meta = c.get("/app/a")
    assert value == b"1" and meta.key == b"/app/a" and meta.version == 1
    assert sorted(v for v, _ in c.get_prefix("/app/")) == [b"1", b"2"]
    assert c.delete("/app/a") is True
    assert c.delete("/app/a") is False
    assert c.get("/app/a") == (None, None)
    c.delete_prefix("/app/")
    assert list(c.get_prefix("/app/")) == []
    assert c.get("/other")[0] == b"3"


def test_transactions_compare_and_swap(member):
    c = member.client()
    c.put("lock", "free")
    ok, _ = c.transaction(compare=[c.transactions.value("lock") == "free"],
                          success=[c.transactions.put("lock", "taken")], failure=[])
    assert ok
    ok, responses = c.transaction(compare=[c.transactions.value("lock") == "free"],
                                  success=[c.transactions.put("lock", "stolen")],
                                  failure=[c.transactions.get("lock")])
    assert not ok
    assert responses[0][0][0] == b"taken"
    ok, _ = c.transaction(compare=[c.transactions.version("missing") == 0],
                          success=[c.transactions.put("missing", "created")], failure=[])
    assert ok and c.get("missing")[0] == b"created"


def test_put_prev_kv_and_revisions(member):
    c = member.client()
    first = c.put("pk", "a")
    second = c.put("pk", "b", prev_kv=True)
    assert second.prev_kv.value == b"a"
    assert second.header.revision == first.header.revision + 1
    assert second.header.cluster_id != 0 and second.header.member_id != 0


def test_errors_match_etcd(member):
    c = member.client()
    kv = c.kvstub
    code, msg = rpc_error(kv.Put, etcdrpc.PutRequest(key=b"", value=b"v"))
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: key is not provided")
    code, msg = rpc_error(kv.Range, etcdrpc.RangeRequest(key=b""))
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: key is not provided")
    code, msg = rpc_error(kv.Put, etcdrpc.PutRequest(key=b"nokey", ignore_value=True))
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: key not found")
    code, msg = rpc_error(kv.Put, etcdrpc.PutRequest(key=b"k", value=b"v", ignore_value=True))
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: value is provided")
    code, msg = rpc_error(kv.Put, etcdrpc.PutRequest(key=b"k", lease=12345))
    assert (code, msg) == (grpc.StatusCode.NOT_FOUND, "etcdserver: requested lease not found")
    assert c.get("k") == (None, None)  # failed requests wrote nothing

    put = etcdrpc.RequestOp(request_put=etcdrpc.PutRequest(key=b"dup", value=b"1"))
    code, msg = rpc_error(kv.Txn, etcdrpc.TxnRequest(success=[put, put]))
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request")
    many = [etcdrpc.RequestOp(request_put=etcdrpc.PutRequest(key=b"k%d" % i, value=b"v")) for i in range(129)]
    code, msg = rpc_error(kv.Txn, etcdrpc.TxnRequest(success=many))
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: too many operations in txn request")
    kv.Txn(etcdrpc.TxnRequest(success=many[:128]), timeout=10)  # exactly the limit is fine

    big = etcdrpc.PutRequest(key=b"big", value=b"x" * (1572864 + 1))
    code, msg = rpc_error(kv.Put, big)
    assert (code, msg) == (grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: request is too large")
    assert c.get("big") == (None, None)

    code, msg = rpc_error(kv.Range, etcdrpc.RangeRequest(key=b"a", revision=10 ** 9))
    assert (code, msg) == (grpc.StatusCode.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision")
    code, msg = rpc_error(kv.Compact, etcdrpc.CompactionRequest(revision=10 ** 9))
    assert (code, msg) == (grpc.StatusCode.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision")


def test_txn_failure_leaves_no_partial_write(member):
    c = member.client()
    ops = [etcdrpc.RequestOp(request_put=etcdrpc.PutRequest(key=b"t1", value=b"v")),
           etcdrpc.RequestOp(request_put=etcdrpc.PutRequest(key=b"t2", value=b"v", lease=999))]
    before = c.status().raft_index
    code, msg = rpc_error(c.kvstub.Txn, etcdrpc.TxnRequest(success=ops))
    assert (code, msg) == (grpc.StatusCode.NOT_FOUND, "etcdserver: requested lease not found")
    assert c.get("t1") == (None, None)
    header_rev = c.kvstub.Range(etcdrpc.RangeRequest(key=b"t1"), timeout=10).header.revision
    c.put("t3", "v")
    assert c.get("t3")[1].mod_revision == header_rev + 1  # the failed txn consumed no revision
    assert c.status().raft_index >= before


def test_hashkv_right_after_a_put_hashes_the_store_with_it(member):
    # Backup verification compares HashKV at the revision a write returned.
    c = member.client()
    for i in range(1000):
        rev = c.put("hashkv/k", str(i)).header.revision
        resp = c.maintenancestub.HashKV(etcdrpc.HashKVRequest(revision=0), timeout=10)
        assert resp.header.revision == rev, "put %d answered at revision %d; HashKV hashed %d" % (
            i, rev, resp.header.revision)
