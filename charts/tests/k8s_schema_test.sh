#!/usr/bin/env bash
# chart_k8s_schema_test: every object charts/cairn-operator renders (CRDs included), with
# its default values and with each charts/tests/values/cairn-operator/*.yaml, and every
# object of kubectl kustomize deploy/operator, is valid against the Kubernetes OpenAPI
# schemas of kubernetes-models (types, enums, formats, required fields, unknown fields).
# The EtcdCluster of charts/cairn-cluster is checked for apiVersion/kind here and against
# its CRD by chart_cluster_crd_test; a ServiceMonitor only for apiVersion/kind.
# Self-check first: each charts/tests/broken/*.yaml must be reported invalid.
source "$(dirname "$0")/lib.sh"
need_tools

echo "== self-check: deliberately broken manifests must be rejected"
status=0
node "$TESTS/validate_manifests.mjs" --expect-invalid "$TESTS"/broken/*.yaml || {
  echo "FAIL: self-check: the validator accepted a broken manifest or missed an expected error (see above)"
  status=1
}

files=()
render cairn-operator "$WORK/operator-defaults.yaml"
files+=("$WORK/operator-defaults.yaml")
mapfile -t value_sets < <(values_files cairn-operator)
for values in "${value_sets[@]}"; do
  out="$WORK/operator-$(basename "$values")"
  render cairn-operator "$out" -f "$values"
  files+=("$out")
done
render cairn-cluster "$WORK/cluster-defaults.yaml"
files+=("$WORK/cluster-defaults.yaml")
"$KUBECTL" kustomize "$ROOT/deploy/operator" >"$WORK/deploy-operator.yaml" || fail "kubectl kustomize deploy/operator failed"
files+=("$WORK/deploy-operator.yaml")

echo "== rendered manifests"
node "$TESTS/validate_manifests.mjs" "${files[@]}" || {
  echo "FAIL: a rendered manifest is not valid against the Kubernetes schemas (see above)"
  status=1
}
((status == 0)) || exit 1
echo "PASS: ${#files[@]} renderings valid"
