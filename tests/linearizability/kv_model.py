"""The key-value model: what a single etcd-like store may answer.

Operations (build inputs with the functions below, never by hand):
- put(key, value): output ignored (the client only learns that it happened).
- get(key): output is the value, or None when the key does not exist.
- cas(key, expected, new): an etcd txn "if value(key) == expected then put(key,
  new)"; expected None means "if the key does not exist" (etcd: create_revision
  == 0). Output is whether the comparison held (the txn's `succeeded`).
- delete(key): output is whether a key was deleted (etcd: `deleted` > 0), or
  None when the recorder did not look.

Invariants: keys are mutually ordered (all str, or all bytes); values are
hashable and never None (None is "absent"); a state is a tuple of (key, value)
pairs sorted by key, holding only existing keys, so equal stores are equal
states. The model partitions by key, since no operation here touches two keys.
"""
import collections

from .history import UNKNOWN
from .model import Model

KvInput = collections.namedtuple("KvInput", "op key value expected")


def put(key, value):
    if value is None:
        raise ValueError("put of None: None means the key does not exist")
    return KvInput("put", key, value, None)


def get(key):
    return KvInput("get", key, None, None)


def cas(key, expected, new):
    if new is None:
        raise ValueError("cas to None: None means the key does not exist")
    return KvInput("cas", key, new, expected)


def delete(key):
    return KvInput("delete", key, None, None)


OPS = ("put", "get", "cas", "delete")


def _lookup(state, key):
    return dict(state).get(key)


def _assign(state, key, value):
    store = dict(state)
    if value is None:
        store.pop(key, None)
    else:
        store[key] = value
    return tuple(sorted(store.items()))


class KvModel(Model):
    def init(self):
        return ()

    def step(self, state, input, output):
        current = _lookup(state, input.key)
        if input.op == "get":
            return output is UNKNOWN or output == current, state
        if input.op == "put":
            return True, _assign(state, input.key, input.value)
        if input.op == "cas":
            held = current == input.expected
            if output is not UNKNOWN and output != held:
                return False, state
            return True, _assign(state, input.key, input.value) if held else state
        if input.op == "delete":
            if output not in (UNKNOWN, None) and output != (current is not None):
                return False, state
            return True, _assign(state, input.key, None)
        raise ValueError("unknown operation %r" % (input.op,))

    def partition(self, history):
        """One part per key, in key order."""
        by_key = {}
        for operation in history:
            by_key.setdefault(operation.input.key, []).append(operation)
        return [("key %r" % (key,), by_key[key]) for key in sorted(by_key)]

    def describe_operation(self, input, output):
        if input.op == "put":
            text = "put(%r, %r)" % (input.key, input.value)
        elif input.op == "cas":
            text = "cas(%r, %r -> %r)" % (input.key, input.expected, input.value)
        else:
            text = "%s(%r)" % (input.op, input.key)
        if output is UNKNOWN:
            return text + " -> ? (outcome unknown)"
        if input.op == "put" or (input.op == "delete" and output is None):
            return text
        return "%s -> %r" % (text, output)

    def describe_state(self, state):
        if not state:
            return "(no keys)"
        return ", ".join("%r=%r" % item for item in state)
