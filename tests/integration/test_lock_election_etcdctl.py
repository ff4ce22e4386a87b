"""etcdctl's lock and elect (client-side recipes over KV, Watch and Lease) against one
member: critical sections never overlap, waiters are served in order, an elected
leader is observed, and a leader's resignation (its process ending) hands over."""
import os
import signal
import subprocess
import time

from cluster import wait_until


def etcdctl_proc(member, *args):
    cmd = ["etcdctl", "--endpoints", member.endpoint] + list(args)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, ETCDCTL_API="3"))


def read_available(proc):
    """What the process has printed so far, without waiting for more."""
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_lock_critical_sections_never_overlap(member, tmp_path):
    log = tmp_path / "sections"
    section = 'echo "start $(date +%%s.%%N) %s" >> %s; sleep 0.4; echo "end $(date +%%s.%%N) %s" >> %s'
    procs = [etcdctl_proc(member, "lock", "jobs", "--", "sh", "-c", section % (i, log, i, log)) for i in range(4)]
    for p in procs:
        assert p.wait(timeout=30) == 0, p.stdout.read()
    lines = log.read_text().split("\n")[:-1]
    assert len(lines) == 8
    # Strictly alternating start/end of the same holder: no two sections overlap.
    for start, end in zip(lines[0::2], lines[1::2]):
        assert start.split()[0] == "start" and end.split()[0] == "end"
        assert start.split()[2] == end.split()[2]
    assert member.etcdctl_json("get", "--prefix", "jobs/").get("count", 0) == 0  # all released


class Output:
    """What a process printed so far, collected without blocking."""

    def __init__(self, proc):
        self.proc, self.text = proc, ""

    def lines(self):
        self.text += read_available(self.proc)
        return self.text.split("\n")

    def says(self, line):
        return line in self.lines()


def test_elect_and_observe_leadership_changes(member):
    observer = Output(etcdctl_proc(member, "elect", "-l", "race"))
    alpha = Output(etcdctl_proc(member, "elect", "race", "alpha"))
    # etcdctl elect prints its leader key and value once elected.
    wait_until(lambda: alpha.says("alpha"), 10, "alpha to be elected")
    wait_until(lambda: observer.says("alpha"), 10, "the observer to see alpha")
    beta = Output(etcdctl_proc(member, "elect", "race", "beta"))
    wait_until(lambda: member.etcdctl_json("get", "--prefix", "race/").get("count", 0) == 2, 10,
               "beta's candidacy")
    # beta is in line. Elected wrongly (two leaders at once), it would say so at once:
    # alpha was told within milliseconds of its key. Nothing to await for "not yet".
    time.sleep(1.0)
    assert beta.proc.poll() is None and beta.lines() == [""], "beta was elected while alpha led"
    alpha.proc.terminate()  # alpha resigns (etcdctl deletes its key on exit)
    alpha.proc.wait(timeout=10)
    wait_until(lambda: beta.says("beta"), 10, "beta to be told it leads")
    r = member.etcdctl("get", "--prefix", "race/", "--sort-by", "CREATE", "--print-value-only")
    assert r.stdout.split("\n")[0] == "beta"
    wait_until(lambda: observer.says("beta"), 10, "the observer to see beta")
    beta.proc.terminate()
    beta.proc.wait(timeout=10)
    observer.proc.terminate()
    observer.proc.wait(timeout=10)
    values = [l for l in observer.lines() if l in ("alpha", "beta")]
    assert values == ["alpha", "beta"], observer.text


def test_member_with_sessions_open_stops_at_once(member):
    """etcd exits on SIGTERM within milliseconds while clients hold sessions: a lease
    kept alive, a lock held and one awaited, a leader and a candidate, an observer. A
    member must not hold its shutdown until the gRPC deadline for those streams."""
    lease_id = member.etcdctl("lease", "grant", "60").stdout.split()[1]
    procs = [etcdctl_proc(member, "lease", "keep-alive", lease_id),
             etcdctl_proc(member, "lock", "stoplock"),
             etcdctl_proc(member, "elect", "-l", "stoprace"),
             etcdctl_proc(member, "elect", "stoprace", "alpha")]
    try:
        # The holder and the leader first, so the second locker and candidate wait.
        deadline = time.time() + 10
        while time.time() < deadline and (
                member.etcdctl_json("get", "--prefix", "stoplock/").get("count", 0) < 1 or
                member.etcdctl_json("get", "--prefix", "stoprace/").get("count", 0) < 1):
            time.sleep(0.1)
        procs += [etcdctl_proc(member, "lock", "stoplock"), etcdctl_proc(member, "elect", "stoprace", "beta")]
        while time.time() < deadline and (
                member.etcdctl_json("get", "--prefix", "stoplock/").get("count", 0) < 2 or
                member.etcdctl_json("get", "--prefix", "stoprace/").get("count", 0) < 2):
            time.sleep(0.1)
        assert member.etcdctl_json("get", "--prefix", "stoplock/").get("count", 0) == 2
        assert member.etcdctl_json("get", "--prefix", "stoprace/").get("count", 0) == 2
        assert all(p.poll() is None for p in procs)
        started = time.time()
        assert member.stop() in (0, -signal.SIGTERM)
        assert time.time() - started < 0.5, "stopping took %.2fs" % (time.time() - started)
    finally:
        for p in procs:
            p.kill()
            p.wait()
