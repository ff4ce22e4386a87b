"""The linearizability check: Wing & Gong's search with Lowe's memoisation, as
in Porcupine's checkSingle, plus reductions for operations of unknown outcome.

A history is linearizable iff its operations can be put in one sequence that
the model accepts and that respects real time: an operation that returned
before another was called comes first. Operations whose call and return times
are equal are treated as concurrent (the clock cannot order them).

The search, per part (model.partition): the call and return events are sorted
into a doubly linked list. The search walks it from the head: at a call it
tries to place (linearize) that operation now (model.step); if the step is
allowed and the configuration reached is new, it removes the call and its
return from the list ("lift") and restarts from the head. Reaching a return
means that operation's deadline passed without it being placed, so the last
choice is undone ("unlift") and the next candidate after it is tried. A
linearization is found when no operation of known outcome is left; there is
none when the choice stack is empty. The loop keeps an explicit stack, so
history length is not bounded by Python's recursion limit.

Operations of unknown outcome ("unknown" below) never return and accept any
output, so nothing ever forces them, and placed naively every subset of them at
every point is a new configuration: exponential in how many are pending, which
under faults is most of them. Placing one later is always possible (it never
returned), so the search keeps only sequences where each is placed where it
makes a difference to the states that operations of known outcome see:
- Only unknown operations left: they go last, in any order (success).
- An unknown operation that changes nothing is not placed (it goes last).
- Unknown operations with equal inputs ("twins") are placed in call order.
- Right after an unknown operation U, a candidate C is not placed if C alone
  would reach the same state (C overwrites U: U goes last), or if C then U would
  (they commute: U goes after C). Between two unknown operations the order kept
  is by input, then call order, so that they cannot trade places forever and
  twins stay interchangeable.
- A configuration is the known operations placed, the state, the last placed
  operation U and the state before it when U is unknown (the rule above reads
  them), and the set of unknown operations placed. If one equal but for a
  subset of those unknown operations was visited, this one is skipped: that one
  could follow any sequence this one can, using twins where this one had placed
  them already. Known operations are tried first, so that the smaller sets tend
  to be visited first.
Every valid sequence rewrites into a kept one, by moving unknown operations
later or last and swapping twins, without changing any state a known
operation sees; each rewrite shrinks the number of unknown operations placed,
or the known operations after them, or their order inversions.
"""
import dataclasses
import enum
import time
from typing import Dict, List, Optional

from .history import INF, Operation

PREFIX_LINES = 20
_DEADLINE_CHECK_EVERY = 1024


class Verdict(enum.Enum):
    LINEARIZABLE = "linearizable"
    NOT_LINEARIZABLE = "not linearizable"
    UNKNOWN = "unknown (the check timed out)"


@dataclasses.dataclass
class CheckResult:
    verdict: Verdict
    # The part that was not linearizable or timed out; None when linearizable.
    part: Optional[str] = None
    # LINEARIZABLE: one linearization per part, in linearization order.
    linearizations: Dict[str, List[Operation]] = dataclasses.field(default_factory=dict)
    # NOT_LINEARIZABLE: the longest linearizable prefix found in the failing part,
    # and the operations that could have come next but none of which could.
    prefix: List[Operation] = dataclasses.field(default_factory=list)
    stuck: List[Operation] = dataclasses.field(default_factory=list)
    explanation: str = ""

    @property
    def ok(self):
        return self.verdict is Verdict.LINEARIZABLE

    def __str__(self):
        return self.explanation


@dataclasses.dataclass
class _DeadEnd:
    prefix: List[int]  # the placed operations, in order
    state: object
    candidates: List[int]  # operations called and not placed, in call order
    overdue: int  # the candidate whose return was reached


