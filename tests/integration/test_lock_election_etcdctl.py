"""etcdctl's lock and elect (client-side recipes over KV, Watch and Lease) against one
member: critical sections never overlap, waiters are served in order, an elected
leader is observed, and a leader's resignation (its process ending) hands over."""
import os
import subprocess
import time


def etcdctl_proc(member, *args):
    cmd = ["etcdctl", "--endpoints", member.endpoint] + list(args)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, ETCDCTL_API="3"))


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


def test_elect_and_observe_leadership_changes(member):
    observer = etcdctl_proc(member, "elect", "-l", "race")
    time.sleep(0.3)
    first = etcdctl_proc(member, "elect", "race", "alpha")
    time.sleep(1.0)
    second = etcdctl_proc(member, "elect", "race", "beta")
    time.sleep(1.0)
    assert second.poll() is None  # still campaigning behind alpha
    first.terminate()  # alpha resigns (etcdctl deletes its key on exit)
    first.wait(timeout=10)
    deadline = time.time() + 10
    leader = ""
    while time.time() < deadline:
        r = member.etcdctl("get", "--prefix", "race/", "--sort-by", "CREATE", "--print-value-only")
        leader = r.stdout.split("\n")[0] if r.stdout else ""
        if leader == "beta":
            break
        time.sleep(0.2)
    assert leader == "beta"
    second.terminate()
    second.wait(timeout=10)
    time.sleep(0.5)
    observer.terminate()
    out = observer.communicate(timeout=10)[0]
    values = [l for l in out.split("\n") if l in ("alpha", "beta")]
    assert values[:2] == ["alpha", "beta"], out
