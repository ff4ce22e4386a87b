// Deterministic names and addresses of everything the operator derives from an
// EtcdCluster. Pure functions; the single place that knows the naming scheme, so the
// planner (which reasons about peer URLs) and the builders (which create the objects)
// can never disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cairn::op::naming {

inline constexpr int kClientPort = 2379;
inline constexpr int kPeerPort = 2380;
inline constexpr int kMetricsPort = 2381;  // --listen-metrics-urls: /metrics and the probes
// The second peer port, used while members move between plaintext and TLS peer traffic
// (reconcile/peer_listeners.h); kMetricsPort is taken.
inline constexpr int kPeerPortAlternate = 2382;

inline std::string PeerService(const std::string& cluster) { return cluster + "-peer"; }
inline std::string ClientService(const std::string& cluster) { return cluster + "-client"; }
inline std::string ConfigMap(const std::string& cluster) { return cluster + "-bootstrap"; }
inline std::string StatefulSet(const std::string& cluster) { return cluster; }
inline std::string Pdb(const std::string& cluster) { return cluster; }
inline std::string Member(const std::string& cluster, int ordinal) {
  return cluster + "-" + std::to_string(ordinal);
}
inline std::string VolumeClaimTemplate() { return "data"; }
// PVC names created by the StatefulSet controller: <template>-<statefulset>-<ordinal>.
inline std::string Pvc(const std::string& cluster, int ordinal) {
  return VolumeClaimTemplate() + "-" + Member(cluster, ordinal);
}
inline std::string MemberHost(const std::string& cluster, const std::string& ns, int ordinal) {
  return Member(cluster, ordinal) + "." + PeerService(cluster) + "." + ns + ".svc";
}
inline std::string Scheme(bool tls) { return tls ? "https://" : "http://"; }
inline std::string PeerUrl(const std::string& cluster, const std::string& ns, int ordinal, bool tls = false,
                           int port = kPeerPort) {
  return Scheme(tls) + MemberHost(cluster, ns, ordinal) + ":" + std::to_string(port);
}
inline std::string MemberClientUrl(const std::string& cluster, const std::string& ns, int ordinal, bool tls = false) {
  return Scheme(tls) + MemberHost(cluster, ns, ordinal) + ":" + std::to_string(kClientPort);
}
inline std::string ClientEndpoint(const std::string& cluster, const std::string& ns, bool tls = false) {
  return Scheme(tls) + ClientService(cluster) + "." + ns + ".svc:" + std::to_string(kClientPort);
}
// Unique per EtcdCluster object (the uid changes if the object is recreated), so members
// of a deleted cluster can never join a new one of the same name.
inline std::string ClusterToken(const std::string& cluster, const std::string& uid) {
  return cluster + "-" + uid.substr(0, 8);
}

// Secrets of a cluster with TLS from the operator: its CA (ca.crt, ca.key), and
// certificates (tls.crt, tls.key, ca.crt) for serving clients, for peers, for
// applications and for the operator's own calls.
inline std::string CaSecret(const std::string& cluster) { return cluster + "-ca"; }
inline std::string CertSecret(const std::string& cluster, const std::string& use) { return cluster + "-" + use + "-tls"; }
// spec.bootstrap.restore: the operator's copy of the backup destination's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN and ca.crt), for
// the members' init containers.
inline std::string RestoreSecret(const std::string& cluster) { return cluster + "-restore"; }
// The EtcdBackup taken before the members move to `version` ("c-before-0-2-0").
std::string PreUpgradeBackup(const std::string& cluster, const std::string& version);

// Ordinal of a member given its name or peer URL (http or https), if it belongs to this cluster.
std::optional<int> OrdinalFromName(const std::string& cluster, const std::string& member_name);
std::optional<int> OrdinalFromPeerUrl(const std::string& cluster, const std::string& peer_url);

// ConfigMap keys carrying one member's bootstrap configuration.
inline std::string KeyInitialCluster(const std::string& member) { return member + ".initial-cluster"; }
inline std::string KeyState(const std::string& member) { return member + ".initial-cluster-state"; }
inline std::string KeyMemberId(const std::string& member) { return member + ".member-id"; }
inline std::string KeyConfiguredAt(const std::string& member) { return member + ".configured-at"; }
inline constexpr const char* kKeyToken = "token";
inline constexpr const char* kKeyScript = "run.sh";
// spec.bootstrap.restore as resolved at bootstrap: the one file the init containers read
// (JSON: image, endpoint, bucket, region, pathStyle, manifest). Recorded once, so the pod
// template never changes afterwards (not when the EtcdBackup is deleted, nor when the
// operator's own image changes).
inline constexpr const char* kKeyRestore = "restore.json";

// Labels and annotations.
inline constexpr const char* kLabelName = "app.kubernetes.io/name";
inline constexpr const char* kLabelInstance = "app.kubernetes.io/instance";
inline constexpr const char* kLabelManagedBy = "app.kubernetes.io/managed-by";
inline constexpr const char* kAnnotationSpecHash = "etcd.cairn.dev/spec-hash";
// On a member's PVC (or pod, for emptyDir): the member ID (hex) whose data it holds.
inline constexpr const char* kAnnotationMemberId = "etcd.cairn.dev/member-id";
// On member pods (from the template): the Cairn version (spec.version) the pod runs.
inline constexpr const char* kLabelVersion = "etcd.cairn.dev/version";
// Set by the StatefulSet controller on each pod: the template revision it was made from.
inline constexpr const char* kLabelRevision = "controller-revision-hash";
// On the StatefulSet: when the operator last changed its pod template (RFC 3339), the
// start of the rollout that replaces the member pods.
inline constexpr const char* kAnnotationTemplateChangedAt = "etcd.cairn.dev/template-changed-at";
// On the StatefulSet while its template serves clients over TLS: the Secret with the
// operator's client certificate. Merged, never removed, so once spec.tls.client is gone
// the operator still finds the certificate pods not yet rolled require.
inline constexpr const char* kAnnotationOperatorTlsSecret = "etcd.cairn.dev/operator-tls-secret";

// On the EtcdCluster, set by users: a new value starts a CA rotation. On the CA Secret,
// set by the operator: the value the last rotation answered.
inline constexpr const char* kAnnotationRotateCa = "etcd.cairn.dev/rotate-ca";
// On the CA Secret during a CA rotation (RFC 3339): when the next CA was added to the
// trust bundles, and when it replaced the CA as the signer.
inline constexpr const char* kAnnotationCaRotationStarted = "etcd.cairn.dev/ca-rotation-started-at";
inline constexpr const char* kAnnotationCaSwitched = "etcd.cairn.dev/ca-switched-at";

std::string MemberIdHex(uint64_t id);
std::optional<uint64_t> ParseMemberIdHex(const std::string& hex);

}  // namespace cairn::op::naming
