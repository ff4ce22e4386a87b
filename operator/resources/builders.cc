#include "operator/resources/builders.h"

#include <cstdio>

#include "operator/api/naming.h"
#include "operator/api/base64.h"
#include "operator/resources/backup_pod_parts.h"

namespace cairn::op::resources {
namespace {

constexpr const char* kConfigDir = "/etc/cairn/bootstrap";
constexpr const char* kDataRoot = "/var/lib/cairn";
constexpr const char* kTlsDir = "/etc/cairn/tls";
constexpr const char* kKeyRestoreScript = "fetch-backup.sh";

nlohmann::json Meta(const ClusterSpec& spec, const std::string& name) {
  nlohmann::json labels = Labels(spec);
  labels[naming::kLabelManagedBy] = "cairn-operator";
  return {{"name", name},
          {"namespace", spec.namespace_},
          {"labels", labels},
          {"ownerReferences", nlohmann::json::array({OwnerReference(spec)})}};
}

nlohmann::json Probe(const char* path, int period_seconds, int failure_threshold) {
  return {{"httpGet", {{"path", path}, {"port", "metrics"}}},
          {"periodSeconds", period_seconds},
          {"timeoutSeconds", 5},
          {"failureThreshold", failure_threshold}};
}

nlohmann::json Ports() {
  return nlohmann::json::array({{{"name", "client"}, {"port", naming::kClientPort}, {"targetPort", naming::kClientPort}},
                                {{"name", "peer"}, {"port", naming::kPeerPort}, {"targetPort", naming::kPeerPort}}});
}

}  // namespace

nlohmann::json Labels(const ClusterSpec& spec) {
  return {{naming::kLabelName, "cairn"}, {naming::kLabelInstance, spec.name}};
}

nlohmann::json OwnerReference(const ClusterSpec& spec) {
  return {{"apiVersion", "etcd.cairn.dev/v1alpha1"}, {"kind", "EtcdCluster"}, {"name", spec.name},
          {"uid", spec.uid},  {"controller", true},     {"blockOwnerDeletion", true}};
}

nlohmann::json PeerService(const ClusterSpec& spec) {
  // Headless, and publishing not-ready addresses: members must resolve each other's
  // DNS names before any of them is ready, or bootstrap deadlocks.
  return WithSpecHash({{"apiVersion", "v1"},
                       {"kind", "Service"},
                       {"metadata", Meta(spec, naming::PeerService(spec.name))},
                       {"spec",
                        {{"clusterIP", "None"},
                         {"publishNotReadyAddresses", true},
                         {"selector", Labels(spec)},
                         {"ports", Ports()}}}});
}

nlohmann::json ClientService(const ClusterSpec& spec) {
  return WithSpecHash({{"apiVersion", "v1"},
                       {"kind", "Service"},
                       {"metadata", Meta(spec, naming::ClientService(spec.name))},
                       {"spec",
                        {{"type", "ClusterIP"},
                         {"selector", Labels(spec)},
                         {"ports", nlohmann::json::array({Ports()[0]})}}}});
}

// Both scripts' start: where the ConfigMap and the volume are, which pod this is, and a
// wait until the operator has written this member's entry (`entry_key` of it).
static std::string ScriptPreamble(const std::string& entry_key) {
  return R"SH(set -eu
cfg="${CAIRN_BOOTSTRAP_DIR:-)SH" + std::string(kConfigDir) + R"SH(}"
root="${CAIRN_DATA_ROOT:-)SH" + std::string(kDataRoot) + R"SH(}"
name="${POD_NAME:?POD_NAME is required}"
while [ ! -f "$cfg/$name.)SH" + entry_key + R"SH(" ]; do
  echo "waiting for the operator to configure $name" >&2
  sleep 2
done
)SH";
}

