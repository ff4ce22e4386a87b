"""etcd's HTTP/JSON gateway on the client port, driven by python-etcd3gw and plain HTTP."""
import json
import threading
import time
import urllib.error
import urllib.request

import etcd3gw

from cluster import AGAINST


def http(member, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request("http://%s%s" % (member.endpoint, path), data=data,
                                 method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if e.headers.get("Content-Type") == "application/json" else raw


def client(member, api_path="/v3/"):
    return etcd3gw.client(host="127.0.0.1", port=member.port) if api_path is None else \
        etcd3gw.Etcd3Client(host="127.0.0.1", port=member.port, api_path=api_path)


def test_etcd3gw_kv_txn_and_prefixes(member):
    c = client(member)
    assert c.put("gw/a", "1")
    assert c.get("gw/a") == [b"1"]
    assert c.create("gw/b", "2") is True
    assert c.create("gw/b", "3") is False
    assert c.replace("gw/b", "2", "4") is True
    assert sorted(v for v, _ in c.get_prefix("gw/")) == [b"1", b"4"]
    assert c.delete("gw/a") is True
    assert c.get("gw/a") == []
    # The same data through gRPC on the same port.
    assert member.etcdctl("get", "gw/b", "--print-value-only").stdout == "4\n"


def test_etcd3gw_leases_and_status(member):
    c = client(member)
    lease = c.lease(ttl=60)
    c.put("gw/leased", "x", lease=lease)
    assert 0 < lease.ttl() <= 60
    assert lease.refresh() == 60
    assert [k for k in lease.keys()] == [b"gw/leased"]
    assert lease.revoke() is True
    assert c.get("gw/leased") == []
    status = c.status()
    assert status["leader"] == status["header"]["member_id"]
    assert c.members()[0]["name"] == member.name


def test_etcd3gw_watch_and_lock(member):
    c = client(member)
    got = []
    done = threading.Event()

    def record(event):
        got.append(event)
        done.set()

    events, cancel = c.watch_prefix("gw/w/")
    def consume():
        for e in events:
            record(e)
            break
    t = threading.Thread(target=consume)
    t.start()
    c.put("gw/w/1", "v")
    assert done.wait(10)
    cancel()
    t.join(10)
    assert got[0]["kv"]["key"] == b"gw/w/1" and got[0]["kv"]["value"] == b"v"
    lock = c.lock("gw-lock", ttl=30)
    assert lock.acquire() is True
    assert c.lock("gw-lock", ttl=30).acquire() is False
    assert lock.release() is True


def test_older_api_paths_version_and_health(member):
    assert client(member, api_path="/v3beta/").put("gw/old-path", "v")
    if AGAINST != "etcd":  # etcd 3.4 dropped /v3alpha/, still python-etcd3gw's default
        assert client(member, api_path=None).put("gw/old-path", "v")
    status, body = http(member, "/version")
    assert status == 200 and body["etcdserver"].startswith("3.")
    status, body = http(member, "/health")
    assert status == 200 and body["health"] == "true"


def test_errors_carry_etcds_code_and_message(member):
    member.etcdctl("put", "k", "v")
    status, body = http(member, "/v3/kv/compaction", {"revision": "1000"})
    assert status == 400
    assert body["code"] == 11 and "future revision" in body["error"]
    status, body = http(member, "/v3/kv/put", {"key": "", "value": "dg=="})
    assert status == 400 and body["code"] == 3 and "key is not provided" in body["message"]
    if AGAINST != "etcd":
        status, _ = http(member, "/v3/kv/nothing-here", {})
        assert status == 404


def raw_exchange(member, data):
    import socket
    with socket.create_connection(("127.0.0.1", member.port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_malformed_http_gets_an_error_and_the_server_lives_on(member):
    if AGAINST == "etcd":
        return  # Go's HTTP server words these differently
    assert raw_exchange(member, b"HELLO\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw_exchange(member, b"GET /version HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400")  # no Host
    too_big = b"POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n"
    assert raw_exchange(member, too_big).startswith(b"HTTP/1.1 413")
    chunked = b"POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    assert raw_exchange(member, chunked).startswith(b"HTTP/1.1 411")
    bad_json = b'POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"key'
    reply = raw_exchange(member, bad_json)
    assert reply.startswith(b"HTTP/1.1 400") and b'"code":3' in reply
    member.etcdctl("put", "still", "here")
    assert client(member).get("still") == [b"here"]


def scrape(member):
    with urllib.request.urlopen("http://%s/metrics" % member.endpoint, timeout=10) as resp:
        assert resp.headers.get("Content-Type").startswith("text/plain")
        metrics = {}
        for line in resp.read().decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                metrics[name] = float(value)
        return metrics


def test_metrics_follow_the_member(member):
    member.etcdctl("put", "m", "1")
    revision = member.etcdctl_json("get", "m")["header"]["revision"]
    m = scrape(member)
    assert m["etcd_server_has_leader"] == 1 and m["etcd_server_is_leader"] == 1
    assert m["etcd_server_leader_changes_seen_total"] >= 1
    assert m["etcd_debugging_mvcc_current_revision"] == revision
    assert m["etcd_mvcc_db_total_size_in_bytes"] > 0
    assert m["etcd_server_proposals_applied_total"] >= revision - 1
    assert m["process_resident_memory_bytes"] > 0
    for h in ("etcd_disk_wal_fsync_duration_seconds", "etcd_disk_backend_commit_duration_seconds"):
        assert m[h + "_count"] >= 1 and m[h + "_sum"] > 0
        buckets = [v for k, v in m.items() if k.startswith(h + "_bucket{")]
        assert len(buckets) == 15 and buckets == sorted(buckets) and buckets[-1] == m[h + "_count"]
    base = m["etcd_debugging_mvcc_watcher_total"]
    events, cancel = client(member).watch_prefix("m/")
    deadline = time.time() + 10
    while scrape(member)["etcd_debugging_mvcc_watcher_total"] != base + 1:
        assert time.time() < deadline, "the gateway watch never showed up"
        time.sleep(0.1)
    cancel()
    # The watch ends with its HTTP client.
    deadline = time.time() + 10
    while scrape(member)["etcd_debugging_mvcc_watcher_total"] != base:
        assert time.time() < deadline, "the gateway watch outlived its client"
        time.sleep(0.1)


def test_grpc_keepalive_drops_a_client_that_stopped_answering(tmp_path):
    import os
    import signal
    import subprocess
    from cluster import ETCDCTL, Member
    m = Member(tmp_path / "data", extra_args=["--grpc-keepalive-interval", "1s",
                                              "--grpc-keepalive-timeout", "1s"]).start()
    watcher = None
    try:
        watcher = subprocess.Popen([ETCDCTL, "--endpoints", m.endpoint, "watch", "ka"],
                                   env=dict(os.environ, ETCDCTL_API="3"), stdout=subprocess.DEVNULL)
        deadline = time.time() + 10
        while scrape(m)["etcd_debugging_mvcc_watcher_total"] != 1:
            assert time.time() < deadline, "the watch never started"
            time.sleep(0.1)
        watcher.send_signal(signal.SIGSTOP)  # the connection stays open, pings go unanswered
        deadline = time.time() + 15
        while scrape(m)["etcd_debugging_mvcc_watcher_total"] != 0:
            assert time.time() < deadline, "the unresponsive client's watch was never dropped"
            time.sleep(0.2)
    finally:
        if watcher:
            watcher.send_signal(signal.SIGCONT)
            watcher.kill()
            watcher.wait()
        m.stop()


def test_a_member_with_open_gateway_watches_stops_cleanly(tmp_path):
    import socket
    from cluster import Member
    from conftest import CLEAN_EXIT
    m = Member(tmp_path / "data").start()
    body = json.dumps({"create_request": {"key": "d2F0Y2g="}}).encode()
    streams = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
        s.sendall(b"POST /v3/watch HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        streams.append(s)
    started = time.time()
    assert m.stop() in CLEAN_EXIT
    assert time.time() - started < 10
    for s in streams:
        s.close()


def test_metrics_urls_serve_metrics_and_health_only(tmp_path):
    from cluster import Member, free_port
    from conftest import CLEAN_EXIT
    port = free_port()
    m = Member(tmp_path / "data", extra_args=["--listen-metrics-urls", "http://127.0.0.1:%d" % port]).start()
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as resp:
            assert resp.status == 200
            assert "etcd_server_has_leader 1" in resp.read().decode()
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=10) as resp:
            assert json.loads(resp.read())["health"] == "true"
        try:
            urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/v3/kv/range" % port,
                                                          data=b'{"key":"YQ=="}', method="POST"), timeout=10)
            raise AssertionError("the KV gateway must not be served on a metrics URL")
        except urllib.error.HTTPError as e:
            assert e.code == 404
        # Nor is gRPC: etcdctl cannot use the metrics port.
        m2 = Member(tmp_path / "unused")
        m2.port = port
        assert m2.etcdctl("get", "x", "--command-timeout", "2s", check=False, timeout=20).returncode != 0
        if AGAINST != "etcd":
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=10) as resp:
                assert json.loads(resp.read())["health"] == "true"
    finally:
        assert m.stop() in CLEAN_EXIT
