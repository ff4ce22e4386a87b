"""Client and peer TLS: etcdctl over https, client certificate authentication,
certificate rotation without a restart, a cluster whose members talk TLS."""
import os
import subprocess
import time

import pytest

from cluster import CAIRN_BIN, Cluster, Member
from conftest import CLEAN_EXIT


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


class Pki:
    """A CA and certificates for 127.0.0.1, made with the openssl CLI."""

    def __init__(self, root, name="ca"):
        self.dir = str(root)
        os.makedirs(self.dir, exist_ok=True)
        self.ca = os.path.join(self.dir, name + ".crt")
        self.ca_key = os.path.join(self.dir, name + ".key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.ca_key, "-out", self.ca, "-days", "2", "-subj", "/CN=" + name, cwd=self.dir)

    def issue(self, name):
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        crt = os.path.join(self.dir, name + ".crt")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                "-out", csr, "-subj", "/CN=" + name, cwd=self.dir)
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial", "-out", crt,
                "-days", "2", "-extfile", ext, cwd=self.dir)
        return crt, key


def tls_member(tmp_path, pki, client_cert_auth=False):
    crt, key = pki.issue("server")
    args = ["--cert-file", crt, "--key-file", key]
    if client_cert_auth:
        args += ["--client-cert-auth", "--trusted-ca-file", pki.ca]
    m = Member(tmp_path / "data", extra_args=args)
    m.client_scheme = "https"
    m.etcdctl_args = ["--cacert", pki.ca]
    return m


def test_etcdctl_over_tls_and_plaintext_is_refused(tmp_path):
    pki = Pki(tmp_path / "pki")
    m = tls_member(tmp_path, pki).start()
    try:
        m.etcdctl("put", "k", "v")
        assert m.etcdctl("get", "k", "--print-value-only").stdout == "v\n"
        m.etcdctl_args = []
        plain = m.etcdctl("get", "k", check=False, timeout=20)
        assert plain.returncode != 0
    finally:
        assert m.stop() in CLEAN_EXIT


def test_client_cert_auth_requires_a_certificate_from_the_trusted_ca(tmp_path):
    pki = Pki(tmp_path / "pki")
    m = tls_member(tmp_path, pki, client_cert_auth=True)
    client_crt, client_key = pki.issue("client")
    m.etcdctl_args = ["--cacert", pki.ca, "--cert", client_crt, "--key", client_key]
    m.start()
    try:
        m.etcdctl("put", "k", "v")
        m.etcdctl_args = ["--cacert", pki.ca]
        assert m.etcdctl("get", "k", check=False, timeout=20).returncode != 0
        stranger = Pki(tmp_path / "other", name="other-ca")
        crt, key = stranger.issue("client")
        m.etcdctl_args = ["--cacert", pki.ca, "--cert", crt, "--key", key]
        assert m.etcdctl("get", "k", check=False, timeout=20).returncode != 0
    finally:
        assert m.stop() in CLEAN_EXIT


def test_a_rotated_certificate_is_served_without_a_restart(tmp_path):
    pki = Pki(tmp_path / "pki")
    m = tls_member(tmp_path, pki).start()
    try:
        m.etcdctl("put", "k", "v")
        crt, key = m.extra_args[1], m.extra_args[3]
        renewed = Pki(tmp_path / "renewed", name="renewed-ca")
        new_crt, new_key = renewed.issue("server")
        # The key first: a key that does not match its certificate is never loaded.
        with open(new_key, "rb") as src, open(key + ".tmp", "wb") as dst:
            dst.write(src.read())
        with open(new_crt, "rb") as src, open(crt + ".tmp", "wb") as dst:
            dst.write(src.read())
        os.rename(key + ".tmp", key)
        os.rename(crt + ".tmp", crt)
        m.etcdctl_args = ["--cacert", renewed.ca]
        deadline = time.time() + 15
        while m.etcdctl("get", "k", check=False, timeout=20).returncode != 0:
            assert time.time() < deadline, "the renewed certificate was not served"
            time.sleep(0.5)
        assert m.etcdctl("get", "k", "--print-value-only").stdout == "v\n"
        m.etcdctl_args = ["--cacert", pki.ca]
        assert m.etcdctl("get", "k", check=False, timeout=20).returncode != 0
    finally:
        assert m.stop() in CLEAN_EXIT


def test_members_talk_tls_to_each_other(tmp_path):
    pki = Pki(tmp_path / "pki")
    c = Cluster(tmp_path, size=3)
    for m in c.members:
        crt, key = pki.issue("peer-" + m.name)
        m.peer_scheme = "https"
        m.extra_args += ["--peer-cert-file", crt, "--peer-key-file", key, "--peer-client-cert-auth",
                         "--peer-trusted-ca-file", pki.ca]
    initial = ",".join("%s=%s" % (m.name, m.peer_url) for m in c.members)
    for m in c.members:
        m.initial_cluster = initial
    c.start()
    try:
        leader = c.leader()
        follower = next(m for m in c.members if m is not leader)
        follower.etcdctl("put", "over", "tls")
        for m in c.members:
            assert m.etcdctl("get", "over", "--consistency", "s", "--print-value-only").stdout in ("tls\n", "")
        assert leader.etcdctl("get", "over", "--print-value-only").stdout == "tls\n"
        peers = [u for x in leader.etcdctl_json("member", "list")["members"] for u in x["peerURLs"]]
        assert len(peers) == 3 and all(u.startswith("https://") for u in peers)
    finally:
        c.stop()


def test_bad_tls_settings_are_refused_at_start(tmp_path):
    pki = Pki(tmp_path / "pki")
    crt, key = pki.issue("server")

    def start(*args, scheme="http"):
        m = Member(tmp_path / ("data-%d" % len(os.listdir(str(tmp_path)))), extra_args=list(args))
        m.client_scheme = scheme
        return subprocess.run([CAIRN_BIN] + m.command()[1:], capture_output=True, text=True, timeout=30)

    r = start("--cert-file", crt, "--key-file", str(tmp_path / "missing.key"), scheme="https")
    assert r.returncode != 0 and "--key-file" in r.stderr
    r = start(scheme="https")
    assert r.returncode != 0 and "--cert-file, --key-file) must be provided" in r.stderr
    r = start("--cert-file", crt, "--key-file", key, "--client-cert-auth", scheme="https")
    assert r.returncode != 0 and "--trusted-ca-file" in r.stderr
    r = start("--cert-file", crt, "--key-file", key, "--auto-tls", scheme="https")
    assert r.returncode != 0 and "--auto-tls" in r.stderr
    r = start("--cert-file", crt, "--key-file", crt, scheme="https")
    assert r.returncode != 0 and "private key" in r.stderr
