"""Real server processes for integration tests.

A Member is one `cairn` process (or, with CAIRN_TEST_AGAINST=etcd, one real etcd
3.4 process, so every expectation in these tests can be checked against etcd
itself) on loopback ports with its own data directory. Tests start, stop (SIGTERM),
kill (SIGKILL) and restart it, and drive it with the real clients: etcdctl and
python-etcd3.
"""
import base64
import json
import os
import signal
import socket
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAIRN_BIN = os.environ.get("CAIRN_BIN", os.path.join(REPO, "build", "server", "cmd", "cairn"))
AGAINST = os.environ.get("CAIRN_TEST_AGAINST", "cairn")
ETCDCTL = os.environ.get("ETCDCTL", "etcdctl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        self.proc = None
        self.log_path = self.data_dir + ".log"

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self.port

    def command(self):
        client = "http://127.0.0.1:%d" % self.port
        peer = "http://127.0.0.1:%d" % self.peer_port
        binary = "etcd" if AGAINST == "etcd" else CAIRN_BIN
        return [binary, "--name", self.name, "--data-dir", self.data_dir,
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "%s=%s" % (self.name, peer)] + self.extra_args

    def start(self, timeout=30):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.wait_ready(timeout)
        return self

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
               "--command-timeout", "10s"] + list(args)
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
