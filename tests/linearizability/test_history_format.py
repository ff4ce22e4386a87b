"""The JSON-lines history format: round trip, the documented example, errors."""
import io
import random

import pytest

from linearizability.history import INF, UNKNOWN, Operation
from linearizability.history_format import HistoryFormatError, dump, load, load_file
from linearizability.kv_model import cas, put
from linearizability.random_history import generate

VALID = '{"client": 1, "op": "put", "key": "k", "value": "v", "call": 0, "return": 5}'


def test_dump_then_load_gives_the_same_operations():
    history = generate(random.Random(3), 300, keys=("a", "b"), clients=5, indeterminate=0.1)
    assert {op.input.op for op in history} == {"put", "get", "cas", "delete"}
    assert any(op.indeterminate for op in history)
    out = io.StringIO()
    dump(history, out)
    assert load(io.StringIO(out.getvalue())) == history


def test_documented_example_and_an_unknown_outcome(tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text(
        '{"client": 3, "op": "cas", "key": "k", "expected": "a", "value": "b", "output": true, '
        '"call": 1200, "return": 3400}\n'
        "\n"
        '{"client": "w", "op": "put", "key": "k", "value": 7, "output": null, "call": 10, "return": null}\n')
    assert load_file(str(path)) == [
        Operation(3, cas("k", "a", "b"), True, 1200, 3400),
        Operation("w", put("k", 7), UNKNOWN, 10, INF),
    ]


@pytest.mark.parametrize("line", [
    "{not json",
    "[1, 2]",
    '{"client": 1, "op": "put", "key": "k", "value": "v", "call": 0, "return": 5, "ret": 5}',
    '{"client": 1, "op": "put", "key": "k", "value": "v", "call": 0}',
    '{"client": 1, "op": "incr", "key": "k", "call": 0, "return": 5}',
    '{"client": 1, "op": "get", "key": 4, "call": 0, "return": 5}',
    '{"client": 1, "op": "put", "key": "k", "call": 0, "return": 5}',
    '{"client": 1, "op": "put", "key": "k", "value": null, "call": 0, "return": 5}',
    '{"client": 1, "op": "put", "key": "k", "value": true, "call": 0, "return": 5}',
    '{"client": 1, "op": "get", "key": "k", "value": "v", "call": 0, "return": 5}',
    '{"client": 1, "op": "put", "key": "k", "value": "v", "expected": "v", "call": 0, "return": 5}',
    '{"client": 1, "op": "cas", "key": "k", "value": "v", "expected": [1], "output": true, "call": 0, "return": 5}',
    '{"client": 1, "op": "cas", "key": "k", "value": "v", "output": "yes", "call": 0, "return": 5}',
    '{"client": 1, "op": "get", "key": "k", "output": ["v"], "call": 0, "return": 5}',
    '{"client": 1, "op": "delete", "key": "k", "output": 1, "call": 0, "return": 5}',
    '{"client": 1, "op": "put", "key": "k", "value": "v", "output": "ok", "call": 0, "return": 5}',
    '{"client": 1, "op": "get", "key": "k", "call": "0", "return": 5}',
    '{"client": 1, "op": "get", "key": "k", "call": 6, "return": 5}',
    '{"client": [1], "op": "get", "key": "k", "call": 0, "return": 5}',
])
def test_malformed_line_is_an_error_naming_it(line):
    with pytest.raises(HistoryFormatError, match="^line 2: "):
        load([VALID, line])
