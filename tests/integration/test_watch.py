"""Watch against one member with the real clients: etcdctl 3.4 (watch on a key, a
prefix, from a past revision, with prev-kv, interactive, compacted) and python-etcd3
(high-level watches, filters, and raw WatchRequests through its stub for etcd's exact
response shapes: created / canceled / duplicate id / progress).

etcdctl 3.4 has no --progress-notify flag, so server-side progress notifications are
checked through python-etcd3's stub. Against a Cairn build whose Watch service is not
registered yet, every test here is skipped (the probe sees UNIMPLEMENTED)."""
import json
import queue
import signal
import subprocess
import threading
import time

import grpc
import pytest
from etcd3 import etcdrpc

from cluster import ETCDCTL, Member, b64, unb64


def _probe_watch(member):
    try:
        return _raw(member, [create(b"probe")], 1)[0].created
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.UNIMPLEMENTED:
            return False
        raise


@pytest.fixture
def wmember(member):
    if not _probe_watch(member):
        pytest.skip("the server answers UNIMPLEMENTED for Watch (service not wired yet)")
    return member


@pytest.fixture
def progress_member(tmp_path):
    m = Member(tmp_path / "data", extra_args=["--experimental-watch-progress-notify-interval", "300ms"]).start()
    try:
        if not _probe_watch(m):
            pytest.skip("the server answers UNIMPLEMENTED for Watch (service not wired yet)")
        yield m
    finally:
        m.stop()


class Lines:
    """A running etcdctl whose stdout lines are collected on a thread."""

    def __init__(self, member, *args, stdin=False):
        cmd = [ETCDCTL, "--endpoints", member.endpoint] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})
        self.q = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.q.put(line.rstrip("\n"))

    def take(self, n, timeout=10):
        out = []
        deadline = time.time() + timeout
        while len(out) < n:
            try:
                out.append(self.q.get(timeout=max(0.01, deadline - time.time())))
            except queue.Empty:
                raise AssertionError("got %r, wanted %d lines; stderr: %s" % (out, n, self.stop()))
        return out

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except ValueError:
            err = ""
        return err


def rev(member):
    return int(member.etcdctl_json("get", "nothing")["header"]["revision"])


def test_etcdctl_watch_key_and_prefix_from_the_next_revision(wmember):
    start = rev(wmember) + 1
    key = Lines(wmember, "watch", "--rev", str(start), "-w", "json", "k")
    prefix = Lines(wmember, "watch", "--rev", str(start), "--prefix", "p/")
    try:
        wmember.etcdctl("put", "k", "1")
        wmember.etcdctl("put", "p/a", "x")
        wmember.etcdctl("put", "other", "y")
        wmember.etcdctl("put", "p/b", "z")
        wmember.etcdctl("del", "k")
        one, two = [json.loads(l) for l in key.take(2)]
        assert one["Created"] is False and one["Canceled"] is False
        ev = one["Events"][0]
        assert unb64(ev["kv"]["key"]) == "k" and unb64(ev["kv"]["value"]) == "1"
        assert ev["kv"]["mod_revision"] == start and ev["kv"]["version"] == 1
        # etcdctl may register its watch after the first put: it then catches up and, as in
        # etcd, the response carries the store's revision at that time.
        assert start <= one["Header"]["revision"] <= start + 4 and one["Header"]["cluster_id"] != 0
        assert two["Events"] == [{"type": 1, "kv": {"key": b64("k"), "mod_revision": start + 4}}]
        assert prefix.take(6) == ["PUT", "p/a", "x", "PUT", "p/b", "z"]
    finally:
        key.stop()
        prefix.stop()


def test_etcdctl_watch_past_revision_with_prev_kv(wmember):
    first = int(wmember.etcdctl_json("put", "h", "1")["header"]["revision"])
    wmember.etcdctl("put", "h", "2")
    wmember.etcdctl("del", "h")
    w = Lines(wmember, "watch", "--rev", str(first), "--prev-kv", "h")
    try:
        assert w.take(11) == ["PUT", "h", "1",
                              "PUT", "h", "1", "h", "2",
                              "DELETE", "h", "2"]
    finally:
        w.stop()


