"""Client and peer TLS: etcdctl over https, client certificate authentication,
certificate rotation without a restart, a cluster whose members talk TLS."""
import os
import subprocess
import time

import pytest

from cluster import AGAINST, CAIRN_BIN, Cluster, Member
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


def https_peer_cluster(tmp_path, peer_args):
    """A started 3-member cluster with https peer URLs; peer_args(member) gives its TLS flags."""
    c = Cluster(tmp_path, size=3)
    for m in c.members:
        m.peer_scheme = "https"
        m.extra_args += peer_args(m)
    initial = ",".join("%s=%s" % (m.name, m.peer_url) for m in c.members)
    for m in c.members:
        m.initial_cluster = initial
    return c.start()


def check_writes_cross_https_peers(c, value):
    leader = c.leader()
    follower = next(m for m in c.members if m is not leader)
    follower.etcdctl("put", "over", value)
    for m in c.members:
        assert m.etcdctl("get", "over", "--consistency", "s", "--print-value-only").stdout in (value + "\n", "")
    assert leader.etcdctl("get", "over", "--print-value-only").stdout == value + "\n"
    peers = [u for x in leader.etcdctl_json("member", "list")["members"] for u in x["peerURLs"]]
    assert len(peers) == 3 and all(u.startswith("https://") for u in peers)


def test_members_talk_tls_to_each_other(tmp_path):
    pki = Pki(tmp_path / "pki")

    def peer_args(m):
        crt, key = pki.issue("peer-" + m.name)
        return ["--peer-cert-file", crt, "--peer-key-file", key, "--peer-client-cert-auth", "--peer-trusted-ca-file", pki.ca]
    c = https_peer_cluster(tmp_path, peer_args)
    try:
        check_writes_cross_https_peers(c, "tls")
    finally:
        c.stop()


def test_auto_tls_serves_a_generated_certificate_and_keeps_it_across_restarts(tmp_path):
    # etcd 3.4 has no --self-signed-cert-validity (3.5 does): its certificates last a year.
    years = 1 if AGAINST == "etcd" else 2
    m = Member(tmp_path / "data", extra_args=["--auto-tls"] + ([] if AGAINST == "etcd" else ["--self-signed-cert-validity", "2"]))
    m.client_scheme = "https"
    # There is no CA to verify a self-signed certificate with: clients skip verification.
    m.etcdctl_args = ["--insecure-transport=false", "--insecure-skip-tls-verify"]
    m.start()
    cert = os.path.join(m.data_dir, "fixtures", "client", "cert.pem")
    try:
        m.etcdctl("put", "k", "auto")
        assert m.etcdctl("get", "k", "--print-value-only").stdout == "auto\n"
        with open(cert) as f:
            first = f.read()
        text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", cert], capture_output=True, text=True,
                              check=True).stdout
        assert "IP Address:127.0.0.1" in text
        dates = dict(line.split("=", 1) for line in subprocess.run(
            ["openssl", "x509", "-noout", "-startdate", "-enddate", "-in", cert],
            capture_output=True, text=True, check=True).stdout.splitlines())
        fmt = "%b %d %H:%M:%S %Y %Z"
        days = (time.mktime(time.strptime(dates["notAfter"], fmt)) - time.mktime(time.strptime(dates["notBefore"], fmt))) / 86400
        assert abs(days - 365 * years) <= 1, days
        m.etcdctl_args = []
        assert m.etcdctl("get", "k", check=False, timeout=20).returncode != 0, "plaintext must be refused"
        m.etcdctl_args = ["--insecure-transport=false", "--insecure-skip-tls-verify"]
    finally:
        assert m.stop() in CLEAN_EXIT
    m.start()
    try:
        assert m.etcdctl("get", "k", "--print-value-only").stdout == "auto\n"
        with open(cert) as f:
            assert f.read() == first, "a restart serves the same certificate"
    finally:
        assert m.stop() in CLEAN_EXIT


def test_auto_tls_gives_way_to_certificate_files(tmp_path):
    pki = Pki(tmp_path / "pki")
    m = tls_member(tmp_path, pki)
    m.extra_args.append("--auto-tls")
    m.start()
    try:
        # Verified against the CA: the given certificate is served, not a generated one.
        m.etcdctl("put", "k", "files")
        assert not os.path.exists(os.path.join(m.data_dir, "fixtures", "client", "cert.pem"))
    finally:
        assert m.stop() in CLEAN_EXIT


def test_members_talk_tls_to_each_other_with_peer_auto_tls(tmp_path):
    c = https_peer_cluster(tmp_path, lambda m: ["--peer-auto-tls"])
    try:
        check_writes_cross_https_peers(c, "auto-tls")
        for m in c.members:
            assert os.path.exists(os.path.join(m.data_dir, "fixtures", "peer", "cert.pem"))
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
    r = start("--cert-file", crt, "--key-file", crt, scheme="https")
    assert r.returncode != 0 and "private key" in r.stderr
