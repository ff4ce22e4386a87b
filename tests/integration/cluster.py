"""Real server processes for integration tests.

A Member is one `cairn` process (or, with CAIRN_TEST_AGAINST=etcd, one real etcd
3.4 process, so every expectation in these tests can be checked against etcd
itself) on loopback ports with its own data directory. Tests start, stop (SIGTERM),
kill (SIGKILL) and restart it, and drive it with the real clients: etcdctl and
python-etcd3.
"""
import base64
import fcntl
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAIRN_BIN = os.environ.get("CAIRN_BIN", os.path.join(REPO, "build", "server", "cmd", "cairn"))
AGAINST = os.environ.get("CAIRN_TEST_AGAINST", "cairn")
ETCDCTL = os.environ.get("ETCDCTL", "etcdctl")


def wait_until(predicate, timeout, what):
    """Polls `predicate` until it returns something truthy, which it returns."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


_PORT_LOCKS = os.path.join(tempfile.gettempdir(), "cairn-test-ports")
_held_port_locks = []  # open lock files: released when this process exits


def free_port():
    """A port for a server this test will start, that no other test process can pick.

    A port from bind(0) is only free until the socket closes: before the server binds
    it, a test running in parallel may be handed the same one (ctest -j runs suites in
    parallel), or an outgoing connection may take it as its source port. So ports come
    from 26000-31999, outside the kernel's ephemeral range and the C++ tests' block
    (23000-23999), and each is reserved by a lock file this process holds until it exits.
    """
    os.makedirs(_PORT_LOCKS, exist_ok=True)
    rng = random.Random()
    for _ in range(2000):
        port = rng.randrange(26000, 32000)
        fd = os.open(os.path.join(_PORT_LOCKS, str(port)), os.O_CREAT | os.O_RDWR, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
        except OSError:
            os.close(fd)
            continue
        _held_port_locks.append(fd)
        return port
    raise AssertionError("no free test port in 26000-31999")


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unb64(s):
    return base64.b64decode(s).decode()


class Member:
    def __init__(self, data_dir, name="default", extra_args=()):
        self.data_dir = str(data_dir)
        self.name = name
        self.port = free_port()
        self.peer_port = free_port()
        self.extra_args = list(extra_args)
        self.initial_cluster = None  # name=url,...; None = a cluster of this member alone
        self.proc = None
        self.env = None  # the process environment; None = the test's own
        self.log_path = self.data_dir + ".log"
        # "https" with TLS flags in extra_args; etcdctl_args then carry --cacert etc.
        self.client_scheme = "http"
        self.peer_scheme = "http"
        self.etcdctl_args = []

    @property
    def peer_url(self):
        return "%s://127.0.0.1:%d" % (self.peer_scheme, self.peer_port)

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self.port

    def command(self):
        client = "%s://127.0.0.1:%d" % (self.client_scheme, self.port)
        listen_peer = self.peer_url
        binary = "etcd" if AGAINST == "etcd" else CAIRN_BIN
        return [binary, "--name", self.name, "--data-dir", self.data_dir,
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", listen_peer, "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", self.initial_cluster or "%s=%s" % (self.name, self.peer_url)] + self.extra_args

    def start(self, timeout=30, wait=True):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=self.env)
        log.close()
        if wait:
            self.wait_ready(timeout)
        return self

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def status(self):
        return self.etcdctl_json("endpoint", "status")[0]["Status"]

    def member_id(self):
        if getattr(self, "_member_id", None) is None:
            self._member_id = self.status()["header"]["member_id"]
        return self._member_id

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %d:\n%s" % (self.proc.returncode, self.log()))
            r = self.etcdctl("endpoint", "health", check=False, timeout=5)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("server not ready after %ss:\n%s" % (timeout, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-8000:]
        except OSError:
            return ""

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("server did not stop on SIGTERM within %ss" % timeout)
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def etcdctl(self, *args, input=None, check=True, timeout=30):
        cmd = [ETCDCTL, "--endpoints", self.endpoint, "--dial-timeout", "2s",
               "--command-timeout", "10s"] + self.etcdctl_args + list(args)
        env = dict(os.environ, ETCDCTL_API="3")
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=env)
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
        return r

    def etcdctl_json(self, *args):
        return json.loads(self.etcdctl(*args, "-w", "json").stdout)

    def client(self):
        import etcd3
        return etcd3.client(host="127.0.0.1", port=self.port, timeout=10)


class Cluster:
    """N members on loopback bootstrapped together with --initial-cluster.

    With proxies=True each member dials its peers through its own netproxy.ConnectProxy,
    so a test can partition the members (cluster.partition, cluster.isolate) in both
    directions and heal it again.
    """

    def __init__(self, base_dir, size=3, extra_args=(), proxies=False):
        import netproxy
        self.members = []
        self.proxies = {}
        for i in range(size):
            name = "m%d" % i
            m = Member(os.path.join(str(base_dir), name), name=name, extra_args=extra_args)
            if proxies:
                proxy = netproxy.ConnectProxy()
                m.env = dict(os.environ, grpc_proxy="http://127.0.0.1:%d" % proxy.port)
                m.env.pop("no_grpc_proxy", None)
                m.env.pop("no_proxy", None)
                self.proxies[name] = proxy
            self.members.append(m)
        initial = ",".join("%s=%s" % (m.name, m.peer_url) for m in self.members)
        for m in self.members:
            m.initial_cluster = initial

    def start(self, timeout=30):
        for m in self.members:
            m.start(wait=False)
        for m in self.members:
            m.wait_ready(timeout)
        return self

    @property
    def endpoints(self):
        return ",".join(m.endpoint for m in self.members)

    def running(self):
        return [m for m in self.members if m.proc and m.proc.poll() is None]

    def leader(self, timeout=15, among=None):
        """The member every running member (or `among`) agrees is leader."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            leaders = set()
            for m in among or self.running():
                r = m.etcdctl("endpoint", "status", "-w", "json", check=False, timeout=5)
                if r.returncode != 0:
                    leaders.add(None)
                    continue
                leaders.add(json.loads(r.stdout)[0]["Status"].get("leader", 0))
            last = leaders
            if len(leaders) == 1 and None not in leaders and 0 not in leaders:
                lead = leaders.pop()
                for m in self.members:
                    if m.proc and m.proc.poll() is None and m.member_id() == lead:
                        return m
            time.sleep(0.1)
        raise AssertionError("no agreed leader within %ss (saw %s)" % (timeout, last))

    def partition(self, *groups):
        """Members in different groups can no longer reach each other, either way (peer
        and client ports, since members also forward requests to the leader's)."""
        group_of = {m.name: i for i, g in enumerate(groups) for m in g}
        for m in self.members:
            self.proxies[m.name].block([port for other in self.members
                                        if group_of.get(other.name) != group_of.get(m.name)
                                        for port in (other.peer_port, other.port)])

    def isolate(self, member):
        self.partition([member], [m for m in self.members if m is not member])

    def heal(self):
        for p in self.proxies.values():
            p.block([])

    def stop(self):
        for m in self.members:
            if m.proc and m.proc.poll() is None:
                try:
                    m.resume()
                except OSError:
                    pass
                m.stop()
        for p in self.proxies.values():
            p.close()
