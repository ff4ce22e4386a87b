"""The JSON-lines format of key-value histories: one operation per line.

    {"client": 3, "op": "cas", "key": "k", "expected": "a", "value": "b",
     "output": true, "call": 1200, "return": 3400}

- client: a string or an integer naming the client.
- op: "put", "get", "cas" or "delete" (see kv_model for their meaning).
- key: a string. value: the value put, or cas's new value (a string or an
  integer); only put and cas have one. expected: cas's expected value, null for
  "the key does not exist"; only cas has one (it may be omitted for null).
- output: get: the value read or null (absent); cas: true/false (succeeded);
  delete: true/false (a key was deleted) or null; put: null or omitted.
- call, return: numbers on one clock for the whole history (nanoseconds when
  written by Recorder). return null means the outcome is unknown
  (indeterminate); output is then ignored.
Blank lines are skipped. Any other field, or a field of the wrong type, is an
error naming the line: a malformed history must not pass as linearizable.
"""
import json

from . import kv_model
from .history import INF, UNKNOWN, Operation

_FIELDS = {"client", "op", "key", "value", "expected", "output", "call", "return"}
_VALUE_OPS = ("put", "cas")


class HistoryFormatError(ValueError):
    pass


def load(lines):
    """Operations from an iterable of lines (an open file works)."""
    operations = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            operations.append(_parse(json.loads(line)))
        except (ValueError, TypeError) as error:
            raise HistoryFormatError("line %d: %s" % (number, error)) from error
    return operations


def load_file(path):
    with open(path, encoding="utf-8") as f:
        return load(f)


def dump(operations, f):
    for op in operations:
        record = {"client": op.client, "op": op.input.op, "key": op.input.key,
                  "call": op.call, "return": None if op.indeterminate else op.ret}
        if op.input.op in _VALUE_OPS:
            record["value"] = op.input.value
        if op.input.op == "cas":
            record["expected"] = op.input.expected
        if not op.indeterminate and op.input.op != "put":
            record["output"] = op.output
        f.write(json.dumps(record) + "\n")


def _is_value(v):
    return isinstance(v, (str, int)) and not isinstance(v, bool)


def _is_time(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _parse(record):
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    unknown = set(record) - _FIELDS
    if unknown:
        raise ValueError("unknown fields %s" % sorted(unknown))
    for field in ("client", "op", "key", "call", "return"):
        if field not in record:
            raise ValueError("missing field %r" % field)
    op, key = record["op"], record["key"]
    if op not in kv_model.OPS:
        raise ValueError("op %r is not one of %s" % (op, kv_model.OPS))
    if not isinstance(key, str):
        raise ValueError("key %r is not a string" % (key,))
    value = record.get("value")
    if (op in _VALUE_OPS) != _is_value(value) or (op not in _VALUE_OPS and "value" in record):
        raise ValueError("%s takes %s, got value %r" % (op, "a value" if op in _VALUE_OPS else "no value", value))
    expected = record.get("expected")
    if "expected" in record and (op != "cas" or not (expected is None or _is_value(expected))):
        raise ValueError("expected %r: only cas has one, a value or null" % (expected,))
    if not _is_value(record["client"]):
        raise ValueError("client %r is not a string or an integer" % (record["client"],))
    call, ret = record["call"], record["return"]
    if not _is_time(call) or not (ret is None or _is_time(ret)):
        raise ValueError("call and return must be numbers (return may be null), got %r, %r" % (call, ret))
    if ret is None:
        return Operation(record["client"], _input(op, key, value, expected), UNKNOWN, call, INF)
    return Operation(record["client"], _input(op, key, value, expected), _output(op, record.get("output")), call, ret)


def _input(op, key, value, expected):
    if op == "put":
        return kv_model.put(key, value)
    if op == "cas":
        return kv_model.cas(key, expected, value)
    return kv_model.get(key) if op == "get" else kv_model.delete(key)


def _output(op, output):
    valid = {"put": output is None,
             "get": output is None or _is_value(output),
             "cas": isinstance(output, bool),
             "delete": output is None or isinstance(output, bool)}[op]
    if not valid:
        raise ValueError("%r is not a possible output of %s" % (output, op))
    return output
