"""Command line: check a recorded key-value history for linearizability.

    python3 tests/linearizability/check_history.py [--timeout SECONDS] history.jsonl
    (or, from tests/: python3 -m linearizability.check_history ...)

The history is in the format of history_format.py. Exit status: 0 linearizable,
1 not linearizable (the explanation is printed), 2 bad input (unreadable file,
malformed history, bad arguments), 3 unknown (the timeout passed first).
"""
import argparse
import os
import sys

if __package__ in (None, ""):
    # Run as a script: make the package importable by its name.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from linearizability.checker import Verdict, check  # noqa: E402
from linearizability.history_format import HistoryFormatError, load_file  # noqa: E402
from linearizability.kv_model import KvModel  # noqa: E402

EXIT_STATUS = {Verdict.LINEARIZABLE: 0, Verdict.NOT_LINEARIZABLE: 1, Verdict.UNKNOWN: 3}
EXIT_BAD_INPUT = 2


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check a key-value history (JSON lines) for linearizability.")
    parser.add_argument("history", help="the history file, one JSON operation per line")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds (exit 3)")
    args = parser.parse_args(argv)
    try:
        operations = load_file(args.history)
    except (OSError, UnicodeDecodeError, HistoryFormatError) as error:
        print("%s: %s" % (args.history, error), file=sys.stderr)
        return EXIT_BAD_INPUT
    result = check(KvModel(), operations, timeout=args.timeout)
    print(result.explanation)
    return EXIT_STATUS[result.verdict]


if __name__ == "__main__":
    sys.exit(main())
