"""Hand-written key-value histories with known verdicts.

Times are small integers; `Operation(client, input, output, call, ret)`.
The store starts empty, so a read of a key never written returns None.
"""
import pytest

from linearizability.checker import Verdict, check
from linearizability.history import Operation, indeterminate
from linearizability.kv_model import KvModel, cas, delete, get, put

LIN, NOT = Verdict.LINEARIZABLE, Verdict.NOT_LINEARIZABLE


def verdict(history):
    return check(KvModel(), history, timeout=60).verdict


def test_empty_history_is_linearizable():
    assert verdict([]) is LIN


def test_sequential_history_is_linearizable():
    assert verdict([
        Operation(0, get("k"), None, 0, 1),
        Operation(0, put("k", "a"), None, 2, 3),
        Operation(1, get("k"), "a", 4, 5),
        Operation(0, put("k", "b"), None, 6, 7),
        Operation(1, get("k"), "b", 8, 9),
        Operation(0, delete("k"), True, 10, 11),
        Operation(1, get("k"), None, 12, 13),
        Operation(1, delete("k"), False, 14, 15),
    ]) is LIN


@pytest.mark.parametrize("read", ["a", "b"])
def test_concurrent_puts_may_take_effect_in_either_order(read):
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 10),
        Operation(1, put("k", "b"), None, 0, 10),
        Operation(2, get("k"), read, 11, 12),
    ]) is LIN


def test_after_concurrent_puts_the_order_is_fixed_by_the_first_read():
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 10),
        Operation(1, put("k", "b"), None, 0, 10),
        Operation(2, get("k"), "b", 11, 12),
        Operation(2, get("k"), "a", 13, 14),
    ]) is NOT


@pytest.mark.parametrize("read", ["a", "b"])
def test_read_concurrent_with_a_put_sees_old_or_new(read):
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 1),
        Operation(0, put("k", "b"), None, 2, 10),
        Operation(1, get("k"), read, 3, 4),
    ]) is LIN


def test_stale_read_after_a_completed_write_is_not_linearizable():
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 1),
        Operation(0, put("k", "b"), None, 2, 3),
        Operation(1, get("k"), "a", 4, 5),
    ]) is NOT


def test_read_of_a_value_before_its_write_was_called_is_not_linearizable():
    assert verdict([
        Operation(1, get("k"), "a", 0, 1),
        Operation(0, put("k", "a"), None, 2, 3),
    ]) is NOT


def test_touching_intervals_are_concurrent():
    # The read is called at the very tick the put returns: the clock cannot
    # order them, so the read may precede the put.
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 5),
        Operation(1, get("k"), None, 5, 6),
    ]) is LIN


def test_delete_reporting_a_deletion_of_an_absent_key_is_not_linearizable():
    assert verdict([Operation(0, delete("k"), True, 0, 1)]) is NOT


@pytest.mark.parametrize("second, expected", [(True, NOT), (False, LIN)])
def test_lost_update_two_cas_from_the_same_value_cannot_both_succeed(second, expected):
    assert verdict([
        Operation(0, put("k", "0"), None, 0, 1),
        Operation(1, cas("k", "0", "1"), True, 2, 10),
        Operation(2, cas("k", "0", "2"), second, 2, 10),
    ]) is expected


def test_two_creates_of_an_absent_key_cannot_both_succeed():
    assert verdict([
        Operation(1, cas("k", None, "1"), True, 0, 10),
        Operation(2, cas("k", None, "2"), True, 0, 10),
    ]) is NOT


def test_failed_cas_against_the_current_value_is_not_linearizable():
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 1),
        Operation(1, cas("k", "a", "b"), False, 2, 3),
    ]) is NOT


def test_indeterminate_put_that_later_appears_in_a_read_is_linearizable():
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 1),
        indeterminate(0, put("k", "b"), 2),
        Operation(1, get("k"), "a", 5, 6),
        Operation(1, get("k"), "a", 7, 8),
        # It took effect long after its client gave up on it.
        Operation(1, get("k"), "b", 100, 101),
    ]) is LIN


