"""Random key-value histories that are linearizable by construction (test input).

Each client sends one operation after another. Every operation gets an interval
[call, ret] and a linearization point inside it; outputs are what one store
answers when the operations take effect in the order of their points. An
indeterminate operation (probability `indeterminate`) never returns: its client
gives up at the end of its interval and moves on, and its effect happens at a
point up to three intervals after its call, or (half the time) never.
Every value written is distinct, so "a value never written" is easy to make.
"""
from . import kv_model
from .history import INF, UNKNOWN, Operation

_OP_WEIGHTS = (("get", 4), ("put", 3), ("cas", 2), ("delete", 1))


def generate(rng, operations, keys=("k",), clients=4, indeterminate=0.0, max_gap=5, max_duration=20):
    """A list of `operations` Operations over `keys` (rng: a random.Random)."""
    written = {key: [] for key in keys}
    planned = []  # (client, input, call, ret, point or None)
    clocks = [0] * clients
    for number in range(operations):
        client = number % clients
        call = clocks[client] + rng.randint(0, max_gap)
        duration = rng.randint(1, max_duration)
        clocks[client] = call + duration
        key = rng.choice(keys)
        kind = rng.choices([op for op, _ in _OP_WEIGHTS], [w for _, w in _OP_WEIGHTS])[0]
        input = _make_input(rng, kind, key, "v%d" % number, written[key])
        if rng.random() < indeterminate:
            point = rng.uniform(call, call + 3 * duration) if rng.random() < 0.5 else None
            planned.append((client, input, call, INF, point))
        else:
            planned.append((client, input, call, call + duration, rng.uniform(call, call + duration)))
    outputs = _outputs_in_point_order(planned)
    return [Operation(client, input, UNKNOWN if ret == INF else outputs[i], call, ret)
            for i, (client, input, call, ret, _) in enumerate(planned)]


def _make_input(rng, kind, key, fresh_value, written):
    if kind == "get":
        return kv_model.get(key)
    if kind == "delete":
        return kv_model.delete(key)
    written.append(fresh_value)
    if kind == "put":
        return kv_model.put(key, fresh_value)
    # Recent values, so that some of these succeed.
    return kv_model.cas(key, rng.choice(written[-4:-1] + [None]), fresh_value)


def _outputs_in_point_order(planned):
    # A plain dict store, independent of KvModel, so that a bug in the model's
    # step cannot shape the histories it is tested with.
    store = {}
    outputs = [None] * len(planned)
    for _, i in sorted((p[4], i) for i, p in enumerate(planned) if p[4] is not None):
        input = planned[i][1]
        current = store.get(input.key)
        if input.op == "get":
            outputs[i] = current
        elif input.op == "put":
            store[input.key] = input.value
        elif input.op == "cas":
            outputs[i] = current == input.expected
            if outputs[i]:
                store[input.key] = input.value
        else:
            outputs[i] = current is not None
            store.pop(input.key, None)
    return outputs
