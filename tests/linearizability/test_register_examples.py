"""The classic single-register examples (Porcupine's register tests, Herlihy &
Wing), re-derived on one key of the key-value model: the register's initial
value is "absent" (None) where Porcupine's is 0.
"""
from linearizability.checker import Verdict, check
from linearizability.history import Operation
from linearizability.kv_model import KvModel, get, put


def verdict(history):
    return check(KvModel(), history, timeout=60).verdict


def test_porcupine_register_read_of_initial_value_inside_a_read_of_the_new_one():
    # The read of the initial value (30..60) is linearized first, then the put
    # (0..100), then the read of 100 (25..75): all three overlap.
    assert verdict([
        Operation(0, put("x", 100), None, 0, 100),
        Operation(1, get("x"), 100, 25, 75),
        Operation(2, get("x"), None, 30, 60),
    ]) is Verdict.LINEARIZABLE


def test_porcupine_register_read_of_initial_value_after_a_read_of_the_new_one():
    # The read of 200 returned (30) before the read of the initial value was
    # called (40): once the put is visible it stays visible.
    assert verdict([
        Operation(0, put("x", 200), None, 0, 100),
        Operation(1, get("x"), 200, 10, 30),
        Operation(2, get("x"), None, 40, 90),
    ]) is Verdict.NOT_LINEARIZABLE


def test_new_old_inversion_is_not_linearizable():
    # The difference between an atomic and a regular register: during one
    # write, a later read must not see the old value after an earlier read saw
    # the new one.
    assert verdict([
        Operation(0, put("x", 0), None, 0, 1),
        Operation(0, put("x", 1), None, 2, 20),
        Operation(1, get("x"), 1, 3, 4),
        Operation(2, get("x"), 0, 5, 6),
    ]) is Verdict.NOT_LINEARIZABLE


def test_reads_concurrent_with_two_writes_in_a_consistent_order_are_linearizable():
    # Writes of 1 and 2 overlap; readers agree that 1 came before 2.
    assert verdict([
        Operation(0, put("x", 1), None, 0, 10),
        Operation(1, put("x", 2), None, 1, 11),
        Operation(2, get("x"), 1, 2, 3),
        Operation(3, get("x"), 2, 4, 5),
        Operation(2, get("x"), 2, 12, 13),
    ]) is Verdict.LINEARIZABLE


def test_reads_concurrent_with_two_writes_in_opposite_orders_are_not_linearizable():
    # Writes of 1 and 2 overlap; one reader sees 1 then 2, then another sees 1
    # again, though 1 is written only once.
    assert verdict([
        Operation(0, put("x", 1), None, 0, 20),
        Operation(1, put("x", 2), None, 0, 20),
        Operation(2, get("x"), 1, 1, 2),
        Operation(2, get("x"), 2, 3, 4),
        Operation(3, get("x"), 1, 5, 6),
    ]) is Verdict.NOT_LINEARIZABLE
