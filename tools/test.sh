#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine to every test run: installs
# what is missing, builds, and runs the whole ctest suite (unit, simulation,
# integration with etcdctl and python-etcd3, crash tests). Exits non-zero on any
# failure and prints ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
ctest --test-dir build --output-on-failure --timeout 900 -j "${CAIRN_TEST_JOBS:-2}" "$@"
