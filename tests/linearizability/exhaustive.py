"""The definition of linearizability searched exhaustively: the reference the
checker is tested against, for histories of up to about 16 operations.

Some order of all operations respects real time (an operation that returned
before another was called comes first) and is accepted by the model, with
unknown outcomes placed like any other operation. No reductions, no lists:
memoisation over (operations placed, state) only, so it is slow but plainly
right. Recursion is as deep as the history is long.
"""


def is_linearizable(model, history):
    history = list(history)
    everything = frozenset(range(len(history)))
    dead = set()

    def extend(left, state):
        if not left:
            return True
        if (left, state) in dead:
            return False
        for i in left:
            op = history[i]
            if any(history[j].ret < op.call for j in left):
                continue
            allowed, next_state = model.step(state, op.input, op.output)
            if allowed and extend(left - {i}, next_state):
                return True
        dead.add((left, state))
        return False

    return extend(everything, model.init())
