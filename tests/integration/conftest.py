import signal

import pytest

from cluster import AGAINST, Member

# etcd re-raises SIGTERM (exit by signal); Cairn exits 0 after a clean shutdown.
CLEAN_EXIT = (0, -signal.SIGTERM) if AGAINST == "etcd" else (0,)


@pytest.fixture
def member(tmp_path):
    m = Member(tmp_path / "data").start()
    yield m
    rc = m.stop()
    assert rc in CLEAN_EXIT, "server did not shut down cleanly (exit %s):\n%s" % (rc, m.log())
