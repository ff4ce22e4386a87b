#!/usr/bin/env bash
# Copies the CRDs from crds/ (the source of truth, listed in crds/kustomization.yaml) into
# the cairn-operator chart's crds/ folder, which Helm installs before the chart's
# templates. Run it after every change to crds/; chart_crd_sync_test fails until then.
#
#   tools/sync-chart-crds.sh           refresh the chart's copies
#   tools/sync-chart-crds.sh --check   only report differences (exit 1 when any)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$ROOT/crds"
DST="$ROOT/charts/cairn-operator/crds"

check=0
[[ "${1:-}" == "--check" ]] && check=1

# The CRD files kustomize installs for deploy/operator: the resources of crds/kustomization.yaml.
mapfile -t files < <(sed -n '/^resources:/,/^[^ #-]/{s/^ *- *\([^ #]*\).*/\1/p}' "$SRC/kustomization.yaml")
if [[ ${#files[@]} -eq 0 ]]; then
  echo "sync-chart-crds.sh: no resources found in $SRC/kustomization.yaml" >&2
  exit 1
fi

status=0
mkdir -p "$DST"
for f in "${files[@]}"; do
  if ! cmp -s "$SRC/$f" "$DST/$f"; then
    if ((check)); then
      echo "charts/cairn-operator/crds/$f differs from crds/$f:"
      diff -u "$SRC/$f" "$DST/$f" 2>&1 | head -40 || true
      status=1
    else
      cp "$SRC/$f" "$DST/$f"
      echo "updated charts/cairn-operator/crds/$f"
    fi
  fi
done
# Files in the chart's crds/ that crds/ no longer has.
for path in "$DST"/*; do
  [[ -e "$path" ]] || continue
  name="$(basename "$path")"
  if ! printf '%s\n' "${files[@]}" | grep -qxF "$name"; then
    if ((check)); then
      echo "charts/cairn-operator/crds/$name is not in crds/kustomization.yaml"
      status=1
    else
      rm -f "$path"
      echo "removed charts/cairn-operator/crds/$name"
    fi
  fi
done
if ((check && status)); then
  echo "The chart's CRDs are out of date: run tools/sync-chart-crds.sh and commit the result."
fi
exit $status
