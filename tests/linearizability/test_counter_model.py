"""The checker with a model other than the key-value one: a counter, whose
additions commute, so the commuting-order reduction of the search matters."""
import random

import pytest

from linearizability import exhaustive
from linearizability.checker import Verdict, check
from linearizability.history import UNKNOWN, Operation, indeterminate
from linearizability.model import Model

LIN, NOT = Verdict.LINEARIZABLE, Verdict.NOT_LINEARIZABLE


class CounterModel(Model):
    """Inputs ("add", n), output ignored, and ("read",), output the value."""

    def init(self):
        return 0

    def step(self, state, input, output):
        if input[0] == "add":
            return True, state + input[1]
        return output is UNKNOWN or output == state, state


def add(n):
    return ("add", n)


READ = ("read",)


@pytest.mark.parametrize("read, expected", [(0, LIN), (1, LIN), (2, LIN), (3, LIN), (4, NOT)])
def test_additions_of_unknown_outcome_may_each_have_happened_or_not(read, expected):
    assert check(CounterModel(), [
        indeterminate(0, add(1), 0),
        indeterminate(1, add(2), 0),
        Operation(2, READ, read, 10, 11),
    ]).verdict is expected


def test_reads_going_down_are_not_linearizable():
    assert check(CounterModel(), [
        indeterminate(0, add(1), 0),
        Operation(1, READ, 1, 10, 11),
        Operation(1, READ, 0, 12, 13),
    ]).verdict is NOT


def test_default_partition_keeps_the_history_whole_and_names_it():
    result = check(CounterModel(), [Operation(0, add(1), None, 0, 1), Operation(1, READ, 5, 2, 3)])
    assert result.part == "history"
    assert "('read',) -> 5" in result.explanation


def test_agrees_with_the_exhaustive_search_on_arbitrary_histories():
    rng = random.Random(11)
    verdicts = {LIN: 0, NOT: 0}
    for _ in range(2000):
        history = []
        for _ in range(rng.randint(1, 10)):
            call = rng.randint(0, 20)
            if rng.random() < 0.5:
                history.append(Operation(rng.randrange(3), READ, rng.randint(0, 3), call, call + rng.randint(0, 6)))
            elif rng.random() < 0.5:
                history.append(indeterminate(rng.randrange(3), add(rng.randint(1, 2)), call))
            else:
                history.append(Operation(rng.randrange(3), add(rng.randint(1, 2)), None, call, call + rng.randint(0, 6)))
        expected = LIN if exhaustive.is_linearizable(CounterModel(), history) else NOT
        assert check(CounterModel(), history).verdict is expected, history
        verdicts[expected] += 1
    assert min(verdicts.values()) > 400, verdicts
