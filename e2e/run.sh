#!/usr/bin/env bash
# End-to-end check of cairn-operator on a real cluster (kind). Not run in CI: it needs
# Docker, kind and images. See e2e/README.md.
#
#   e2e/run.sh                                  # uses the current kubectl context
#   KIND_CLUSTER=cairn e2e/run.sh               # also loads the images into that kind cluster
#   BUILD_IMAGES=1 KIND_CLUSTER=cairn e2e/run.sh   # builds them first (tools/build-images.sh)
#
# Steps: install the operator with Helm (E2E_INSTALL=kustomize: deploy/operator), wait for
# it, create an EtcdCluster of 3, wait for Available, start a writer that puts one key at a
# time through the client Service, scale 3 -> 5 -> 3, upgrade spec.version (checking that
# members were replaced one at a time, the leader last after one leadership move), check
# the writer's failures (at most E2E_MAX_FAILED_PERCENT, default 1) and that every
# acknowledged key is there, check the operator's Events, delete the cluster and wait for
# its children to be garbage-collected.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NS="${E2E_NAMESPACE:-cairn-e2e}"
NAME="${E2E_CLUSTER_NAME:-e2e}"
OPERATOR_IMAGE="${OPERATOR_IMAGE:-cairn-operator:0.1.0}"
CAIRN_IMAGE="${CAIRN_IMAGE:-cairn:0.1.0}"
# The upgrade's target: by default the same build under the next version's tag.
NEXT_VERSION="${E2E_NEXT_VERSION:-0.2.0}"
CAIRN_NEXT_IMAGE="${CAIRN_NEXT_IMAGE:-${CAIRN_IMAGE%:*}:$NEXT_VERSION}"
INSTALL="${E2E_INSTALL:-helm}"
MAX_FAILED_PERCENT="${E2E_MAX_FAILED_PERCENT:-1}"
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
  if [[ "$CAIRN_NEXT_IMAGE" != "$CAIRN_IMAGE" ]]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
      docker image inspect "$CAIRN_NEXT_IMAGE" >/dev/null 2>&1 || docker tag "$CAIRN_IMAGE" "$CAIRN_NEXT_IMAGE"
    else
      podman image exists "$CAIRN_NEXT_IMAGE" || podman tag "$CAIRN_IMAGE" "$CAIRN_NEXT_IMAGE"
    fi
    load_image "$CAIRN_NEXT_IMAGE"
  fi
fi

if [[ "$INSTALL" == helm ]]; then
  HELM="$(command -v helm || echo "$("$ROOT/tools/install-helm.sh" --print-dir)/bin/helm")"
  log "installing the operator with Helm ($HELM)"
  "$HELM" upgrade --install cairn-operator "$ROOT/charts/cairn-operator" -n cairn-system --create-namespace \
    --set image.repository="${OPERATOR_IMAGE%:*}" --set image.tag="${OPERATOR_IMAGE##*:}" \
    --set defaultCairnImage.repository="${CAIRN_IMAGE%:*}"
else
  log "installing CRD and operator with kustomize"
  kubectl apply -k "$ROOT/deploy/operator"
  kubectl -n cairn-system set image deploy/cairn-operator operator="$OPERATOR_IMAGE"
fi
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

# One key at a time through the client Service for the rest of the run, each put with
# etcdctl (clientv3 and its retries), one line per put: "ok KEY" or "fail KEY".
log "starting a writer through the client Service"
kubectl -n "$NS" delete pod writer --ignore-not-found --wait=true
kubectl -n "$NS" run writer --image="$CAIRN_IMAGE" --restart=Never --command -- sh -c "
  i=0
  while [ ! -f /tmp/stop ]; do
    i=\$((i + 1))
    if etcdctl --endpoints=http://$NAME-client:2379 --command-timeout=10s put w-\$i \$i >/dev/null 2>&1; then
      echo ok w-\$i
    else
      echo fail w-\$i
    fi
  done
  echo done
  sleep 3600"
kubectl -n "$NS" wait --for=condition=Ready pod/writer --timeout="$TIMEOUT"

for size in 5 3; do
  log "scaling to $size"
  kubectl -n "$NS" patch etcdcluster "$NAME" --type=merge -p "{\"spec\":{\"replicas\":$size}}"
  wait_for_size "$size"
done
# The volumes of removed members go once their pods are gone (pvc-protection).
eventually pvc_count_is 3 || fail "expected 3 PVCs after scaling down, found $(kubectl -n "$NS" get pvc -o name | wc -l)"

