"""The command line: exit status 0 linearizable, 1 not (with the explanation),
2 bad input, 3 timed out; runnable as a script and as a module."""
import io
import os
import subprocess
import sys

from linearizability.history import Operation
from linearizability.history_format import dump
from linearizability.kv_model import get, put

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "check_history.py")


def write_history(tmp_path, operations):
    out = io.StringIO()
    dump(operations, out)
    path = tmp_path / "history.jsonl"
    path.write_text(out.getvalue())
    return str(path)


def run(*args, cwd=None):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def stale_read():
    return [Operation(0, put("k", "a"), None, 0, 1), Operation(0, put("k", "b"), None, 2, 3),
            Operation(1, get("k"), "a", 4, 5)]


def test_linearizable_history_exits_0(tmp_path):
    done = run(SCRIPT, write_history(tmp_path, stale_read()[:2]))
    assert (done.returncode, done.stdout) == (0, "linearizable (2 operations)\n")


def test_not_linearizable_history_exits_1_and_explains(tmp_path):
    done = run(SCRIPT, write_history(tmp_path, stale_read()))
    assert done.returncode == 1
    assert done.stdout.startswith("NOT LINEARIZABLE: key 'k'")
    assert "get('k') -> 'a'  -- not allowed in this state" in done.stdout


def test_malformed_history_exits_2_naming_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"client": 1, "op": "get", "key": "k", "call": 0, "return": 1}\n{"op": "get"}\n')
    done = run(SCRIPT, str(path))
    assert done.returncode == 2
    assert "line 2: missing field" in done.stderr


def test_missing_file_and_bad_arguments_exit_2(tmp_path):
    assert run(SCRIPT, str(tmp_path / "absent.jsonl")).returncode == 2
    assert run(SCRIPT).returncode == 2
    assert run(SCRIPT, "--timeout", "soon", str(tmp_path / "absent.jsonl")).returncode == 2


def test_timeout_exits_3(tmp_path):
    # Concurrent puts and a read of a value none wrote: exponential to refute.
    history = [Operation(n, put("k", "v%d" % n), None, 0, 100) for n in range(24)]
    history.append(Operation("reader", get("k"), "never written", 0, 50))
    done = run(SCRIPT, "--timeout", "0.3", write_history(tmp_path, history))
    assert done.returncode == 3
    assert done.stdout.startswith("UNKNOWN")


def test_runs_as_a_module_from_tests(tmp_path):
    done = run("-m", "linearizability.check_history", write_history(tmp_path, stale_read()),
               cwd=os.path.dirname(HERE))
    assert done.returncode == 1
