#!/usr/bin/env bash
# Configures and builds Cairn into ./build (incremental). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${CAIRN_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=${CAIRN_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build build -j "$JOBS"