def test_etcdctl_watch_interactive(wmember):
    start = rev(wmember) + 1
    w = Lines(wmember, "watch", "-i", stdin=True)
    try:
        w.send("watch --rev %d i1" % start)
        w.send("watch --rev %d --prefix ip/" % start)
        wmember.etcdctl("put", "i1", "a")
        wmember.etcdctl("put", "ip/x", "b")
        got = w.take(6)
        assert sorted([got[0:3], got[3:6]]) == [["PUT", "i1", "a"], ["PUT", "ip/x", "b"]]
    finally:
        w.stop()


def test_etcdctl_watch_below_the_compacted_revision_is_canceled(wmember):
    first = int(wmember.etcdctl_json("put", "c", "1")["header"]["revision"])
    last = int(wmember.etcdctl_json("put", "c", "2")["header"]["revision"])
    wmember.etcdctl("compact", str(last))
    r = subprocess.run([ETCDCTL, "--endpoints", wmember.endpoint, "watch", "--rev", str(first), "c"],
                       capture_output=True, text=True, timeout=20, env={"ETCDCTL_API": "3"})
    assert r.returncode != 0
    assert "watch was canceled (etcdserver: mvcc: required revision has been compacted)" in r.stderr


def test_python_watch_iterator_prev_kv_and_cancel(wmember):
    c = wmember.client()
    start = c.put("/py/seed", "0").header.revision + 1
    events, cancel = c.watch_prefix("/py/", prev_kv=True, start_revision=start)
    c.put("/py/a", "1")
    c.put("/py/a", "2")
    c.delete("/py/a")
    got = [next(events) for _ in range(3)]
    cancel()
    assert [(type(e).__name__, e.key, e.value) for e in got] == [
        ("PutEvent", b"/py/a", b"1"), ("PutEvent", b"/py/a", b"2"), ("DeleteEvent", b"/py/a", b"")]
    assert got[1].prev_value == b"1" and got[2].prev_value == b"2"


def test_raw_filters_drop_deletes_or_puts(wmember):
    c = wmember.client()
    start = c.put("f", "0").header.revision + 1
    c.put("f", "1")
    c.delete("f")
    c.put("f", "2")
    out = _raw(wmember, [create(b"f", start_revision=start, filters=[etcdrpc.WatchCreateRequest.NODELETE], watch_id=1),
                         create(b"f", start_revision=start, filters=[etcdrpc.WatchCreateRequest.NOPUT], watch_id=2)], 4)
    events = {}
    for r in out:
        events.setdefault(r.watch_id, []).extend((e.type, e.kv.value) for e in r.events)
    assert events[1] == [(0, b"1"), (0, b"2")]
    assert events[2] == [(1, b"")]


def test_python_watch_from_a_past_revision_resumes_exactly(wmember):
    c = wmember.client()
    revs = [c.put("r", str(i)).header.revision for i in range(5)]
    events, cancel = c.watch("r", start_revision=revs[2])
    seen = [next(events) for _ in range(3)]
    cancel()
    assert [(e.value, e.mod_revision) for e in seen] == [(b"2", revs[2]), (b"3", revs[3]), (b"4", revs[4])]


def _raw(member, requests, n):
    """Sends `requests` on one Watch stream and returns the first n responses."""
    c = member.client()
    reqs = queue.Queue()
    for r in requests:
        reqs.put(r)

    def it():
        while True:
            r = reqs.get()
            if r is None:
                return
            yield r

    stream = etcdrpc.WatchStub(c.channel).Watch(it(), timeout=15)
    out = []
    for resp in stream:
        out.append(resp)
        if len(out) == n:
            break
    reqs.put(None)
    stream.cancel()
    return out


def _varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def create(key, watch_id=None, filters=(), **kw):
    """A create request. Debian's python-etcd3 protos predate watch_id (field 7) and
    WatchProgressRequest, so those are appended as raw fields, which protobuf keeps."""
    c = etcdrpc.WatchCreateRequest(key=key, **kw)
    c.filters.extend(filters)
    raw = c.SerializeToString()
    if watch_id is not None:
        raw += b"\x38" + _varint(watch_id)
    inner = etcdrpc.WatchCreateRequest.FromString(raw)
    return etcdrpc.WatchRequest(create_request=inner)


