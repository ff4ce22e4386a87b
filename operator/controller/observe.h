// ObserveObjects: turns the live Kubernetes objects of one EtcdCluster (as read from the
// API server) plus the member list into the planner's ObservedState. Pure.
//   * a child is up to date when its spec-hash annotation equals the desired object's;
//   * pods and volumes are indexed by ordinal from their deterministic names;
//   * a member's "volume" is its PVC (data-<cluster>-<ordinal>), or the pod itself when
//     storage is emptyDir; its marker is the etcd.cairn.dev/member-id annotation there;
//   * the bootstrap ConfigMap's per-member keys become MemberBootstrap entries;
//   * the TLS Secrets' certificates are parsed (a Secret whose certificate or key does
//     not parse, or whose key does not match, is "not valid", never an error).
// Thread-safety: stateless.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/api/cluster_spec.h"
#include "operator/api/time_format.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/observed.h"
#include "server/common/status.h"

namespace cairn::op {

struct ChildObjects {
  std::optional<nlohmann::json> peer_service, client_service, config_map, stateful_set, pdb;
  std::vector<nlohmann::json> pods, pvcs;
  std::map<std::string, nlohmann::json> secrets;  // the Secrets it reads (TLS, restore, spec.auth) that exist, by name
  std::map<std::string, nlohmann::json> certificates;  // cert-manager Certificates that exist, by name
};

// A Secret's data[key], base64-decoded; empty when absent or not base64.
std::string SecretDataValue(const nlohmann::json& secret, const char* key);

// The cert-manager Certificate the operator wants for `want` (certificates.h's
// ManagedCertificates), from its side's issuerRef.
nlohmann::json DesiredCertManagerCertificate(const ClusterSpec& spec, const CertificateSpec& want);

// The CA Secret's part of TlsState: the CA, the next or previous CA of a rotation, and
// the rotation's annotations. Unparseable times read as the epoch.
void ObserveCaSecret(const nlohmann::json& secret, TlsState* tls);

// Whether a StatefulSet's pod template serves clients over TLS (its CLIENT_SCHEME).
bool TemplateServesClientTls(const nlohmann::json& sts);
// The client schemes member pods serve now: during a rollout of a client TLS change the
// pods still on the old template serve the other one.
struct ClientSchemes {
  bool https = false;
  bool http = false;
  std::map<int, bool> https_by_ordinal;  // each member pod of the cluster: whether it serves https
};
ClientSchemes PodClientSchemes(const std::string& cluster, const std::vector<nlohmann::json>& pods);

ObservedState ObserveObjects(const ClusterSpec& spec, const ChildObjects& children,
                             const Result<std::vector<MemberState>>& members);

}  // namespace cairn::op
