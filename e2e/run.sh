#!/usr/bin/env bash
# End-to-end check of cairn-operator on a real cluster (kind). Not run in CI: it needs
# Docker, kind and images. See e2e/README.md.
#
#   e2e/run.sh                 # uses the current kubectl context
#   KIND_CLUSTER=cairn e2e/run.sh   # also loads the images into that kind cluster
#
# Steps: apply CRD + deploy/operator, wait for the operator, create an EtcdCluster of 3,
# wait for Available, write/read a key, scale 3 -> 5 -> 3 (waiting for Available and the
# member count each time), delete it and wait for its children to be garbage-collected.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NS="${E2E_NAMESPACE:-cairn-e2e}"
NAME="${E2E_CLUSTER_NAME:-e2e}"
OPERATOR_IMAGE="${OPERATOR_IMAGE:-cairn-operator:0.1.0}"
CAIRN_IMAGE="${CAIRN_IMAGE:-cairn:0.1.0}"
TIMEOUT="${E2E_TIMEOUT:-300s}"

log() { printf '%s e2e: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { log "FAILED: $*"; kubectl -n cairn-system logs deploy/cairn-operator --tail=100 || true; exit 1; }

# Waits until .status has the wanted replicas, all ready, and Available=True.
wait_for_size() {
  local want="$1" deadline=$((SECONDS + ${TIMEOUT%s}))
  while ((SECONDS < deadline)); do
    local st
    st="$(kubectl -n "$NS" get etcdcluster "$NAME" -o jsonpath='{.status.replicas}/{.status.readyReplicas}/{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null || true)"
    if [[ "$st" == "$want/$want/True" ]]; then
      log "cluster has $want ready members"
      return 0
    fi
    sleep 5
  done
  kubectl -n "$NS" get etcdcluster "$NAME" -o yaml || true
  fail "cluster did not reach $want ready members (last: ${st:-none})"
}

if [[ -n "${KIND_CLUSTER:-}" ]]; then
  log "loading images into kind cluster $KIND_CLUSTER"
  kind load docker-image --name "$KIND_CLUSTER" "$OPERATOR_IMAGE" "$CAIRN_IMAGE"
fi

log "installing CRD and operator"
kubectl apply -k "$ROOT/deploy/operator"
kubectl -n cairn-system set image deploy/cairn-operator operator="$OPERATOR_IMAGE"
kubectl wait --for=condition=Established crd/etcdclusters.etcd.cairn.dev --timeout="$TIMEOUT"
kubectl -n cairn-system rollout status deploy/cairn-operator --timeout="$TIMEOUT"
holder="$(kubectl -n cairn-system get lease cairn-operator -o jsonpath='{.spec.holderIdentity}')"
[[ -n "$holder" ]] || fail "no operator replica holds the Lease"
log "leader: $holder"

kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f -
log "creating EtcdCluster $NS/$NAME with 3 members"
kubectl -n "$NS" apply -f - <<YAML
apiVersion: etcd.cairn.dev/v1alpha1
kind: EtcdCluster
metadata:
  name: $NAME
spec:
  replicas: 3
  image: $CAIRN_IMAGE
  storage:
    size: 1Gi
YAML
wait_for_size 3

log "writing and reading a key through the client Service"
kubectl -n "$NS" run e2e-etcdctl --rm -i --restart=Never --image="$CAIRN_IMAGE" --command -- \
  sh -c "etcdctl --endpoints=http://$NAME-client:2379 put e2e ok && etcdctl --endpoints=http://$NAME-client:2379 get e2e" \
  | grep -q '^ok$' || fail "key round trip"

for size in 5 3; do
  log "scaling to $size"
  kubectl -n "$NS" patch etcdcluster "$NAME" --type=merge -p "{\"spec\":{\"replicas\":$size}}"
  wait_for_size "$size"
done
pvcs="$(kubectl -n "$NS" get pvc -l app.kubernetes.io/instance="$NAME" -o name | wc -l)"
[[ "$pvcs" -eq 3 ]] || fail "expected 3 PVCs after scaling down, found $pvcs"

log "deleting the cluster"
kubectl -n "$NS" delete etcdcluster "$NAME" --wait=true --timeout="$TIMEOUT"
kubectl -n "$NS" wait --for=delete statefulset/"$NAME" --timeout="$TIMEOUT" 2>/dev/null || true
[[ -z "$(kubectl -n "$NS" get statefulset,service,configmap,pdb -l app.kubernetes.io/instance="$NAME" -o name)" ]] \
  || fail "children were not garbage-collected"
log "PASSED"
