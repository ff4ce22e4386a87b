#!/usr/bin/env bash
# Builds the two images from the repository's Dockerfile with docker or, when no docker
# daemon answers, podman (CAIRN_ENGINE=docker|podman chooses):  cairn:TAG (server + etcdctl) and cairn-operator:TAG.
#   tools/build-images.sh            # TAG = the project version (0.1.0)
#   CAIRN_IMAGE_TAG=dev CAIRN_JOBS=1 tools/build-images.sh
# Extra arguments go to every `build` call (e.g. --network host, --pull=never for
# podman on a machine without a registry). Both targets share the compile stage, so the
# second build reuses its cache. Load them into kind with e2e/README.md's commands.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${CAIRN_IMAGE_TAG:-0.1.0}
JOBS=${CAIRN_JOBS:-$(nproc)}
# A docker client without a reachable daemon is no use, so docker must answer `info`.
if [[ -n "${CAIRN_ENGINE:-}" ]]; then
  ENGINE=$CAIRN_ENGINE
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  ENGINE=docker
elif command -v podman >/dev/null; then
  ENGINE=podman
else
  echo "build-images.sh: no docker daemon and no podman (set CAIRN_ENGINE to choose)" >&2
  exit 1
fi
for target in cairn cairn-operator; do
  echo "building $target:$TAG with $ENGINE"
  "$ENGINE" build --target "$target" --build-arg JOBS="$JOBS" -t "$target:$TAG" "$@" .
done
