"""Operations and the Recorder, including a recorded run checked end to end."""
import threading

import pytest

import linearizability
from linearizability.checker import Verdict, check
from linearizability.history import INF, UNKNOWN, Operation, Recorder, indeterminate
from linearizability.kv_model import KvModel, get, put


@pytest.mark.parametrize("output, call, ret", [(None, 5, 4), (None, 0, INF), (UNKNOWN, 0, 1)])
def test_operation_rejects_inconsistent_fields(output, call, ret):
    with pytest.raises(ValueError):
        Operation(0, get("k"), output, call, ret)


def test_indeterminate_operation_never_returns_and_has_unknown_output():
    op = indeterminate(3, put("k", "v"), 7)
    assert (op.client, op.call, op.ret, op.output, op.indeterminate) == (3, 7, INF, UNKNOWN, True)


class FakeClock:
    def __init__(self):
        self.now = 0

    def __call__(self):
        self.now += 10
        return self.now


def test_recorder_keeps_answered_and_unknown_operations_and_drops_failed_ones():
    recorder = Recorder(clock=FakeClock())
    answered = recorder.call("c1", put("k", "a"))
    timed_out = recorder.call("c2", put("k", "b"))
    rejected = recorder.call("c3", get("k"))
    recorder.ok(answered)
    recorder.unknown(timed_out)
    recorder.fail(rejected)
    assert recorder.operations() == [
        Operation("c1", put("k", "a"), None, 10, 40),
        indeterminate("c2", put("k", "b"), 20),
    ]


def test_recorder_counts_operations_still_open_as_unknown():
    recorder = Recorder(clock=FakeClock())
    recorder.call("c1", put("k", "a"))
    assert recorder.operations() == [indeterminate("c1", put("k", "a"), 10)]


def test_recorder_is_safe_for_concurrent_clients():
    recorder = Recorder()
    store, lock = {}, threading.Lock()

    def client(name):
        for n in range(200):
            key = "k%d" % (n % 3)
            token = recorder.call(name, put(key, "%s-%d" % (name, n)))
            with lock:
                store[key] = "%s-%d" % (name, n)
            recorder.ok(token)
            token = recorder.call(name, get(key))
            with lock:
                value = store.get(key)
            recorder.ok(token, value)

    threads = [threading.Thread(target=client, args=("c%d" % n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    operations = recorder.operations()
    assert len(operations) == 6 * 400
    assert check(KvModel(), operations, timeout=120).verdict is Verdict.LINEARIZABLE


def test_recorded_stale_read_is_not_linearizable_through_the_package_api():
    recorder = linearizability.Recorder()
    for value in ("a", "b"):
        recorder.ok(recorder.call("writer", linearizability.put("k", value)))
    # A store that serves reads from a replica one write behind.
    recorder.ok(recorder.call("reader", linearizability.get("k")), "a")
    result = linearizability.check(linearizability.KvModel(), recorder.operations(), timeout=60)
    assert not result.ok
    assert "get('k') -> 'a'  -- not allowed in this state" in str(result)
