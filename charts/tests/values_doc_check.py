#!/usr/bin/python3
"""Every key of a chart's values.yaml is documented: a comment line right above it (at the
key's indentation) or a comment at the end of its line.

  values_doc_check.py VALUES.yaml...
"""
import re
import sys

KEY = re.compile(r'^(\s*)(?:-\s+)?("[^"]+"|[A-Za-z0-9_./-]+)\s*:(\s|$)')


def undocumented(path):
    out = []
    with open(path) as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        m = KEY.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        if re.search(r"\s#\s", line):
            continue
        prev = lines[i - 1] if i > 0 else ""
        if prev.strip().startswith("#") and len(prev) - len(prev.lstrip()) == len(m.group(1)):
            continue
        out.append(f"{path}:{i + 1}: key {m.group(2)} has no comment (add one on the line above)")
    return out


def main(paths):
    problems = [p for path in paths for p in undocumented(path)]
    for p in problems:
        print("FAIL:", p)
    print(f"{len(paths)} values file(s), {len(problems)} undocumented key(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
