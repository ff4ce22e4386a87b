#!/usr/bin/env bash
# End-to-end check of cairn-operator on a real cluster (kind). Not run in CI: it needs
# Docker, kind and images. See e2e/README.md.
#
#   e2e/run.sh                                  # uses the current kubectl context
#   KIND_CLUSTER=cairn e2e/run.sh               # also loads the images into that kind cluster
#   BUILD_IMAGES=1 KIND_CLUSTER=cairn e2e/run.sh   # builds them first (tools/build-images.sh)
#
# Steps: apply CRD + deploy/operator, wait for the operator, create an EtcdCluster of 3,
# wait for Available, write/read a key, scale 3 -> 5 -> 3 (waiting for Available and the
# member count each time), check the operator's Events on the EtcdCluster, delete it and
# wait for its children to be garbage-collected.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NS="${E2E_NAMESPACE:-cairn-e2e}"
NAME="${E2E_CLUSTER_NAME:-e2e}"
OPERATOR_IMAGE="${OPERATOR_IMAGE:-cairn-operator:0.1.0}"
CAIRN_IMAGE="${CAIRN_IMAGE:-cairn:0.1.0}"
TIMEOUT="${E2E_TIMEOUT:-300s}"
TIMEOUT_S="${TIMEOUT%s}"

log() { printf '%s e2e: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { log "FAILED: $*"; kubectl -n cairn-system logs deploy/cairn-operator --tail=100 || true; exit 1; }

# Runs "$@" every 5s until it succeeds or E2E_TIMEOUT passes.
eventually() {
  local deadline=$((SECONDS + TIMEOUT_S))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 5
  done
}

# Waits until .status has the wanted replicas, all ready, and Available=True.
wait_for_size() {
  local want="$1" deadline=$((SECONDS + TIMEOUT_S))
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

# kind takes images from a docker daemon; without one (podman), from an archive. podman
# names a local build localhost/NAME, while the kubelet looks an unqualified NAME up as
# docker.io/library/NAME, so the archive carries that name.
load_image() {
  local image="$1"
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    kind load docker-image --name "$KIND_CLUSTER" "$image"
    return
  fi
  local full="$image" archive
  [[ "$image" == */* ]] || full="docker.io/library/$image"
  archive="$(mktemp --suffix=.tar)"
  podman tag "$image" "$full"
  podman save -o "$archive" "$full"
  kind load image-archive --name "$KIND_CLUSTER" "$archive"
  rm -f "$archive"
}

# Whether the EtcdCluster (this uid) has an Event of this type and reason.
has_event() {
  local type="$1" reason="$2"
  [[ -n "$(kubectl -n "$NS" get events \
    --field-selector "involvedObject.uid=$uid,type=$type,reason=$reason" -o name)" ]]
}

# Whether no object labelled as this cluster's child is left.
children_gone() {
  [[ -z "$(kubectl -n "$NS" get statefulset,service,configmap,pdb -l app.kubernetes.io/instance="$NAME" -o name)" ]]
}

pvc_count_is() {
  [[ "$(kubectl -n "$NS" get pvc -l app.kubernetes.io/instance="$NAME" -o name | wc -l)" -eq "$1" ]]
}

if [[ -n "${BUILD_IMAGES:-}" ]]; then
  log "building images"
  CAIRN_IMAGE_TAG="${CAIRN_IMAGE##*:}" "$ROOT/tools/build-images.sh"
fi
if [[ -n "${KIND_CLUSTER:-}" ]]; then
  log "loading images into kind cluster $KIND_CLUSTER"
  load_image "$OPERATOR_IMAGE"
  load_image "$CAIRN_IMAGE"
fi

log "installing CRD and operator"
kubectl apply -k "$ROOT/deploy/operator"
kubectl -n cairn-system set image deploy/cairn-operator operator="$OPERATOR_IMAGE"
kubectl wait --for=condition=Established crd/etcdclusters.etcd.cairn.dev --timeout="$TIMEOUT"
kubectl -n cairn-system rollout status deploy/cairn-operator --timeout="$TIMEOUT"
lease_held() {
  holder="$(kubectl -n cairn-system get lease cairn-operator -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true)"
  [[ -n "$holder" ]]
}
eventually lease_held || fail "no operator replica holds the Lease"
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
uid="$(kubectl -n "$NS" get etcdcluster "$NAME" -o jsonpath='{.metadata.uid}')"

# From inside a member's container (the image has etcdctl), through the client Service:
# unlike a `kubectl run --rm -i` pod, exec cannot lose output that ends before it attaches.
log "writing and reading a key through the client Service"
kubectl -n "$NS" exec "$NAME-0" -c cairn -- \
  sh -c "etcdctl --endpoints=http://$NAME-client:2379 put e2e ok && etcdctl --endpoints=http://$NAME-client:2379 get e2e" \
  | grep -q '^ok$' || fail "key round trip"

for size in 5 3; do
  log "scaling to $size"
  kubectl -n "$NS" patch etcdcluster "$NAME" --type=merge -p "{\"spec\":{\"replicas\":$size}}"
  wait_for_size "$size"
done
# The volumes of removed members go once their pods are gone (pvc-protection).
eventually pvc_count_is 3 || fail "expected 3 PVCs after scaling down, found $(kubectl -n "$NS" get pvc -o name | wc -l)"

log "checking the operator's Events"
# (MovingLeader is not required: it happens only if the leader was among the removed.)
for reason in CreatingStatefulSet AddingLearner PromotingLearner RemovingMember DeletingVolume; do
  has_event Normal "$reason" || { kubectl -n "$NS" get events; fail "no Normal $reason Event on the EtcdCluster"; }
done
kubectl -n "$NS" get events --field-selector "involvedObject.uid=$uid,type=Warning" \
  -o custom-columns=REASON:.reason,COUNT:.count,MESSAGE:.message || true

log "deleting the cluster"
kubectl -n "$NS" delete etcdcluster "$NAME" --wait=true --timeout="$TIMEOUT"
# Background cascading deletion: the garbage collector removes the children afterwards.
eventually children_gone || fail "children were not garbage-collected"
log "PASSED"
