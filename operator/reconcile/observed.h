// ObservedState: everything one reconcile pass read from the world, as plain values.
// The planner is a pure function of (ClusterSpec, ObservedState, now); the controller is
// responsible for filling this faithfully. Nothing here is cached between passes.
//
// Thread-safety: plain value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "operator/reconcile/peer_listeners.h"

namespace cairn::op {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// A child object the operator owns (Service, ConfigMap, StatefulSet, PDB).
struct ChildState {
  bool exists = false;
  bool up_to_date = false;  // its spec-hash annotation equals the desired object's hash
};

struct StatefulSetState {
  bool exists = false;
  bool template_up_to_date = false;
  int32_t replicas = 0;  // .spec.replicas
  int32_t ready_replicas = 0;
  // The revision new pods are made from (.status.updateRevision). Only meaningful once
  // the StatefulSet controller has seen the latest template (revision_observed:
  // .status.observedGeneration reached .metadata.generation); before that it names the
  // previous template.
  std::string update_revision;
  bool revision_observed = false;
  TimePoint template_changed_at{};  // when the operator last changed the template
  bool client_tls = false;  // the template serves clients over TLS (https)
  PeerListeners peer;       // where the template's members listen for peers
};

struct PdbState {
  bool exists = false;
  int32_t min_available = 0;
};

// One ordinal's pod and data volume (a PVC, or the pod itself when storage is emptyDir).
struct PodState {
  bool exists = false;
  bool ready = false;
  bool terminating = false;
  TimePoint created{};
  std::string uid;
  std::string revision;  // controller-revision-hash: the template revision it runs
  std::string version;   // the Cairn version its template carried; empty if unlabelled
};

struct VolumeState {
  bool exists = false;
  std::string marker;  // member-id annotation (hex), empty if none
  TimePoint created{};
};

struct MemberBootstrap {
  std::string initial_cluster;
  std::string state;  // "new" | "existing"
  std::string member_id;  // hex; empty for bootstrap members (IDs unknown before start)
};

struct ConfigMapState {
  bool exists = false;
  std::string token;
  std::map<std::string, MemberBootstrap> members;  // by member name
  std::string restore;  // spec.bootstrap.restore as recorded at bootstrap (naming::kKeyRestore)
  // Its start script is not this operator's (written by an older one): pods made from
  // now on would miss what the current pod template asks of the script.
  bool script_outdated = false;
  // When each member's entry was last written. A pod older than its entry may still see
  // the previous one: the kubelet refreshes a mounted ConfigMap only after a minute or so.
  std::map<std::string, TimePoint> configured_at;
};

// A member from the cluster's member list, joined with its own Status response.
struct MemberState {
  uint64_t id = 0;
  std::string name;  // empty until the member has started and published itself
  std::string peer_url;
  bool is_learner = false;
  bool healthy = false;  // answered Status within the timeout and reported no errors
  bool is_leader = false;
  uint64_t raft_index = 0;
  uint64_t applied_index = 0;
  std::string api_version;          // the etcd API version the member reports
  std::vector<std::string> errors;  // from its Status: raised alarms

  bool Answered() const { return healthy || !errors.empty(); }
};

// A certificate the operator keeps in a Secret (the CA's, or a leaf's), as parsed.
struct CertState {
  bool exists = false;  // the Secret exists
  bool valid = false;   // it holds a parseable certificate and the key that matches it
  std::string serial;
  TimePoint not_before{}, not_after{};
  std::vector<std::string> sans;     // DNS names, then IP addresses
  std::string subject_key_id;        // a CA's, to recognise the leaves it signed
  std::string authority_key_id;      // a leaf's: the key that signed it
  std::string cert_pem;              // the CA's certificate (what leaves carry as ca.crt)
  std::string ca_bundle;             // a leaf's ca.crt
};

// What one https listener of a member showed to a TLS probe (tls_probe.h).
struct ServedState {
  bool reached = false;  // the handshake finished and the served certificate verified
  std::string error;     // why not, when !reached
  std::string serial;
  TimePoint not_after{};
  std::string authority_key_id;  // the CA key that signed what it serves
  bool accepted = false;         // it accepted the probe's client certificate
  std::string refusal;           // why not, when reached && !accepted
};

struct MemberTlsState {
  std::optional<ServedState> client, peer;  // nullopt: that side has no TLS
};

struct TlsState {
  // The CA Secret (certificates.h): the CA that signs, and during a CA rotation
  // (ca_rotation.h) the next CA before it signs, or the previous one after.
  CertState ca;
  CertState next_ca;
  CertState previous_ca;  // its key is not kept: valid means its certificate parses
  std::string rotation_answered;  // the CA Secret's rotate-ca annotation
  TimePoint rotation_started{}, ca_switched{};
  // By use (server, peer, client, operator): issued by the operator, by cert-manager, or
  // provided.
  std::map<std::string, CertState> leaves;
  // By use, for the sides cert-manager issues: the operator's Certificate objects.
  std::map<std::string, ChildState> requests;
  // Started members by ordinal, as probed by connecting. The probe presents a client
  // certificate signed by the next CA during a rotation before the switch (so
  // `accepted` says the member trusts it), else by the CA.
  std::map<int, MemberTlsState> members;
};

struct ObservedState {
  ChildState peer_service;
  ChildState client_service;
  ConfigMapState config_map;
  StatefulSetState stateful_set;
  PdbState pdb;
  std::map<int, PodState> pods;        // by ordinal
  std::map<int, VolumeState> volumes;  // by ordinal
  // The member list, or nullopt when no member answered MemberList (not started, no quorum).
  std::optional<std::vector<MemberState>> members;
  std::string member_list_error;
  // Why the cluster did not answer a linearizable read; empty when it did.
  std::string linearizable_read_error;
  TlsState tls;
  // spec.bootstrap.restore: whether the restore Secret exists, and why the backup it
  // names cannot be used yet (empty when it can, or when no restore is asked for).
  bool restore_secret = false;
  std::string restore_unresolved;
  // With spec.backup.beforeUpgrade: the EtcdBackup naming::PreUpgradeBackup(spec.version)
  // names, as read ("" phase: it does not exist).
  std::string pre_upgrade_backup_phase;
  std::string pre_upgrade_backup_message;
  // With spec.backup: the cluster's most recently finished EtcdBackup (any kind).
  struct LastBackup {
    std::string name, phase, message;  // phase Succeeded or Failed
    TimePoint completed{};
    std::optional<bool> verified;
    std::string verification_message;
  };
  std::optional<LastBackup> last_backup;
  // With spec.auth.enabled: whether etcd auth is on (nullopt: unknown, and why).
  std::optional<bool> auth_enabled;
  std::string auth_problem;
};

}  // namespace cairn::op
