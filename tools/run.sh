#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine to a running Cairn member:
# installs what is missing, builds, and runs a member serving 127.0.0.1:2379 with
# its data in ./default.etcd. Extra arguments are passed to `cairn` (etcd's flags).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
exec build/server/cmd/cairn \
  --name default --data-dir default.etcd \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 "$@"