std::string StartScript() {
  return R"SH(#!/bin/sh
# Started by the member container. The operator writes one entry per member into this
# ConfigMap; a pod without an entry is not (yet) a member and must not start.
)SH" + ScriptPreamble("initial-cluster") + R"SH(want_id="$(cat "$cfg/$name.member-id" 2>/dev/null || true)"
if [ -n "$want_id" ]; then
  have_id="$(cat "$root/member-id" 2>/dev/null || true)"
  if [ -n "$have_id" ] && [ "$have_id" != "$want_id" ]; then
    echo "data of removed member $have_id found; $name is now member $want_id: discarding it" >&2
    rm -rf "$root/data"
  fi
  echo "$want_id" > "$root/member-id"
fi
host="$name.$PEER_SERVICE.$POD_NAMESPACE.svc"
client="${CLIENT_SCHEME:-http}"
peer="${PEER_SCHEME:-http}"
peer_port="${PEER_PORT:-2380}"
listen_peer="$peer://0.0.0.0:$peer_port"
# PEER_ALSO ("https:2382"): a second peer listener while members move to it or from it.
[ -n "${PEER_ALSO:-}" ] && listen_peer="$listen_peer,${PEER_ALSO%%:*}://0.0.0.0:${PEER_ALSO#*:}"
if [ -f "$root/restore.db" ] && [ ! -d "$root/data" ] && [ "$(cat "$cfg/$name.initial-cluster-state")" = new ]; then
  echo "restoring $name from the fetched backup" >&2
  replay=
  [ -f "$root/restore.deltas" ] && replay="--replay=$root/restore.deltas"
  "${CAIRN_BIN:-cairn}" snapshot restore "$root/restore.db" ${replay:+"$replay"} \
    --name="$name" \
    --data-dir="$root/data.restoring" \
    --initial-cluster="$(cat "$cfg/$name.initial-cluster")" \
    --initial-advertise-peer-urls="$peer://$host:$peer_port" \
    --initial-cluster-token="$(cat "$cfg/token")" || { rm -rf "$root/data.restoring"; exit 1; }
  mv "$root/data.restoring" "$root/data"
  rm -f "$root/restore.db" "$root/restore.deltas"
fi
exec "${CAIRN_BIN:-cairn}" \
  --name="$name" \
  --data-dir="$root/data" \
  --listen-client-urls="$client://0.0.0.0:2379" \
  --advertise-client-urls="$client://$host:2379" \
  --listen-peer-urls="$listen_peer" \
  --listen-metrics-urls=http://0.0.0.0:2381 \
  --initial-advertise-peer-urls="$peer://$host:$peer_port" \
  --initial-cluster="$(cat "$cfg/$name.initial-cluster")" \
  --initial-cluster-state="$(cat "$cfg/$name.initial-cluster-state")" \
  --initial-cluster-token="$(cat "$cfg/token")" \
  "$@"
)SH";
}

namespace {

// The fetch-backup init container's S3 credentials, from the restore Secret.
nlohmann::json RestoreS3Env(const ClusterSpec& spec) {
  const std::string secret = naming::RestoreSecret(spec.name);
  auto from = [&](const char* key, bool optional) {
    nlohmann::json ref = {{"name", secret}, {"key", key}};
    if (optional) ref["optional"] = true;
    return nlohmann::json{{"name", key}, {"valueFrom", {{"secretKeyRef", ref}}}};
  };
  return {from("AWS_ACCESS_KEY_ID", false), from("AWS_SECRET_ACCESS_KEY", false), from("AWS_SESSION_TOKEN", true)};
}

}  // namespace

