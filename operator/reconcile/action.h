// Action: the one step a reconcile pass takes. Each action is a single API call (or a
// single membership RPC) so that a crash between any two actions leaves the world in a
// state the planner recognises and continues from.
//
// Thread-safety: plain value type.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cairn::op {

enum class ActionKind {
  kNone,                 // converged; requeue for periodic resync
  kWait,                 // something is in progress (or unsafe); look again later
  kCreatePeerService,
  kUpdatePeerService,
  kCreateClientService,
  kUpdateClientService,
  kCreateConfigMap,      // bootstrap keys for ordinals [0, replicas)
  kUpdateStartScript,    // the ConfigMap's start script becomes this operator's
  kWriteMemberBootstrap, // member_name, initial_cluster, state, member_id, at
  kDeleteMemberBootstrap,// member_name
  kCreateStatefulSet,    // replicas
  kUpdateStatefulSet,    // template changed (at); replicas unchanged
  kScaleStatefulSet,     // replicas
  kCreatePdb,            // min_available
  kUpdatePdb,            // min_available
  kAnnotateVolume,       // ordinal, member_id: record which member's data a volume holds
  kAddLearner,           // member_name, peer_url
  kUpdatePeerUrl,        // member_id, peer_url: MemberUpdate (peer_listeners.h's step 2)
  kPromoteLearner,       // member_id
  kMoveLeader,           // member_id = transferee
  kRemoveMember,         // member_id
  kDeletePvc,            // ordinal
  kRestartPod,           // ordinal: pod must rerun its start script for a new identity
  kReplacePod,           // ordinal, pod_uid: re-create an outdated pod from the new template
  kCreateCa,             // at: the cluster's CA Secret
  kIssueCertificate,     // certificate (a use of certificates.h), at: issue it into its Secret
  kUpdateTrustBundle,    // certificate: rewrite only its Secret's ca.crt (certificates.h's bundle)
  kStartCaRotation,      // at: a next CA into the CA Secret (ca_rotation.h)
  kSwitchCa,             // at: the next CA becomes the CA, the CA the previous one
  kFinishCaRotation,     // the previous CA leaves the CA Secret
  kApplyCertManagerCertificate,  // certificate: create or update its cert-manager Certificate
  kCreateRestoreSecret,  // spec.bootstrap.restore: the backup's credentials for the init containers
  kCreatePreUpgradeBackup,  // an EtcdBackup of the cluster before its members change version
  kEnableAuth,           // spec.auth.enabled: root (the credentials' password) with the root role, then auth on
  kDisableAuth,          // spec.auth.enabled false: auth off
};

const char* ActionKindName(ActionKind k);

struct Action {
  ActionKind kind = ActionKind::kNone;
  std::string reason;  // CamelCase, used as the condition reason
  std::string message; // human-readable, for conditions and logs
  int ordinal = -1;
  int32_t replicas = 0;
  int32_t min_available = 0;
  uint64_t member_id = 0;
  std::string member_name;
  std::string peer_url;
  std::string initial_cluster;
  std::string state;
  std::string pod_uid;  // delete only this incarnation of the pod
  std::string certificate;  // which certificate to issue (certificates.h)
  std::chrono::system_clock::time_point at{};  // when the plan was made
  std::chrono::seconds requeue_after{0};  // 0: immediately (an action was taken)
};

}  // namespace cairn::op