def check(model, history, timeout=None):
    """Checks `history` (a sequence of Operation) against `model`.
    `timeout` in seconds bounds the whole check; past it the verdict is UNKNOWN."""
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    linearizations = {}
    for label, part in model.partition(history):
        # Index order is call order from here on; the twin rule relies on it.
        ops = sorted(part, key=lambda op: op.call)
        found = _search(model, ops, deadline)
        if found is None:
            return CheckResult(Verdict.UNKNOWN, label, explanation=(
                "UNKNOWN: the check timed out after %.1f s while searching %s (%d operations); "
                "the parts before it were linearizable." % (time.monotonic() - started, label, len(ops))))
        if isinstance(found, _DeadEnd):
            return CheckResult(Verdict.NOT_LINEARIZABLE, label,
                               prefix=[ops[i] for i in found.prefix],
                               stuck=[ops[i] for i in found.candidates],
                               explanation=_explain(model, label, ops, found))
        linearizations[label] = [ops[i] for i in found]
    return CheckResult(Verdict.LINEARIZABLE, linearizations=linearizations,
                       explanation="linearizable (%d operations)" % len(history))


def _event_list(ops):
    """The doubly linked list: entries 1..2n are the call and return events in
    time order (calls first at equal times), 0 the head, 2n+1 the tail. Returns
    (next, previous, operation of each entry, return entry of each call entry
    or 0 at return entries)."""
    events = sorted([(op.call, 0, i) for i, op in enumerate(ops)] + [(op.ret, 1, i) for i, op in enumerate(ops)])
    tail = 2 * len(ops) + 1
    op_of = [0] * (tail + 1)
    match = [0] * (tail + 1)
    call_entry = {}
    for entry, (_, is_return, i) in enumerate(events, start=1):
        op_of[entry] = i
        if is_return:
            match[call_entry[i]] = entry
        else:
            call_entry[i] = entry
    return list(range(1, tail + 2)), list(range(-1, tail)), op_of, match


def _unknown_orders(ops):
    """For each unknown operation: its previous twin (-1 if none) and its place
    in the commute order (None for known operations)."""
    previous_twin = [-1] * len(ops)
    commute_order = [None] * len(ops)
    last_with_input, input_rank = {}, {}
    for i, op in enumerate(ops):
        if op.indeterminate:
            previous_twin[i] = last_with_input.get(op.input, -1)
            last_with_input[op.input] = i
            commute_order[i] = (input_rank.setdefault(op.input, len(input_rank)), i)
    return previous_twin, commute_order


def _search(model, ops, deadline):
    """A linearization (indices into ops), the deepest _DeadEnd when there is
    none, or None when the deadline passed."""
    head, tail = 0, 2 * len(ops) + 1
    nxt, prv, op_of, match = _event_list(ops)
    io = [(op.input, op.output) for op in ops]
    unknown = [op.indeterminate for op in ops]
    previous_twin, commute_order = _unknown_orders(ops)
    step = model.step

    state = model.init()
    known_bits = unknown_bits = 0  # the placed operations, as bitsets of indices
    known_left = unknown.count(False)
    visited = {}  # the rest of a configuration -> its unknown_bits seen so far
    chosen = []  # stack of (call entry, state before it)
    deepest = None
    entry = nxt[head]
    trying_unknown = False  # the second pass over the candidates
    iterations = 0
    while known_left:
        iterations += 1
        if deadline is not None and iterations % _DEADLINE_CHECK_EVERY == 0 and time.monotonic() > deadline:
            return None
        ret = match[entry]
        if ret:
            i = op_of[entry]
            if unknown[i] == trying_unknown:
                allowed, next_state = step(state, *io[i])
                if unknown[i] and (next_state == state or (
                        previous_twin[i] >= 0 and not unknown_bits >> previous_twin[i] & 1)):
                    allowed = False
                elif allowed and chosen and unknown[op_of[chosen[-1][0]]]:
                    top_entry, before_top = chosen[-1]
                    top = op_of[top_entry]
                    allowed = not _redundant(step, before_top, io[top], commute_order[top],
                                             io[i], commute_order[i], next_state)
                if allowed:
                    if unknown[i]:
                        key, next_unknown_bits = (known_bits, next_state, (i, state)), unknown_bits | (1 << i)
                    else:
                        key, next_unknown_bits = (known_bits | (1 << i), next_state, None), unknown_bits
                    seen = visited.setdefault(key, [])
                    if not any(bits & ~next_unknown_bits == 0 for bits in seen):
                        seen.append(next_unknown_bits)
                        chosen.append((entry, state))
                        state, known_bits, unknown_bits = next_state, key[0], next_unknown_bits
                        known_left -= not unknown[i]
                        # Lift: unlink the call, then its return.
                        nxt[prv[entry]] = nxt[entry]
                        prv[nxt[entry]] = prv[entry]
                        nxt[prv[ret]] = nxt[ret]
                        prv[nxt[ret]] = prv[ret]
                        entry = nxt[head]
                        trying_unknown = False
                        continue
            entry = nxt[entry]
            continue
        if not trying_unknown:
            trying_unknown = True
            entry = nxt[head]
            continue
        if deepest is None or len(chosen) > len(deepest.prefix):
            deepest = _dead_end(nxt, head, entry, match, op_of, chosen, state)
        if not chosen:
            return deepest
        entry, state = chosen.pop()
        i = op_of[entry]
        trying_unknown = unknown[i]
        if unknown[i]:
            unknown_bits &= ~(1 << i)
        else:
            known_bits &= ~(1 << i)
            known_left += 1
        # Unlift: relink in the reverse order of the lift.
        ret = match[entry]
        nxt[prv[ret]] = ret
        prv[nxt[ret]] = ret
        nxt[prv[entry]] = entry
        prv[nxt[entry]] = entry
        entry = nxt[entry]
    return [op_of[entry] for entry, _ in chosen] + _calls_before(nxt, head, tail, match, op_of)