def progress_request():
    return etcdrpc.WatchRequest.FromString(b"\x1a\x00")  # field 3: WatchProgressRequest{}


def test_raw_created_duplicate_id_cancel_and_progress_responses(wmember):
    current = rev(wmember)
    out = _raw(wmember, [
        create(b"a"),
        create(b"b", watch_id=7),
        create(b"c", watch_id=7),
        create(b"z", range_end=b"a"),
        etcdrpc.WatchRequest(cancel_request=etcdrpc.WatchCancelRequest(watch_id=7)),
        progress_request(),
    ], 6)
    a, b, dup, empty, canceled, progress = out
    assert (a.created, a.canceled, a.watch_id, a.header.revision) == (True, False, 0, current)
    assert (b.created, b.watch_id) == (True, 7)
    assert (dup.created, dup.canceled, dup.watch_id) == (True, True, -1)
    assert dup.cancel_reason == "mvcc: duplicate watch ID provided on the WatchStream"
    assert (empty.created, empty.canceled, empty.watch_id) == (True, True, -1)
    assert empty.cancel_reason == "mvcc: watcher range is empty"
    assert (canceled.canceled, canceled.created, canceled.watch_id) == (True, False, 7)
    assert (progress.watch_id, progress.header.revision, len(progress.events)) == (-1, current, 0)
    assert not progress.created and not progress.canceled


def test_raw_compacted_watch_carries_the_compact_revision(wmember):
    c = wmember.client()
    first = c.put("cr", "1").header.revision
    last = c.put("cr", "2").header.revision
    c.compact(last)
    created, canceled = _raw(wmember, [create(b"cr", start_revision=first)], 2)
    assert created.created and not created.canceled
    assert canceled.canceled and canceled.compact_revision == last


def test_server_progress_notifications_for_idle_watchers(progress_member):
    c = progress_member.client()
    current = c.put("pn", "x").header.revision
    created, progress = _raw(progress_member, [create(b"pn", progress_notify=True)], 2)
    assert created.created
    assert (progress.watch_id, progress.header.revision, len(progress.events)) == (0, current, 0)


def test_member_with_open_watches_stops_at_once(wmember):
    """etcd exits on SIGTERM within milliseconds even with watches open; a member must
    not hold its shutdown until the gRPC deadline because watch streams never end."""
    # From a fixed revision: a watch "from now" could start after the put below.
    start = rev(wmember) + 1
    watches = [Lines(wmember, "watch", "--rev", str(start), "--prefix", "w%d/" % i) for i in range(3)]
    try:
        wmember.etcdctl("put", "w0/a", "1")
        assert watches[0].take(3) == ["PUT", "w0/a", "1"]
        started = time.time()
        # etcd re-raises SIGTERM after its cleanup; Cairn returns 0.
        assert wmember.stop() in (0, -signal.SIGTERM)
        assert time.time() - started < 0.5, "stopping took %.2fs" % (time.time() - started)
    finally:
        for w in watches:
            w.stop()



def test_a_watcher_that_stopped_reading_does_not_hold_the_stop(wmember):
    """A client that stops reading (here: a stopped process) leaves the server's writes to
    it pending once the flow-control windows and socket buffers are full; the member must
    still stop promptly, as etcd does, rather than wait out a long drain deadline."""
    stalled = Lines(wmember, "watch", "--rev", str(rev(wmember) + 1), "--prefix", "stall/")
    try:
        wmember.etcdctl("put", "stall/0", "x")
        assert stalled.take(3) == ["PUT", "stall/0", "x"]
        stalled.proc.send_signal(signal.SIGSTOP)
        value = "v" * (1 << 20)
        for i in range(20):  # 20 MB: more than the windows and buffers can take
            wmember.etcdctl("put", "stall/%d" % i, input=value)
        started = time.time()
        assert wmember.stop() in (0, -signal.SIGTERM)
        assert time.time() - started < 2, "stopping took %.1fs" % (time.time() - started)
    finally:
        stalled.proc.send_signal(signal.SIGCONT)
        stalled.stop()
