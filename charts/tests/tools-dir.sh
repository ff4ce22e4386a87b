# Sourced by tools/install-helm.sh and the chart checks: where the chart-check tools live,
# and the stamp that says which package set is installed there.
# shellcheck shell=bash
CAIRN_TOOLS_DIR="${CAIRN_TOOLS_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/cairn-tools}"
HELM_VERSION=v3.17.3
export CAIRN_TOOLS_DIR HELM_VERSION

# The stamp of an up-to-date cache: a hash of charts/tests/package.json and package-lock.json.
cairn_tools_stamp() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1
}
