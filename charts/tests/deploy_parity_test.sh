#!/usr/bin/env bash
# chart_deploy_parity_test: deploy/operator (kubectl kustomize, the no-Helm install) and
# charts/cairn-operator with default values (helm template cairn-operator -n cairn-system
# --include-crds) render the same objects with the same content, RBAC rules included, once
# the labels only Helm sets are taken out. Only deploy/ has the Namespace.
source "$(dirname "$0")/lib.sh"
need_tools

"$KUBECTL" kustomize "$ROOT/deploy/operator" >"$WORK/deploy.yaml" || fail "kubectl kustomize deploy/operator failed"
render cairn-operator "$WORK/chart.yaml"
node "$TESTS/compare_manifests.mjs" "$WORK/deploy.yaml" "$WORK/chart.yaml" ||
  fail "deploy/operator and charts/cairn-operator differ (see above)"
echo "PASS: deploy/operator and charts/cairn-operator render the same objects"
