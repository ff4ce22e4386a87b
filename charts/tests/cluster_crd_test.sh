#!/usr/bin/env bash
# chart_cluster_crd_test: the EtcdCluster that charts/cairn-cluster renders, with its
# default values and each charts/tests/values/cairn-cluster/*.yaml, is valid against the
# CRD's openAPIV3Schema in crds/ (after CRD defaulting; crds/tests/validate_crd.py). Self-
# check first: each values/cairn-cluster/invalid/*.yaml renders an EtcdCluster the schema
# must reject with the errors its "# expect:" lines name.
source "$(dirname "$0")/lib.sh"
need_tools

invalid=()
for values in "$TESTS"/values/cairn-cluster/invalid/*.yaml; do
  out="$WORK/invalid-$(basename "$values")"
  render cairn-cluster "$out.body" -f "$values"
  { grep '^# expect:' "$values" || true; cat "$out.body"; } >"$out"
  invalid+=("$out")
done
[[ ${#invalid[@]} -gt 0 ]] || fail "no invalid cases in charts/tests/values/cairn-cluster/invalid"
status=0
"$PYTHON" "$TESTS/validate_etcdcluster.py" --expect-invalid "${invalid[@]}" || {
  echo "FAIL: self-check: an invalid EtcdCluster was accepted, or rejected without the expected error (see above)"
  status=1
}

valid=("$WORK/cluster-defaults.yaml")
render cairn-cluster "$WORK/cluster-defaults.yaml"
mapfile -t value_sets < <(values_files cairn-cluster)
for values in "${value_sets[@]}"; do
  out="$WORK/cluster-$(basename "$values")"
  render cairn-cluster "$out" -f "$values"
  valid+=("$out")
done
"$PYTHON" "$TESTS/validate_etcdcluster.py" "${valid[@]}" || {
  echo "FAIL: charts/cairn-cluster renders an EtcdCluster that crds/etcd.cairn.dev_etcdclusters.yaml rejects (see above)"
  status=1
}
((status == 0)) || exit 1
echo "PASS: charts/cairn-cluster renders valid EtcdClusters (${#valid[@]} value sets)"
