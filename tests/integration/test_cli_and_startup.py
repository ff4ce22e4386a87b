"""The `cairn` binary's command line and start-up, as an operator or script meets them:
etcd's flags, ETCD_* variables, --config-file, refusal of unknown and unsupported
flags, warnings for ignored ones, and refusal to start on a corrupt WAL without
touching it."""
import glob
import hashlib
import os
import subprocess
import time

import pytest

from cluster import AGAINST, CAIRN_BIN, Member

pytestmark = pytest.mark.skipif(AGAINST != "cairn", reason="Cairn's own start-up behaviour")


def run_cairn(args, env=None, timeout=20):
    return subprocess.run([CAIRN_BIN] + args, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def test_unknown_flag_is_an_error():
    r = run_cairn(["--no-such-flag=1"])
    assert r.returncode != 0
    assert "unknown flag --no-such-flag" in r.stderr


def test_behaviour_changing_flag_is_refused():
    r = run_cairn(["--discovery=https://example.invalid/x"])
    assert r.returncode != 0
    assert "--discovery" in r.stderr and "not supported" in r.stderr


def test_bad_values_are_refused_with_clear_messages():
    r = run_cairn(["--max-txn-ops=abc"])
    assert r.returncode != 0 and "max-txn-ops" in r.stderr
    r = run_cairn(["--listen-client-urls=ftp://127.0.0.1:1"])
    assert r.returncode != 0 and "URL scheme must be http, https, unix, or unixs" in r.stderr


def test_version_and_help():
    r = run_cairn(["--version"])
    assert r.returncode == 0 and "etcd API Version: 3.5" in r.stdout
    r = run_cairn(["--help"])
    assert r.returncode == 0 and "--listen-client-urls" in r.stdout and "--data-dir" in r.stdout


def test_harmless_unimplemented_flag_warns_and_runs(tmp_path):
    m = Member(tmp_path / "data", extra_args=["--logger=zap", "--log-outputs=stderr"]).start()
    try:
        m.etcdctl("put", "k", "v")
    finally:
        assert m.stop() == 0
    log = m.log()
    assert "--logger" in log and "ignored" in log


def test_log_level_hides_info_lines(tmp_path):
    """--log-level reaches the logger: at warn, the info lines a member always writes
    (start-up, "ready to serve client requests", shutdown) are gone; warnings stay."""
    logs = {}
    for level in ("info", "warn"):
        m = Member(tmp_path / level, extra_args=["--log-level", level, "--logger=zap"]).start()
        try:
            m.etcdctl("put", "k", "v")
        finally:
            assert m.stop() == 0
        logs[level] = m.log()
    assert "ready to serve client requests" in logs["info"]
    assert "\tinfo\t" not in logs["warn"] and "ready to serve client requests" not in logs["warn"]
    assert "--logger" in logs["warn"] and "ignored" in logs["warn"]


def test_environment_variables_configure_the_member(tmp_path):
    m = Member(tmp_path / "unused")
    env_data_dir = str(tmp_path / "from-env")
    client = "http://127.0.0.1:%d" % m.port
    env = {"ETCD_DATA_DIR": env_data_dir, "ETCD_LISTEN_CLIENT_URLS": client, "ETCD_ADVERTISE_CLIENT_URLS": client,
           "ETCD_MAX_TXN_OPS": "3"}
    proc = subprocess.Popen([CAIRN_BIN], env=dict(os.environ, **env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    m.proc = proc
    try:
        m.wait_ready()
        ops = ["put k%d v" % i for i in range(4)]
        r = m.etcdctl("txn", "-i", input="\n" + "\n".join(ops) + "\n\n\n", check=False)
        assert r.returncode != 0 and "too many operations in txn request" in r.stderr
        assert os.path.isdir(os.path.join(env_data_dir, "member", "wal"))
    finally:
        assert m.stop() == 0


def test_config_file_configures_the_member(tmp_path):
    m = Member(tmp_path / "unused")
    client = "http://127.0.0.1:%d" % m.port
    data_dir = tmp_path / "from-file"
    config = tmp_path / "cairn.yaml"
    config.write_text("name: filed\ndata-dir: %s\nlisten-client-urls: %s\nadvertise-client-urls: %s\n"
                      "max-request-bytes: 2048\n" % (data_dir, client, client))
    m.proc = subprocess.Popen([CAIRN_BIN, "--config-file", str(config)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        m.wait_ready()
        r = m.etcdctl("put", "big", "x" * 4096, check=False)
        assert r.returncode != 0 and "request is too large" in r.stderr
        m.etcdctl("put", "small", "x")
        assert os.path.isdir(os.path.join(str(data_dir), "member", "wal"))
    finally:
        assert m.stop() == 0


def test_corrupt_wal_record_stops_startup_and_changes_nothing(tmp_path):
    m = Member(tmp_path / "data").start()
    c = m.client()
    for i in range(200):
        c.put("k%03d" % i, "value-%d" % i)
    assert m.stop() == 0
    segments = sorted(glob.glob(os.path.join(m.data_dir, "member", "wal", "*.wal")))
    assert segments
    with open(segments[-1], "r+b") as f:
        data = f.read()
        marker = data.find(b"value-100")  # a record well before the end of the log
        assert marker > 0
        f.seek(marker)
        f.write(b"VALUE")
    digest = lambda: {p: hashlib.sha256(open(p, "rb").read()).hexdigest()
                      for p in glob.glob(os.path.join(m.data_dir, "**"), recursive=True) if os.path.isfile(p)}
    before = digest()
    r = run_cairn(m.command()[1:], timeout=30)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "corrupt record in %s at offset" % segments[-1] in out, out
    assert digest() == before, "start-up on a corrupt WAL modified the data dir"


def test_initial_election_tick_advance_decides_whether_a_restarted_lone_member_waits(tmp_path):
    """A restarted single member campaigns at once (etcd's default); with
    --initial-election-tick-advance=false it first waits out an election timeout
    (here 3 s, counted in heartbeat ticks, so never less)."""
    m = Member(tmp_path / "data", extra_args=["--election-timeout=3000", "--heartbeat-interval=100"]).start(timeout=60)
    m.etcdctl("put", "k", "v")
    assert m.stop() == 0

    def seconds_to_first_write(extra):
        m.extra_args = ["--election-timeout=3000", "--heartbeat-interval=100"] + extra
        started = time.time()
        m.start(wait=False)
        try:
            while m.etcdctl("put", "k", "v", check=False, timeout=30).returncode != 0:
                assert time.time() - started < 60, m.log()
            return time.time() - started
        finally:
            assert m.stop() == 0

    waited = seconds_to_first_write(["--initial-election-tick-advance=false"])
    advanced = seconds_to_first_write([])
    assert waited >= 2.9, "elected after %.2f s without waiting an election timeout" % waited
    assert advanced < waited - 1, "the default waited too: %.2f s against %.2f s" % (advanced, waited)
