"""A linearizability checker (Wing & Gong / Lowe / Porcupine) for histories
recorded from a Cairn cluster, with a key-value model of etcd's semantics.

Import it with tests/ on sys.path, as `linearizability`. Recording and checking
from an integration test (one Recorder shared by all client threads):

    recorder = Recorder()
    token = recorder.call(client_id, put("k", "v1"))   # just before sending
    try:
        etcd.put("k", "v1")
        recorder.ok(token)                              # output of a put: None
    except DeadlineExceeded:
        recorder.unknown(token)                         # may or may not have happened
    ...                                                 # get: recorder.ok(token, value or None)
    result = check(KvModel(), recorder.operations(), timeout=120)
    assert result.ok, result                            # str(result) explains a failure

The modules: history (Operation, Recorder), model (the model contract),
kv_model (the key-value model and its operations), checker (check, Verdict,
CheckResult), history_format (JSON-lines files), check_history (the command
line); random_history and exhaustive serve the checker's own tests.
"""
from .checker import CheckResult, Verdict, check
from .history import INF, UNKNOWN, Operation, Recorder, indeterminate
from .history_format import HistoryFormatError, dump, load, load_file
from .kv_model import KvModel, cas, delete, get, put

__all__ = ["CheckResult", "Verdict", "check", "INF", "UNKNOWN", "Operation", "Recorder", "indeterminate",
           "HistoryFormatError", "dump", "load", "load_file", "KvModel", "cas", "delete", "get", "put"]