def test_indeterminate_put_that_never_appears_is_linearizable():
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 1),
        indeterminate(0, put("k", "b"), 2),
        Operation(1, get("k"), "a", 5, 6),
        Operation(1, get("k"), "a", 100, 101),
    ]) is LIN


def test_indeterminate_put_that_appears_then_disappears_is_not_linearizable():
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 1),
        indeterminate(0, put("k", "b"), 2),
        Operation(1, get("k"), "b", 5, 6),
        Operation(1, get("k"), "a", 7, 8),
    ]) is NOT


def test_indeterminate_put_seen_before_its_call_is_not_linearizable():
    assert verdict([
        Operation(1, get("k"), "b", 0, 1),
        indeterminate(0, put("k", "b"), 2),
    ]) is NOT


@pytest.mark.parametrize("reads, expected", [(["b"], LIN), (["a"], LIN), (["b", "a"], NOT)])
def test_indeterminate_cas_may_take_effect_once(reads, expected):
    history = [
        Operation(0, put("k", "a"), None, 0, 1),
        indeterminate(0, cas("k", "a", "b"), 2),
    ]
    history += [Operation(1, get("k"), read, 10 + 2 * n, 11 + 2 * n) for n, read in enumerate(reads)]
    assert verdict(history) is expected


def test_indeterminate_read_is_ignored():
    assert verdict([
        Operation(0, put("k", "a"), None, 0, 1),
        indeterminate(1, get("k"), 2),
        Operation(1, get("k"), "a", 3, 4),
    ]) is LIN


def _three_keys(bad_key):
    history = []
    for n, key in enumerate(["x", "y", "z"]):
        t = 10 * n
        history += [
            Operation(0, put(key, "a"), None, t, t + 1),
            Operation(1, put(key, "b"), None, t + 2, t + 3),
            Operation(2, get(key), "a" if key == bad_key else "b", t + 4, t + 5),
        ]
    return history


def test_multi_key_history_with_every_key_good_is_linearizable():
    assert verdict(_three_keys(bad_key=None)) is LIN


def test_multi_key_history_names_the_key_that_is_not_linearizable():
    result = check(KvModel(), _three_keys(bad_key="y"))
    assert result.verdict is NOT
    assert result.part == "key 'y'"
    assert result.explanation.startswith("NOT LINEARIZABLE: key 'y'")


def test_explanation_shows_the_longest_prefix_and_what_could_not_follow():
    stale = Operation(2, get("k"), "a", 4, 5)
    history = [Operation(0, put("k", "a"), None, 0, 1), Operation(1, put("k", "b"), None, 2, 3), stale]
    result = check(KvModel(), history)
    assert result.prefix == history[:2]
    assert result.stuck == [stale]
    assert result.explanation == "\n".join([
        "NOT LINEARIZABLE: key 'k' (3 operations; times relative to its first call).",
        "Longest linearizable prefix found: 2 operations.",
        "  1. client 0 [0, 1] put('k', 'a')",
        "  2. client 1 [2, 3] put('k', 'b')",
        "State after the prefix: 'k'='b'",
        "None of these can be linearized next, and client 2 [4, 5] get('k') -> 'a' must be by its return:",
        "  client 2 [4, 5] get('k') -> 'a'  -- not allowed in this state",
    ])


def test_explanation_elides_all_but_the_end_of_a_long_prefix():
    history = [Operation(0, put("k", "v%d" % n), None, 2 * n, 2 * n + 1) for n in range(30)]
    history.append(Operation(1, get("k"), "v0", 100, 101))
    explanation = check(KvModel(), history).explanation
    assert "  ... 10 earlier operations\n  11. client 0 [20, 21] put('k', 'v10')" in explanation
    assert "put('k', 'v9')" not in explanation
