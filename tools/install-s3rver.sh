#!/usr/bin/env bash
# Installs s3rver (an S3-compatible server in Node.js) for the S3 client tests
# (operator/s3), at the versions pinned by operator/s3/tests/package-lock.json, into
# $CAIRN_TOOLS_DIR/s3rver: the chart-check tools' cache (charts/tests/tools-dir.sh), in a
# folder of its own because npm ci replaces a folder's whole node_modules. Needs node
# and npm (tools/install-deps.sh).
#
# Idempotent: does nothing (and needs no network) when the cache already holds exactly
# those versions. Prints the binary's path with --print-bin.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../charts/tests/tools-dir.sh
source "$ROOT/charts/tests/tools-dir.sh"

SRC="$ROOT/operator/s3/tests"
DIR="$CAIRN_TOOLS_DIR/s3rver"
BIN="$DIR/node_modules/.bin/s3rver"

if [[ "${1:-}" == "--print-bin" ]]; then
  echo "$BIN"
  exit 0
fi

want="$(cat "$SRC/package.json" "$SRC/package-lock.json" | sha256sum | cut -d' ' -f1)"
stamp="$DIR/.installed"
if [[ -x "$BIN" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "install-s3rver.sh: $tool is missing; run tools/install-deps.sh" >&2
    exit 1
  fi
done

echo "installing s3rver into $DIR"
mkdir -p "$DIR"
rm -f "$stamp"
cp "$SRC/package.json" "$SRC/package-lock.json" "$SRC/.npmrc" "$DIR/"
(cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
"$BIN" --version >/dev/null
echo "$want" >"$stamp"
echo "installed s3rver $("$BIN" --version) into $DIR"
