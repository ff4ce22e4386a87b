"""Generated histories: linearizable by construction, mutated into
non-linearizable ones, arbitrary ones cross-checked against the exhaustive
search of the definition, large ones, and ones that time out.
"""
import dataclasses
import random
import time

import pytest

from linearizability import exhaustive
from linearizability.checker import Verdict, check
from linearizability.history import Operation, indeterminate
from linearizability.kv_model import KvModel, cas, delete, get, put
from linearizability.model import Model
from linearizability.random_history import generate

LIN, NOT = Verdict.LINEARIZABLE, Verdict.NOT_LINEARIZABLE
FIVE_KEYS = ("a", "b", "c", "d", "e")
# Generous: the large history takes well under a second on a loaded 2-core machine.
LARGE_TIMEOUT = 120


def assert_valid_linearization(model, history, result):
    """Each part's linearization holds every operation of the part once, is
    accepted by the model, and never puts an operation before one that
    returned before it was called."""
    for label, part in model.partition(history):
        order = result.linearizations[label]
        assert sorted(map(id, order)) == sorted(map(id, part)), label
        state = model.init()
        for position, op in enumerate(order):
            allowed, state = model.step(state, op.input, op.output)
            assert allowed, (label, op)
            assert not any(later.ret < op.call for later in order[position + 1:]), (label, op)


def with_a_read_of_a_value_never_written(rng, history):
    """The history with one completed read (appended if there is none)
    answering a value no operation wrote, and that read."""
    reads = [i for i, op in enumerate(history) if op.input.op == "get" and not op.indeterminate]
    mutated = list(history)
    if reads:
        i = rng.choice(reads)
        mutated[i] = dataclasses.replace(history[i], output="never written")
        return mutated, mutated[i]
    end = max([op.call for op in history], default=0) + 1
    mutated.append(Operation("reader", get(FIVE_KEYS[0]), "never written", end, end + 1))
    return mutated, mutated[-1]


def random_shape(seed):
    rng = random.Random(seed)
    return dict(operations=rng.randint(1, 120), keys=FIVE_KEYS[:rng.randint(1, 3)],
                clients=rng.randint(1, 6), indeterminate=rng.choice([0.0, 0.05, 0.2]))


@pytest.mark.parametrize("seed", range(200))
def test_generated_history_is_linearizable(seed):
    history = generate(random.Random(seed), **random_shape(seed))
    result = check(KvModel(), history, timeout=60)
    assert result.verdict is LIN, result
    assert_valid_linearization(KvModel(), history, result)


@pytest.mark.parametrize("seed", range(200))
def test_generated_history_with_a_read_of_a_value_never_written_is_not_linearizable(seed):
    rng = random.Random(seed)
    history = generate(rng, **random_shape(seed))
    mutated, bad_read = with_a_read_of_a_value_never_written(rng, history)
    result = check(KvModel(), mutated, timeout=60)
    assert result.verdict is NOT
    assert result.part == "key %r" % (bad_read.input.key,)
    assert bad_read in result.stuck


class WholeHistoryKvModel(KvModel):
    """The key-value model without partitioning: one search over all keys."""
    partition = Model.partition


@pytest.mark.parametrize("seed", range(50))
def test_partitioning_by_key_does_not_change_the_verdict(seed):
    rng = random.Random(seed)
    history = generate(rng, 40, keys=FIVE_KEYS[:3], clients=4, indeterminate=0.1)
    mutated, _ = with_a_read_of_a_value_never_written(rng, history)
    assert check(WholeHistoryKvModel(), history, timeout=60).verdict is LIN
    assert check(WholeHistoryKvModel(), mutated, timeout=60).verdict is NOT


def arbitrary_history(rng):
    """Up to 14 operations on one or two keys, a third of unknown outcome, with
    outputs drawn at random (so that about half are linearizable) and values
    from a small pool (so that unknown operations often have equal inputs)."""
    history = []
    values = ["a", "b", "c"][:rng.randint(1, 3)]
    for _ in range(rng.randint(1, 14)):
        key, client = rng.choice("xy"[:rng.randint(1, 2)]), rng.randrange(4)
        kind, value = rng.choice(["get", "put", "cas", "delete"]), rng.choice(values)
        input = {"get": get(key), "put": put(key, value), "delete": delete(key),
                 "cas": cas(key, rng.choice([None] + values), value)}[kind]
        call = rng.randint(0, 25)
        if rng.random() < 0.35:
            history.append(indeterminate(client, input, call))
            continue
        output = {"get": rng.choice([None] + values), "put": None, "delete": rng.choice([None, True, False]),
                  "cas": rng.choice([True, False])}[kind]
        history.append(Operation(client, input, output, call, call + rng.randint(0, 8)))
    return history


@pytest.mark.parametrize("model", [KvModel(), WholeHistoryKvModel()], ids=["by_key", "whole"])
def test_agrees_with_the_exhaustive_search_on_arbitrary_histories(model):
    rng = random.Random(2024)
    verdicts = {LIN: 0, NOT: 0}
    for _ in range(3000):
        history = arbitrary_history(rng)
        expected = LIN if exhaustive.is_linearizable(model, history) else NOT
        result = check(model, history, timeout=60)
        assert result.verdict is expected, history
        if expected is LIN:
            assert_valid_linearization(model, history, result)
        verdicts[expected] += 1
    # Both verdicts must be well represented for the comparison to mean anything.
    assert min(verdicts.values()) > 900, verdicts


def large_history():
    history = generate(random.Random(7), 2000, keys=FIVE_KEYS, clients=10, indeterminate=0.015)
    assert 20 <= sum(op.indeterminate for op in history) <= 60
    return history


def test_large_history_is_linearizable_within_the_timeout():
    history = large_history()
    started = time.monotonic()
    result = check(KvModel(), history, timeout=LARGE_TIMEOUT)
    print("large linearizable history: %.3f s" % (time.monotonic() - started))
    assert result.verdict is LIN, result
    assert_valid_linearization(KvModel(), history, result)


def test_large_history_with_a_bad_read_is_not_linearizable_within_the_timeout():
    mutated, bad_read = with_a_read_of_a_value_never_written(random.Random(7), large_history())
    started = time.monotonic()
    result = check(KvModel(), mutated, timeout=LARGE_TIMEOUT)
    print("large non-linearizable history: %.3f s" % (time.monotonic() - started))
    assert result.verdict is NOT
    assert bad_read in result.stuck


def many_pending_unknown_puts_then(read_output):
    """30 puts of unknown outcome, all pending when a read returns."""
    history = [indeterminate(n, put("k", "v%d" % n), n) for n in range(30)]
    return history + [Operation("reader", get("k"), read_output, 100, 101)]


@pytest.mark.parametrize("read_output, expected", [("v17", LIN), (None, LIN), ("never written", NOT)])
def test_many_pending_unknown_operations_do_not_blow_up_the_search(read_output, expected):
    # Placed naively, each subset of the 30 puts would be searched.
    assert check(KvModel(), many_pending_unknown_puts_then(read_output), timeout=LARGE_TIMEOUT).verdict is expected


def test_timeout_gives_unknown():
    # 24 concurrent puts and a concurrent read of a value none of them wrote:
    # proving that no order works takes a search over every subset of them.
    history = [Operation(n, put("k", "v%d" % n), None, 0, 100) for n in range(24)]
    history.append(Operation("reader", get("k"), "never written", 0, 50))
    result = check(KvModel(), history, timeout=0.5)
    assert result.verdict is Verdict.UNKNOWN
    assert result.part == "key 'k'"
    assert result.explanation.startswith("UNKNOWN: the check timed out after")
