#!/usr/bin/env bash
# chart_lint_test: helm lint --strict of both charts, with their default values and with
# each charts/tests/values/<chart>/*.yaml; every key of each chart's values.yaml documented.
source "$(dirname "$0")/lib.sh"
need_tools

status=0
for chart in cairn-operator cairn-cluster; do
  sets=("")
  while read -r values; do [[ -n "$values" ]] && sets+=("$values"); done < <(values_files "$chart")
  for values in "${sets[@]}"; do
    args=(lint --strict "$ROOT/charts/$chart")
    [[ -n "$values" ]] && args+=(-f "$values")
    if out="$("$HELM" "${args[@]}" 2>&1)"; then
      echo "ok: helm lint --strict charts/$chart ${values:+-f ${values#"$ROOT"/}}"
    else
      echo "$out"
      echo "FAIL: helm lint --strict charts/$chart ${values:+-f ${values#"$ROOT"/}}"
      status=1
    fi
  done
done
"$PYTHON" "$TESTS/values_doc_check.py" "$ROOT"/charts/cairn-operator/values.yaml "$ROOT"/charts/cairn-cluster/values.yaml || status=1
((status == 0)) || fail "helm lint --strict or the values documentation check failed (see above)"
echo "PASS: both charts lint clean"