std::string RestoreFetchScript() {
  return ScriptPreamble("initial-cluster-state") + R"SH(if [ "$(cat "$cfg/$name.initial-cluster-state")" != new ] || [ -d "$root/data" ] || [ -f "$root/restore.db" ]; then
  exit 0
fi
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" "$cfg/)SH" + std::string(naming::kKeyRestore) + R"SH("; }
if [ -n "$(field claim)" ]; then
  set -- --dir="${CAIRN_BACKUP_DIR:-)SH" + std::string(kBackupMount) + R"SH(}" --manifest="$(field manifest)" --out="$root/restore.db"
else
  set -- --endpoint="$(field endpoint)" --bucket="$(field bucket)" --region="$(field region)" --manifest="$(field manifest)" --out="$root/restore.db"
fi
[ "$(field pathStyle)" = true ] && set -- "$@" --path-style
[ "$(field ca)" = true ] && set -- "$@" --ca-file=/etc/cairn/restore/ca.crt
[ -n "$(field toRevision)" ] && set -- "$@" --to-revision="$(field toRevision)" --deltas-out="$root/restore.deltas"
[ -n "$(field toTime)" ] && set -- "$@" --to-time="$(field toTime)" --deltas-out="$root/restore.deltas"
exec "${CAIRN_OPERATOR_BIN:-cairn-operator}" fetch-backup "$@"
)SH";
}

nlohmann::json RestoreSecret(const ClusterSpec& spec) {
  CAIRN_CHECK(spec.resolved_restore.has_value());
  nlohmann::json data = nlohmann::json::object();
  for (const auto& [k, v] : spec.resolved_restore->secret_data) data[k] = Base64Encode(v);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", Meta(spec, naming::RestoreSecret(spec.name))},
          {"type", "Opaque"},
          {"data", data}};
}

nlohmann::json ConfigMap(const ClusterSpec& spec, const std::map<std::string, MemberBootstrap>& members) {
  nlohmann::json data = {{naming::kKeyToken, naming::ClusterToken(spec.name, spec.uid)},
                         {naming::kKeyScript, StartScript()}};
  if (spec.resolved_restore) {
    data[naming::kKeyRestore] = spec.resolved_restore->ToJson().dump();
    data[kKeyRestoreScript] = RestoreFetchScript();
  }
  for (const auto& [name, b] : members) {
    data[naming::KeyInitialCluster(name)] = b.initial_cluster;
    data[naming::KeyState(name)] = b.state;
    if (!b.member_id.empty()) data[naming::KeyMemberId(name)] = b.member_id;
  }
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", Meta(spec, naming::ConfigMap(spec.name))},
          {"data", data}};
}

nlohmann::json StatefulSet(const ClusterSpec& spec, int32_t replicas) {
  return StatefulSet(spec, replicas, InitialPeerListeners(spec));
}

