"""Operations and the thread-safe recorder that collects them from a test.

An Operation is one client request as the client saw it: who sent it, what it
asked (`input`), what it got back (`output`), and when it was sent (`call`) and
answered (`ret`), on one clock shared by every client of the history.

Invariants:
- call <= ret.
- An operation is indeterminate (timed out, connection lost, deadline exceeded:
  it may or may not have taken effect) exactly when ret == INF, and then its
  output is UNKNOWN. A model accepts any output for it, and because it never
  returns it can be linearized at any point after its call, including after
  every other operation, which is how "it never happened" is expressed.
- An operation that certainly had no effect (a read that failed, a request the
  server rejected before proposing it) is not part of the history: the recorder
  drops it (`Recorder.fail`). When in doubt, record it as indeterminate: that is
  always sound, dropping is only sound when the request certainly had no effect.
"""
import dataclasses
import threading
import time
from typing import Any, Hashable

INF = float("inf")


class _Unknown:
    """The output of an indeterminate operation."""

    def __repr__(self):
        return "?"


UNKNOWN = _Unknown()


@dataclasses.dataclass(frozen=True)
class Operation:
    client: Hashable
    input: Any
    output: Any
    call: float
    ret: float

    def __post_init__(self):
        if not self.call <= self.ret:
            raise ValueError("operation returns (%r) before it is called (%r)" % (self.ret, self.call))
        if (self.ret == INF) != (self.output is UNKNOWN):
            raise ValueError("an operation has output UNKNOWN exactly when it never returns: %r" % (self,))

    @property
    def indeterminate(self):
        return self.ret == INF


def indeterminate(client, input, call):
    """The operation `input` sent at `call` whose outcome the client never learnt."""
    return Operation(client, input, UNKNOWN, call, INF)


class Recorder:
    """Collects operations from concurrent client threads.

    `call` is invoked just before the request is sent and returns a token; then
    exactly one of `ok` (the response arrived), `unknown` (outcome unknown) or
    `fail` (certainly no effect) is invoked with it. A token still open when
    `operations` is read counts as unknown, so a client thread that died or is
    still blocked cannot make the history claim something false.
    """

    def __init__(self, clock=time.monotonic_ns):
        self._clock = clock
        self._lock = threading.Lock()
        self._open = {}
        self._done = []
        self._next_token = 0

    def call(self, client, input):
        with self._lock:
            token = self._next_token
            self._next_token += 1
            self._open[token] = (client, input, self._clock())
        return token

    def ok(self, token, output=None):
        with self._lock:
            client, input, call = self._open.pop(token)
            self._done.append(Operation(client, input, output, call, self._clock()))

    def unknown(self, token):
        with self._lock:
            self._done.append(indeterminate(*self._open.pop(token)))

    def fail(self, token):
        with self._lock:
            del self._open[token]

    def operations(self):
        with self._lock:
            return self._done + [indeterminate(*opened) for opened in self._open.values()]