def _redundant(step, before_top, top, top_order, candidate, candidate_order, result):
    """Whether placing `candidate` right after `top`, an unknown operation that
    took the state from `before_top` on, is left out: the candidate alone
    reaches `result`, the state after both, or the candidate then `top` does
    (for an unknown candidate, only when it comes first in the commute order)."""
    allowed, alone = step(before_top, *candidate)
    if not allowed:
        return False
    if alone == result:
        return True
    if candidate_order is not None and candidate_order > top_order:
        return False
    return step(alone, *top)[1] == result


def _calls_before(nxt, head, stop, match, op_of):
    """The operations whose call entries precede `stop` in the list."""
    found = []
    entry = nxt[head]
    while entry != stop:
        if match[entry]:
            found.append(op_of[entry])
        entry = nxt[entry]
    return found


def _dead_end(nxt, head, overdue_entry, match, op_of, chosen, state):
    return _DeadEnd([op_of[e] for e, _ in chosen], state, _calls_before(nxt, head, overdue_entry, match, op_of),
                    op_of[overdue_entry])


def _explain(model, label, ops, dead_end):
    origin = min(op.call for op in ops)

    def show(i):
        op = ops[i]
        ret = "inf" if op.ret == INF else "%g" % (op.ret - origin)
        return "client %s [%g, %s] %s" % (op.client, op.call - origin, ret,
                                          model.describe_operation(op.input, op.output))

    lines = ["NOT LINEARIZABLE: %s (%d operations; times relative to its first call)." % (label, len(ops)),
             "Longest linearizable prefix found: %d operations." % len(dead_end.prefix)]
    shown = dead_end.prefix[-PREFIX_LINES:]
    if len(shown) < len(dead_end.prefix):
        lines.append("  ... %d earlier operations" % (len(dead_end.prefix) - len(shown)))
    first_number = len(dead_end.prefix) - len(shown) + 1
    for number, i in enumerate(shown, start=first_number):
        lines.append("  %d. %s" % (number, show(i)))
    lines.append("State after the prefix: %s" % model.describe_state(dead_end.state))
    lines.append("None of these can be linearized next, and %s must be by its return:" % show(dead_end.overdue))
    for i in dead_end.candidates:
        allowed, _ = model.step(dead_end.state, ops[i].input, ops[i].output)
        why = "allowed here, but no continuation after it works" if allowed else "not allowed in this state"
        lines.append("  %s  -- %s" % (show(i), why))
    return "\n".join(lines)