nlohmann::json StatefulSet(const ClusterSpec& spec, int32_t replicas, const PeerListeners& peer) {
  nlohmann::json pod_labels = Labels(spec);
  pod_labels[naming::kLabelVersion] = spec.version;
  for (const auto& [k, v] : spec.pod.labels) {
    if (!pod_labels.contains(k)) pod_labels[k] = v;  // never override the operator's labels
  }
  nlohmann::json args = nlohmann::json::array({std::string("/etc/cairn/bootstrap/") + naming::kKeyScript});
  // Certificates come from Secret volumes, which the kubelet updates in place (an atomic
  // ..data symlink swap); members re-read the files every second, so a renewed
  // certificate is served without a restart.
  if (spec.tls.client.enabled) {
    const std::string dir = std::string(kTlsDir) + "/server/";
    args.push_back("--cert-file=" + dir + "tls.crt");
    args.push_back("--key-file=" + dir + "tls.key");
    args.push_back("--trusted-ca-file=" + dir + "ca.crt");
    if (spec.tls.client.client_cert_auth) args.push_back("--client-cert-auth");
  }
  if (peer.AnyTls()) {
    const std::string dir = std::string(kTlsDir) + "/peer/";
    args.push_back("--peer-cert-file=" + dir + "tls.crt");
    args.push_back("--peer-key-file=" + dir + "tls.key");
    args.push_back("--peer-trusted-ca-file=" + dir + "ca.crt");
    args.push_back("--peer-client-cert-auth");
    // The operator's peer certificates name every member by one wildcard, so checking a
    // peer's address against them (etcd's SAN check, by reverse DNS of the pod IP) proves
    // little and breaks under a cluster domain other than cluster.local.
    if (!peer.check_peer_san) args.push_back("--experimental-peer-skip-client-san-verification");
  }
  for (const auto& o : spec.options) args.push_back(o);
  nlohmann::json container = {
      {"name", "cairn"},
      {"image", spec.image},
      {"imagePullPolicy", spec.image_pull_policy},
      {"command", {"/bin/sh"}},
      {"args", args},
      {"env",
       {{{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
        {{"name", "POD_NAMESPACE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
        {{"name", "PEER_SERVICE"}, {"value", naming::PeerService(spec.name)}},
        {{"name", kEnvClientScheme}, {"value", spec.tls.client.enabled ? "https" : "http"}},
        {{"name", kEnvPeerScheme}, {"value", peer.advertised.Scheme()}},
        {{"name", kEnvPeerPort}, {"value", std::to_string(peer.advertised.port)}}}},
      {"ports",
       {{{"name", "client"}, {"containerPort", naming::kClientPort}},
        {{"name", "peer"}, {"containerPort", peer.advertised.port}},
        // Probes and Prometheus: plain HTTP whatever TLS the client port requires.
        {{"name", "metrics"}, {"containerPort", naming::kMetricsPort}}}},
      // Ready means "can serve a client now" (a voter with a leader that answers a
      // quorum read), so the client Service never routes to a learner or to a member
      // still catching up. Liveness asks only that the process answers a local read,
      // so neither a partition nor a long defragmentation gets a member restarted; the
      // startup probe gives a long WAL replay (or a wait for configuration) 10 minutes.
      {"readinessProbe", Probe("/readyz", 5, 3)},
      {"livenessProbe", Probe("/livez", 10, 6)},
      {"startupProbe", Probe("/livez", 5, 120)},
      {"volumeMounts",
       {{{"name", naming::VolumeClaimTemplate()}, {"mountPath", kDataRoot}},
        {{"name", "bootstrap"}, {"mountPath", kConfigDir}, {"readOnly", true}}}}};
  if (!spec.resources.is_null()) container["resources"] = spec.resources;
  if (peer.also) {
    container["env"].push_back({{"name", kEnvPeerAlso}, {"value", peer.also->ToString()}});
    container["ports"].push_back({{"name", "peer-also"}, {"containerPort", peer.also->port}});
  }

  nlohmann::json volumes = {{{"name", "bootstrap"}, {"configMap", {{"name", naming::ConfigMap(spec.name)}}}}};
  for (auto [use, secret] : {std::pair{"server", spec.tls.client.enabled ? TlsSecretName(spec, "server") : ""},
                              std::pair{"peer", peer.AnyTls() ? peer.tls_secret : ""}}) {
    if (secret.empty()) continue;
    volumes.push_back({{"name", std::string("tls-") + use}, {"secret", {{"secretName", secret}}}});
    container["volumeMounts"].push_back(
        {{"name", std::string("tls-") + use}, {"mountPath", std::string(kTlsDir) + "/" + use}, {"readOnly", true}});
  }
  nlohmann::json pod_spec = {{"containers", {container}}, {"volumes", volumes}, {"terminationGracePeriodSeconds", 30}};
  if (spec.resolved_restore) {
    // Runs cairn-operator's image: it has the S3 client. As root, like the member, since
    // it writes into the member's volume.
    nlohmann::json mounts = {{{"name", naming::VolumeClaimTemplate()}, {"mountPath", kDataRoot}},
                             {{"name", "bootstrap"}, {"mountPath", kConfigDir}, {"readOnly", true}}};
    pod_spec["volumes"].push_back({{"name", "restore"}, {"secret", {{"secretName", naming::RestoreSecret(spec.name)}}}});
    mounts.push_back({{"name", "restore"}, {"mountPath", "/etc/cairn/restore"}, {"readOnly", true}});
    nlohmann::json env = {{{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}}};
    if (!spec.resolved_restore->claim.empty()) {
      pod_spec["volumes"].push_back(BackupVolume(PvcDestination{spec.resolved_restore->claim, ""}, true));
      mounts.push_back(BackupVolumeMount(true));
    } else {
      for (const auto& e : RestoreS3Env(spec)) env.push_back(e);
    }
    pod_spec["initContainers"] = nlohmann::json::array(
        {{{"name", "fetch-backup"},
          {"image", spec.resolved_restore->image},
          {"imagePullPolicy", spec.image_pull_policy},
          {"command", {"/bin/sh", std::string(kConfigDir) + "/" + kKeyRestoreScript}},
          {"env", env},
          {"securityContext", {{"runAsUser", 0}}},
          {"volumeMounts", mounts}}});
  }
  if (!spec.pod.node_selector.empty()) pod_spec["nodeSelector"] = spec.pod.node_selector;
  if (!spec.pod.priority_class.empty()) pod_spec["priorityClassName"] = spec.pod.priority_class;
  if (!spec.pod.affinity.is_null()) pod_spec["affinity"] = spec.pod.affinity;
  if (!spec.pod.tolerations.is_null()) pod_spec["tolerations"] = spec.pod.tolerations;
  if (!spec.pod.topology_spread.is_null()) pod_spec["topologySpreadConstraints"] = spec.pod.topology_spread;

  nlohmann::json sts_spec = {
      {"replicas", replicas},
      {"serviceName", naming::PeerService(spec.name)},
      // Static bootstrap needs all initial members up at once; ordered start would wait
      // for member 0 to be ready, which it cannot be without a quorum.
      {"podManagementPolicy", "Parallel"},
      // The operator replaces member pods itself, one at a time, leader last, checking
      // the cluster between steps (rollout.h); the StatefulSet controller only
      // re-creates the pods the operator deletes.
      {"updateStrategy", {{"type", "OnDelete"}}},
      {"selector", {{"matchLabels", Labels(spec)}}},
      {"template",
       {{"metadata", {{"labels", pod_labels}, {"annotations", spec.pod.annotations}}}, {"spec", pod_spec}}}};
  if (spec.storage.empty_dir) {
    nlohmann::json ed = nlohmann::json::object();
    if (!spec.storage.empty_dir_medium.empty()) ed["medium"] = spec.storage.empty_dir_medium;
    if (!spec.storage.empty_dir_size_limit.empty()) ed["sizeLimit"] = spec.storage.empty_dir_size_limit;
    sts_spec["template"]["spec"]["volumes"].push_back({{"name", naming::VolumeClaimTemplate()}, {"emptyDir", ed}});
  } else {
    nlohmann::json pvc_spec = {{"accessModes", {"ReadWriteOnce"}},
                               {"resources", {{"requests", {{"storage", spec.storage.size}}}}}};
    if (!spec.storage.storage_class.empty()) pvc_spec["storageClassName"] = spec.storage.storage_class;
    sts_spec["volumeClaimTemplates"] = {
        {{"metadata", {{"name", naming::VolumeClaimTemplate()}, {"labels", Labels(spec)}}}, {"spec", pvc_spec}}};
    // Scale-down PVC cleanup is the operator's step (after MemberRemove); on deletion of
    // the whole cluster the StatefulSet controller applies the reclaim policy.
    sts_spec["persistentVolumeClaimRetentionPolicy"] = {
        {"whenScaled", "Retain"},
        {"whenDeleted", spec.storage.reclaim == ReclaimPolicy::kDelete ? "Delete" : "Retain"}};
  }
  // replicas is the planner's to change; it is not part of the template hash.
  nlohmann::json sts = {{"apiVersion", "apps/v1"},
                        {"kind", "StatefulSet"},
                        {"metadata", Meta(spec, naming::StatefulSet(spec.name))},
                        {"spec", sts_spec}};
  if (spec.tls.client.enabled) {
    sts["metadata"]["annotations"][naming::kAnnotationOperatorTlsSecret] = TlsSecretName(spec, "operator");
  }
  nlohmann::json hashed = sts;
  hashed["spec"].erase("replicas");
  sts["metadata"]["annotations"][naming::kAnnotationSpecHash] = SpecHash(hashed);
  return sts;
}

nlohmann::json PodDisruptionBudget(const ClusterSpec& spec, int32_t min_available) {
  return {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", Meta(spec, naming::Pdb(spec.name))},
          {"spec", {{"minAvailable", min_available}, {"selector", {{"matchLabels", Labels(spec)}}}}}};
}

nlohmann::json CaSecret(const ClusterSpec& spec, const std::string& cert_pem, const std::string& key_pem) {
  nlohmann::json secret = {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"metadata", Meta(spec, naming::CaSecret(spec.name))},
                           {"type", "Opaque"},
                           {"data", {{"ca.crt", Base64Encode(cert_pem)}, {"ca.key", Base64Encode(key_pem)}}}};
  // A CA made while a rotation is asked for is already the one asked for.
  if (!spec.tls.rotate_ca_request.empty()) {
    secret["metadata"]["annotations"][naming::kAnnotationRotateCa] = spec.tls.rotate_ca_request;
  }
  return secret;
}

nlohmann::json CertSecret(const ClusterSpec& spec, const std::string& name, const std::string& cert_pem,
                          const std::string& key_pem, const std::string& ca_pem) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", Meta(spec, name)},
          {"type", "kubernetes.io/tls"},
          {"data",
           {{"tls.crt", Base64Encode(cert_pem)},
            {"tls.key", Base64Encode(key_pem)},
            {"ca.crt", Base64Encode(ca_pem)}}}};
}

nlohmann::json CertManagerCertificate(const ClusterSpec& spec, const std::string& name, const std::string& common_name,
                                      const std::vector<std::string>& hosts, bool server_auth, bool client_auth,
                                      const CertManagerIssuer& issuer) {
  nlohmann::json dns = nlohmann::json::array(), ips = nlohmann::json::array();
  for (const auto& h : hosts) {
    const bool ip = h.find_first_not_of("0123456789.") == std::string::npos || h.find(':') != std::string::npos;
    (ip ? ips : dns).push_back(h);
  }
  nlohmann::json usages = {"digital signature", "key encipherment"};
  if (server_auth) usages.push_back("server auth");
  if (client_auth) usages.push_back("client auth");
  const auto hours = std::chrono::duration_cast<std::chrono::hours>(spec.tls.certificate_validity).count();
  nlohmann::json cert_spec = {
      {"secretName", name},
      {"commonName", common_name},
      {"usages", usages},
      {"duration", std::to_string(hours) + "h"},
      {"renewBefore", std::to_string(hours / 3) + "h"},
      {"privateKey", spec.tls.rsa ? nlohmann::json{{"algorithm", "RSA"}, {"size", 2048}, {"encoding", "PKCS8"}}
                                  : nlohmann::json{{"algorithm", "ECDSA"}, {"size", 256}, {"encoding", "PKCS8"}}},
      {"issuerRef", {{"name", issuer.name}, {"kind", issuer.kind}, {"group", issuer.group}}}};
  if (!dns.empty()) cert_spec["dnsNames"] = dns;
  if (!ips.empty()) cert_spec["ipAddresses"] = ips;
  return WithSpecHash({{"apiVersion", "cert-manager.io/v1"},
                       {"kind", "Certificate"},
                       {"metadata", Meta(spec, name)},
                       {"spec", cert_spec}});
}

std::string SpecHash(const nlohmann::json& desired) {
  // FNV-1a over the canonical dump (nlohmann sorts object keys).
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : desired.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

nlohmann::json WithSpecHash(nlohmann::json obj) {
  obj["metadata"]["annotations"][naming::kAnnotationSpecHash] = SpecHash(obj);
  return obj;
}

}  // namespace cairn::op::resources
