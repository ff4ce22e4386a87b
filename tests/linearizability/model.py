"""The sequential specification a history is checked against.

A model is a deterministic state machine over hashable, immutable states,
compared with ==; inputs are hashable too (the search groups equal ones):
- `init()` is the state before any operation.
- `step(state, input, output)` returns (ok, next_state): ok says whether `input`
  applied to `state` may produce `output`; next_state is the state after it.
  When output is history.UNKNOWN, ok must be True (the client never saw the
  output) and next_state is what the operation does to `state`.
  `step` must not mutate `state`: the checker keeps old states to backtrack to.
- `partition(history)` splits a history into independent sub-histories, each
  checked alone (P-compositionality: a history is linearizable iff each part
  is). Splitting is only an optimisation, but the search is exponential in
  the concurrency of a part at worst, so it is what keeps it fast in
  practice. The default keeps the whole history as one part.
- `describe_operation` and `describe_state` render inputs, outputs and states
  for the explanation of a failed check.
"""


class Model:
    def init(self):
        raise NotImplementedError

    def step(self, state, input, output):
        raise NotImplementedError

    def partition(self, history):
        """A list of (label, operations); the label names the part in explanations."""
        return [("history", list(history))]

    def describe_operation(self, input, output):
        return "%r -> %r" % (input, output)

    def describe_state(self, state):
        return repr(state)
