// Builders: the desired Kubernetes objects for an EtcdCluster, as JSON ready to send to
// the API server. Pure functions of the ClusterSpec (plus the planner-chosen numbers
// passed in), so names, labels and owner references are deterministic.
//
// Every object carries an owner reference to the EtcdCluster (controller: true,
// blockOwnerDeletion: true) so deleting the EtcdCluster garbage-collects it, and a
// spec-hash annotation over its desired content so the controller can tell whether the
// live object is up to date without a field-by-field diff against server defaults.
// Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/cluster_spec.h"
#include "operator/reconcile/observed.h"

namespace cairn::op::resources {

nlohmann::json Labels(const ClusterSpec& spec);  // selector labels of member pods
nlohmann::json OwnerReference(const ClusterSpec& spec);

nlohmann::json PeerService(const ClusterSpec& spec);
nlohmann::json ClientService(const ClusterSpec& spec);
// Bootstrap ConfigMap: token, start script, and one entry per member.
nlohmann::json ConfigMap(const ClusterSpec& spec, const std::map<std::string, MemberBootstrap>& members);
// The member StatefulSet; `peer` says where members listen for each other
// (peer_listeners.h), a new cluster's (InitialPeerListeners) when not given.
nlohmann::json StatefulSet(const ClusterSpec& spec, int32_t replicas);
nlohmann::json StatefulSet(const ClusterSpec& spec, int32_t replicas, const PeerListeners& peer);
nlohmann::json PodDisruptionBudget(const ClusterSpec& spec, int32_t min_available);

// Container environment the start script reads: "http" or "https" for each side, the
// advertised peer port, and the second peer listener ("https:2382") while members move.
inline constexpr const char* kEnvClientScheme = "CLIENT_SCHEME";
inline constexpr const char* kEnvPeerScheme = "PEER_SCHEME";
inline constexpr const char* kEnvPeerPort = "PEER_PORT";
inline constexpr const char* kEnvPeerAlso = "PEER_ALSO";

// The Secrets of spec.tls (certificates.h): the CA's (ca.crt, ca.key) and a leaf's
// (type kubernetes.io/tls: tls.crt, tls.key, ca.crt), owned by the cluster.
nlohmann::json CaSecret(const ClusterSpec& spec, const std::string& cert_pem, const std::string& key_pem);
nlohmann::json CertSecret(const ClusterSpec& spec, const std::string& name, const std::string& cert_pem,
                          const std::string& key_pem, const std::string& ca_pem);

// A cert-manager (cert-manager.io/v1) Certificate that asks `issuer` for what the
// operator would issue itself (certificates.h): the Secret `name` with these names
// (IP addresses as ipAddresses), usages, key algorithm, spec.tls.certificateValidity as
// duration, renewed with a third of it left, as "auto" is. With the spec-hash annotation.
nlohmann::json CertManagerCertificate(const ClusterSpec& spec, const std::string& name, const std::string& common_name,
                                      const std::vector<std::string>& hosts, bool server_auth, bool client_auth,
                                      const CertManagerIssuer& issuer);

// spec.bootstrap.restore: the backup destination's credentials (REQUIRES resolved_restore).
nlohmann::json RestoreSecret(const ClusterSpec& spec);

// The member start script (ConfigMap key run.sh). Reads its entry, refuses to start
// without one, and discards a data dir that belongs to a removed identity. An initial
// member ("new") without a data dir that finds a fetched backup (restore.db, written by
// the init container) restores it with `cairn snapshot restore` first.
std::string StartScript();
// The restore init container's script: for an initial member without data, waits for its
// entry and fetches the recorded backup with `cairn-operator fetch-backup`; otherwise
// does nothing (a member added later, or restarted, never restores).
std::string RestoreFetchScript();

// Stable hash of an object's desired content (hex), stored in the spec-hash annotation.
std::string SpecHash(const nlohmann::json& desired);
// Returns `obj` with the spec-hash annotation set to SpecHash(obj).
nlohmann::json WithSpecHash(nlohmann::json obj);

}  // namespace cairn::op::resources