# The upgrade: the operator replaces one member at a time, followers first, and the
# leader last after moving leadership once.
leader="$(kubectl -n "$NS" get etcdcluster "$NAME" -o jsonpath='{.status.members[?(@.role=="leader")].name}')"
log "upgrading to $NEXT_VERSION ($CAIRN_NEXT_IMAGE); leader before: $leader"
kubectl -n "$NS" patch etcdcluster "$NAME" --type=merge \
  -p "{\"spec\":{\"version\":\"$NEXT_VERSION\",\"image\":\"$CAIRN_NEXT_IMAGE\"}}"
upgraded() {
  [[ "$(kubectl -n "$NS" get etcdcluster "$NAME" -o jsonpath='{.status.currentVersion}/{.status.updatedReplicas}/{.status.readyReplicas}/{.status.conditions[?(@.type=="Progressing")].status}')" \
     == "$NEXT_VERSION/3/3/False" ]]
}
eventually upgraded || { kubectl -n "$NS" get etcdcluster "$NAME" -o yaml; fail "the upgrade did not complete"; }
order="$(kubectl -n "$NS" get events --field-selector "involvedObject.uid=$uid" --sort-by=.firstTimestamp \
  -o jsonpath='{range .items[?(@.reason=="UpdatingMember")]}{.message}{"\n"}{end}' | sed -n 's/^replacing the pod of \([^ ]*\) .*/\1/p')"
log "members replaced in order: $(tr '\n' ' ' <<<"$order")"
[[ "$(echo "$order" | wc -l)" -eq 3 ]] || fail "expected 3 replaced members, got: $order"
[[ "$(echo "$order" | tail -1)" == "$leader" ]] || fail "the leader $leader was not replaced last"
moves="$(kubectl -n "$NS" get events --field-selector "involvedObject.uid=$uid,reason=MovingLeaderForUpdate" -o jsonpath='{.items[*].count}')"
[[ "$moves" == 1 ]] || fail "leadership moved ${moves:-0} times during the upgrade, want 1"

log "stopping the writer"
kubectl -n "$NS" exec writer -- touch /tmp/stop
writer_done() { kubectl -n "$NS" logs writer | grep -q '^done$'; }
eventually writer_done || fail "the writer did not stop"
ok="$(kubectl -n "$NS" logs writer | grep -c '^ok ' || true)"
failed="$(kubectl -n "$NS" logs writer | grep -c '^fail ' || true)"
log "writer: $ok puts acknowledged, $failed failed"
((ok > 0)) || fail "the writer acknowledged nothing"
((failed * 100 <= (ok + failed) * MAX_FAILED_PERCENT)) || fail "$failed of $((ok + failed)) puts failed (over $MAX_FAILED_PERCENT%)"
stored="$(kubectl -n "$NS" exec "$NAME-0" -c cairn -- etcdctl --endpoints="http://$NAME-client:2379" get w- --prefix --keys-only | grep -c '^w-' || true)"
missing="$(comm -23 <(kubectl -n "$NS" logs writer | sed -n 's/^ok //p' | sort) \
  <(kubectl -n "$NS" exec "$NAME-0" -c cairn -- etcdctl --endpoints="http://$NAME-client:2379" get w- --prefix --keys-only | grep '^w-' | sort))"
[[ -z "$missing" ]] || fail "acknowledged keys missing: $(echo "$missing" | head -5 | tr '\n' ' ')"
log "all $ok acknowledged keys are stored ($stored keys in all)"
kubectl -n "$NS" delete pod writer --wait=false

log "checking the operator's Events"
# (MovingLeader is not required: it happens only if the leader was among the removed.)
for reason in CreatingStatefulSet AddingLearner PromotingLearner RemovingMember DeletingVolume UpdatingPodTemplate \
  UpdatingMember MovingLeaderForUpdate; do
  has_event Normal "$reason" || { kubectl -n "$NS" get events; fail "no Normal $reason Event on the EtcdCluster"; }
done
kubectl -n "$NS" get events --field-selector "involvedObject.uid=$uid,type=Warning" \
  -o custom-columns=REASON:.reason,COUNT:.count,MESSAGE:.message || true

log "deleting the cluster"
kubectl -n "$NS" delete etcdcluster "$NAME" --wait=true --timeout="$TIMEOUT"
# Background cascading deletion: the garbage collector removes the children afterwards.
eventually children_gone || fail "children were not garbage-collected"
log "PASSED"
