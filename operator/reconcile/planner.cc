#include "operator/reconcile/planner.h"

#include <algorithm>
#include <map>
#include <optional>

#include "operator/api/naming.h"
#include "operator/api/version.h"
#include "operator/reconcile/ca_rotation.h"
#include "operator/reconcile/certificates.h"
#include "operator/reconcile/peer_listeners.h"

namespace cairn::op {
namespace {

using std::chrono::seconds;

// Ordinal of a member: by the peer URL the operator gave it (always present, unlike the
// name, which a member publishes only once it has started).
std::optional<int> OrdinalOf(const ClusterSpec& spec, const MemberState& m) {
  auto address = ParseMemberPeerUrl(spec, m.peer_url);
  if (!address || (!m.name.empty() && m.name != naming::Member(spec.name, address->ordinal))) return std::nullopt;
  return address->ordinal;
}

class Planner {
 public:
  Planner(const ClusterSpec& spec, const ObservedState& obs, TimePoint now, const PlannerConfig& cfg)
      : spec_(spec), obs_(obs), now_(now), cfg_(cfg), peer_(DesiredPeerListeners(spec, obs)) {}

  Plan Run() {
    plan_.phase = "Running";
    if (spec_.being_deleted) return Wait("Deleting", "owned objects are removed by garbage collection", cfg_.resync);
    if (spec_.paused) {
      plan_.phase = "Paused";
      Summarize();
      return Done("Paused", "spec.paused is true; no actions are taken");
    }
    if (auto p = EnsureBasics()) return *p;
    if (!obs_.members) {
      // Unreachable is not the same as without quorum: say what is known.
      plan_.phase = Bootstrapping() ? "Creating" : "Unknown";
      if (!Bootstrapping()) plan_.problems.push_back("cannot list members: " + obs_.member_list_error);
      return Wait("MembersUnreachable", "waiting for the member list: " + obs_.member_list_error, cfg_.wait_requeue);
    }
    plan_.members_known = true;
    if (auto p = IndexMembers()) return *p;
    if (auto p = EnsurePdb()) return *p;
    Summarize();
    if (auto p = RecordIdentities()) return *p;
    if (!plan_.available) {
      plan_.phase = "Degraded";
      return Wait("NoQuorum", "fewer than a quorum of voting members is healthy; no membership changes",
                  cfg_.wait_requeue);
    }
    if (auto p = Repair()) return *p;
    if (auto p = RestoreStatefulSetSize()) return *p;
    if (auto p = Learner()) return *p;
    if (auto p = FinishScaleDown()) return *p;
    if (auto p = ScaleDown()) return *p;
    if (auto p = CleanupVolumes()) return *p;
    if (auto p = ScaleUp()) return *p;
    // A refused version change leaves the template as it is, but a rollout of the
    // template already applied goes on.
    std::optional<Plan> refused;
    if (!obs_.stateful_set.template_up_to_date) {
      if (std::string why = VersionChangeRefusal(); !why.empty()) {
        plan_.problems.push_back(why);
        plan_.phase = "Degraded";
        refused = Blocked("VersionChangeRefused", why, cfg_.resync);
      } else if (healthy_voting_ < static_cast<int>(voting_.size())) {
        return Wait("WaitingForHealthyMembers", "pod template change waits until every member is healthy",
                    cfg_.wait_requeue);
      } else if (auto backup = BackupBeforeUpgrade()) {
        return *backup;
      } else {
        Plan p = Act(ActionKind::kUpdateStatefulSet, "UpdatingPodTemplate",
                     "recording the new pod template; members are replaced one at a time");
        p.action.at = now_;
        return p;
      }
    }
    if (auto p = Rollout()) return *p;
    if (auto p = MovePeerUrls()) return *p;
    if (auto p = CaRotation()) return *p;
    if (auto p = Auth()) return *p;
    if (refused) return *refused;
    if (!plan_.problems.empty()) plan_.phase = "Degraded";
    return Done("Reconciled", "cluster matches the spec");
  }

 private:
  Plan Act(ActionKind kind, std::string reason, std::string message) {
    plan_.action.kind = kind;
    plan_.action.reason = std::move(reason);
    plan_.action.message = std::move(message);
    plan_.action.requeue_after = seconds(0);
    return plan_;
  }
  Plan Wait(std::string reason, std::string message, seconds after) {
    Plan p = Act(ActionKind::kWait, std::move(reason), std::move(message));
    p.action.requeue_after = after;
    return p;
  }
  Plan Done(std::string reason, std::string message) {
    Plan p = Act(ActionKind::kNone, std::move(reason), std::move(message));
    p.action.requeue_after = cfg_.resync;
    return p;
  }

  // Stopped until the world changes: Progressing=False and a Warning Event.
  Plan Blocked(std::string reason, std::string message, seconds after) {
    Plan p = Wait(std::move(reason), std::move(message), after);
    p.blocked = true;
    return p;
  }

  std::string VersionChangeRefusal() const {
    auto from = Version::Parse(plan_.running_version);
    auto to = Version::Parse(spec_.version);
    // Pods made before versions were recorded carry no label: nothing to compare with.
    if (!from || !to || *from == *to) return "";
    return RefuseVersionChange(*from, *to, spec_.allow_downgrade);
  }

  // A version change with spec.backup waits for a good backup of the cluster as it is.
  std::optional<Plan> BackupBeforeUpgrade() {
    auto from = Version::Parse(plan_.running_version);
    auto to = Version::Parse(spec_.version);
    if (!spec_.backup_before_upgrade || !from || !to || *from == *to) return std::nullopt;
    const std::string name = naming::PreUpgradeBackup(spec_.name, spec_.version);
    const std::string& phase = obs_.pre_upgrade_backup_phase;
    if (phase.empty()) {
      return Act(ActionKind::kCreatePreUpgradeBackup, "BackingUpBeforeUpgrade",
                 "backing up the cluster (EtcdBackup " + name + ") before its members move to " + spec_.version);
    }
    if (phase == "Failed") {
      std::string why = "the backup before the upgrade to " + spec_.version + " (EtcdBackup " + name +
                        ") failed: " + obs_.pre_upgrade_backup_message + "; delete it to try again";
      plan_.problems.push_back(why);
      return Blocked("PreUpgradeBackupFailed", why, cfg_.resync);
    }
    if (phase != "Succeeded") {
      return Wait("BackingUpBeforeUpgrade", "waiting for EtcdBackup " + name + " (" + phase + ")", cfg_.wait_requeue);
    }
    return std::nullopt;
  }

  std::optional<Plan> Rollout() {
    RolloutStep step = PlanRollout(obs_, by_ordinal_, now_, cfg_.rollout);
    if (step.kind == RolloutStep::Kind::kDone) return std::nullopt;
    plan_.phase = "Updating";
    switch (step.kind) {
      case RolloutStep::Kind::kWait:
        return Wait(step.reason, step.message, cfg_.wait_requeue);
      case RolloutStep::Kind::kStalled:
        plan_.problems.push_back(step.message);
        return Blocked(step.reason, step.message, cfg_.wait_requeue);
      case RolloutStep::Kind::kMoveLeader: {
        Plan p = Act(ActionKind::kMoveLeader, step.reason, step.message);
        p.action.member_id = step.member_id;
        return p;
      }
      case RolloutStep::Kind::kDeletePod: {
        if (spec_.storage.empty_dir && by_ordinal_.size() == 1) {
          std::string why = "the only member keeps its data in an emptyDir, which replacing its pod would erase; "
                            "add members or use persistent storage first";
          plan_.problems.push_back(why);
          return Blocked("UpdateWouldLoseData", why, cfg_.resync);
        }
        Plan p = Act(ActionKind::kReplacePod, step.reason, step.message);
        p.action.ordinal = step.ordinal;
        p.action.pod_uid = step.pod_uid;
        return p;
      }
      case RolloutStep::Kind::kDone:
        break;
    }
    return std::nullopt;
  }

  // Step 2 of peer_listeners.h, once every pod listens on both endpoints: one member's
  // peer URL per pass moves to the endpoint the spec asks for.
  std::optional<Plan> MovePeerUrls() {
    auto target = obs_.stateful_set.peer.MovingTo(spec_.tls.peer.enabled);
    if (!target) return std::nullopt;
    for (const auto& [ord, m] : by_ordinal_) {
      if (ParseMemberPeerUrl(spec_, m->peer_url)->endpoint == *target) continue;
      plan_.phase = "Updating";
      if (healthy_voting_ < static_cast<int>(voting_.size())) {
        return Wait("WaitingForHealthyMembers", "moving a peer URL waits until every member is healthy",
                    cfg_.wait_requeue);
      }
      const std::string name = naming::Member(spec_.name, ord);
      Plan p = Act(ActionKind::kUpdatePeerUrl, "MovingPeerUrl",
                   "moving " + name + "'s peer URL to " + target->ToString() + " (peer TLS " +
                       OnOff(spec_.tls.peer.enabled) + ")");
      p.action.member_id = m->id;
      p.action.member_name = name;
      p.action.peer_url = naming::PeerUrl(spec_.name, spec_.namespace_, ord, target->tls, target->port);
      return p;
    }
    return std::nullopt;
  }

  bool Bootstrapping() const {
    if (!obs_.config_map.exists) return true;
    for (const auto& [name, b] : obs_.config_map.members) {
      if (b.state == "new") return true;
    }
    return false;
  }

  // The CA, then each certificate spec.tls needs, before anything that uses them.
  std::optional<Plan> EnsureTls() {
    if (!spec_.tls.Any()) return std::nullopt;
    for (const auto& given : ProvidedCertificates(spec_)) {
      auto have = obs_.tls.leaves.find(given.use);
      auto why = ProvidedProblem(given, have != obs_.tls.leaves.end() ? have->second : CertState{}, now_);
      if (!why) continue;
      plan_.problems.push_back(*why);
      // Members cannot start without it; running members go on with what they loaded.
      if (!obs_.stateful_set.exists) {
        plan_.phase = "Creating";
        return Blocked("TlsSecretNotReady", *why, cfg_.wait_requeue);
      }
    }
    for (const auto& want : ManagedCertificates(spec_)) {
      auto request = obs_.tls.requests.find(want.use);
      const ChildState state = request != obs_.tls.requests.end() ? request->second : ChildState{};
      if (state.exists && state.up_to_date) continue;
      Plan p = Act(ActionKind::kApplyCertManagerCertificate, "RequestingCertificate",
                   std::string(state.exists ? "updating" : "creating") + " cert-manager Certificate " + want.secret);
      p.action.certificate = want.use;
      return p;
    }
    for (const auto& want : ManagedCertificates(spec_)) {
      auto have = obs_.tls.leaves.find(want.use);
      auto why = ManagedProblem(want, have != obs_.tls.leaves.end() ? have->second : CertState{}, now_);
      if (!why) continue;
      if (!obs_.stateful_set.exists) {
        plan_.phase = "Creating";
        return Wait("WaitingForCertManager", *why, cfg_.wait_requeue);
      }
      plan_.problems.push_back(*why);
    }
    if (!spec_.tls.AnyAuto()) return std::nullopt;
    const CertState& ca = obs_.tls.ca;
    if (!ca.exists) {
      Plan p = Act(ActionKind::kCreateCa, "CreatingCertificateAuthority",
                   "creating the cluster's CA in Secret " + naming::CaSecret(spec_.name));
      p.action.at = now_;
      return p;
    }
    for (auto [state, keys] : {std::pair{&ca, "ca.crt, ca.key"}, std::pair{&obs_.tls.next_ca, "next.crt, next.key"},
                               std::pair{&obs_.tls.previous_ca, "previous.crt"}}) {
      if (!state->exists || state->valid) continue;
      std::string why = "Secret " + naming::CaSecret(spec_.name) + " holds no CA certificate with its key (" + keys + ")";
      plan_.problems.push_back(why);
      plan_.phase = "Degraded";
      return Blocked("InvalidCertificateAuthority", why, cfg_.resync);
    }
    for (const auto& want : NeededCertificates(spec_)) {
      auto have = obs_.tls.leaves.find(want.use);
      auto change = NeededChange(want, have != obs_.tls.leaves.end() ? have->second : CertState{}, obs_.tls, now_);
      if (!change) continue;
      const bool renewal = have != obs_.tls.leaves.end() && have->second.exists;
      Plan p = change->bundle_only
                   ? Act(ActionKind::kUpdateTrustBundle, "UpdatingTrustBundle", change->reason)
                   : Act(ActionKind::kIssueCertificate, renewal ? "RenewingCertificate" : "IssuingCertificate",
                         change->reason);
      p.action.certificate = want.use;
      p.action.at = now_;
      return p;
    }
    return std::nullopt;
  }

  // The next step of a CA rotation, once nothing else is to be done.
  std::optional<Plan> CaRotation() {
    if (!spec_.tls.AnyAuto()) return std::nullopt;
    std::vector<int> started;
    for (const auto& [ord, m] : by_ordinal_) {
      if (!m->name.empty()) started.push_back(ord);
    }
    CaRotationStep step = PlanCaRotation(spec_, obs_.tls, started, now_, cfg_.ca_rotation_grace);
    ActionKind kind = ActionKind::kNone;
    switch (step.kind) {
      case CaRotationStep::Kind::kNone: return std::nullopt;
      case CaRotationStep::Kind::kWait: return Wait(step.reason, step.message, cfg_.wait_requeue);
      case CaRotationStep::Kind::kStart: kind = ActionKind::kStartCaRotation; break;
      case CaRotationStep::Kind::kSwitch: kind = ActionKind::kSwitchCa; break;
      case CaRotationStep::Kind::kFinish: kind = ActionKind::kFinishCaRotation; break;
    }
    Plan p = Act(kind, step.reason, step.message);
    p.action.at = now_;
    return p;
  }

  // spec.auth.enabled, once nothing else is to be done: one proposal, safe with a quorum.
  std::optional<Plan> Auth() {
    if (!spec_.auth.enabled) return std::nullopt;
    if (!obs_.auth_enabled) {
      plan_.problems.push_back("cannot tell whether etcd auth is on: " + obs_.auth_problem);
      return Blocked("AuthStateUnknown", plan_.problems.back(), cfg_.wait_requeue);
    }
    if (*obs_.auth_enabled == *spec_.auth.enabled) return std::nullopt;
    if (*spec_.auth.enabled) {
      return Act(ActionKind::kEnableAuth, "EnablingAuth",
                 "turning etcd auth on: user root, with the root role and the password in Secret " +
                     spec_.auth.credentials_secret);
    }
    return Act(ActionKind::kDisableAuth, "DisablingAuth", "turning etcd auth off");
  }

  static std::string OnOff(bool on) { return on ? "on" : "off"; }

  std::optional<Plan> EnsureBasics() {
    if (auto p = EnsureTls()) return p;
    if (!obs_.peer_service.exists) return Act(ActionKind::kCreatePeerService, "CreatingPeerService", "creating the headless peer Service");
    if (!obs_.peer_service.up_to_date) return Act(ActionKind::kUpdatePeerService, "UpdatingPeerService", "updating the peer Service");
    if (!obs_.client_service.exists) return Act(ActionKind::kCreateClientService, "CreatingClientService", "creating the client Service");
    if (!obs_.client_service.up_to_date) return Act(ActionKind::kUpdateClientService, "UpdatingClientService", "updating the client Service");
    if (spec_.restore.Requested() && !obs_.stateful_set.exists) {
      if (!spec_.resolved_restore) {
        plan_.phase = "Creating";
        return Blocked("RestoreSourceNotReady", obs_.restore_unresolved, seconds(10));
      }
      if (!obs_.restore_secret) {
        plan_.phase = "Creating";
        return Act(ActionKind::kCreateRestoreSecret, "Restoring",
                   "copying the backup destination's credentials for the members' init containers");
      }
    }
    if (!obs_.config_map.exists) {
      plan_.phase = "Creating";
      Plan p = Act(ActionKind::kCreateConfigMap, "Bootstrapping", "writing the bootstrap configuration");
      p.action.replicas = spec_.replicas;
      p.action.initial_cluster = BootstrapInitialCluster(spec_, spec_.replicas);
      p.action.state = "new";
      return p;
    }
    if (obs_.config_map.script_outdated) {
      return Act(ActionKind::kUpdateStartScript, "UpdatingStartScript",
                 "replacing the members' start script in ConfigMap " + naming::ConfigMap(spec_.name) +
                     ", written by an older operator; running members keep theirs until their pods are replaced");
    }
    if (!obs_.stateful_set.exists) {
      plan_.phase = "Creating";
      // Recreating a lost StatefulSet must cover every existing member; a fresh one
      // covers exactly the bootstrap members written to the ConfigMap.
      int32_t replicas = 0;
      if (obs_.members) {
        for (const auto& m : *obs_.members) {
          if (auto o = OrdinalOf(spec_, m)) replicas = std::max(replicas, *o + 1);
        }
      }
      if (replicas == 0) {
        while (obs_.config_map.members.count(naming::Member(spec_.name, replicas))) ++replicas;
      }
      Plan p = Act(ActionKind::kCreateStatefulSet, "CreatingStatefulSet", "creating the member StatefulSet");
      p.action.replicas = std::max(replicas, 1);
      return p;
    }
    return std::nullopt;
  }

  std::optional<Plan> IndexMembers() {
    for (const auto& m : *obs_.members) {
      auto ord = OrdinalOf(spec_, m);
      if (!ord || by_ordinal_.count(*ord)) {
        plan_.phase = "Degraded";
        plan_.problems.push_back("member " + naming::MemberIdHex(m.id) + " (" + m.peer_url +
                                 ") does not belong to this cluster's naming scheme");
        return Wait("UnknownMember", plan_.problems.back() + "; refusing to change membership", cfg_.wait_requeue);
      }
      by_ordinal_[*ord] = &m;
      if (m.is_learner) learners_.push_back({*ord, &m});
      else voting_.push_back({*ord, &m});
      if (!m.is_learner && m.healthy) ++healthy_voting_;
      if (m.is_leader) leader_ = &m;
    }
    plan_.available = !voting_.empty() && healthy_voting_ >= QuorumOf(static_cast<int32_t>(voting_.size()));
    return std::nullopt;
  }

  std::optional<Plan> EnsurePdb() {
    int32_t want = QuorumOf(static_cast<int32_t>(std::max<size_t>(voting_.size(), 1)));
    if (!obs_.pdb.exists) {
      Plan p = Act(ActionKind::kCreatePdb, "CreatingDisruptionBudget", "creating the PodDisruptionBudget");
      p.action.min_available = want;
      return p;
    }
    if (obs_.pdb.min_available != want) {
      Plan p = Act(ActionKind::kUpdatePdb, "UpdatingDisruptionBudget",
                   "PodDisruptionBudget minAvailable " + std::to_string(obs_.pdb.min_available) + " -> " +
                       std::to_string(want));
      p.action.min_available = want;
      return p;
    }
    return std::nullopt;
  }

  void Summarize() {
    if (!obs_.members) return;
    plan_.running_version = RunningVersion(obs_, by_ordinal_);
    plan_.updated_members = UpdatedMembers(obs_, by_ordinal_);
    for (const auto& [ord, m] : by_ordinal_) {
      if (m->name.empty()) continue;  // not started yet: progress, not a problem
      if (!m->Answered()) {
        auto pod = obs_.pods.find(ord);
        bool pod_ready = pod != obs_.pods.end() && pod->second.ready;
        plan_.problems.push_back("member " + m->name + " does not answer" + (pod_ready ? "" : " (pod not ready)"));
      } else if (!m->healthy) {
        plan_.problems.push_back("member " + m->name + " reports: " + m->errors.front());
      }
    }
  }

  bool VolumeMarked(int ord, uint64_t id) const {
    auto v = obs_.volumes.find(ord);
    return v != obs_.volumes.end() && v->second.exists && v->second.marker == naming::MemberIdHex(id);
  }

  // A voting member whose bootstrap entry carries its ID has had its volume marked
  // (marking precedes sealing, and learners are marked before promotion), so a volume
  // without that mark is not the one its data lived on.
  bool Sealed(const MemberState& m) const {
    auto key = obs_.config_map.members.find(naming::Member(spec_.name, *OrdinalOf(spec_, m)));
    return !m.is_learner && key != obs_.config_map.members.end() &&
           key->second.member_id == naming::MemberIdHex(m.id);
  }

  // Bind started members to their data (volume marker) and bootstrap keys (member ID,
  // state "existing"), so data loss and stale identities are recognisable later.
  std::optional<Plan> RecordIdentities() {
    for (const auto& [ord, m] : by_ordinal_) {
      if (m->name.empty() || !m->healthy) continue;
      auto v = obs_.volumes.find(ord);
      if (v != obs_.volumes.end() && v->second.exists && !VolumeMarked(ord, m->id) && !Sealed(*m)) {
        Plan p = Act(ActionKind::kAnnotateVolume, "RecordingMemberIdentity",
                     "marking the volume of " + m->name + " with member " + naming::MemberIdHex(m->id));
        p.action.ordinal = ord;
        p.action.member_id = m->id;
        return p;
      }
      auto key = obs_.config_map.members.find(m->name);
      if (key != obs_.config_map.members.end() && VolumeMarked(ord, m->id) &&
          (key->second.state != "existing" || key->second.member_id != naming::MemberIdHex(m->id))) {
        Plan p = Act(ActionKind::kWriteMemberBootstrap, "RecordingMemberIdentity",
                     m->name + " has started; its bootstrap entry becomes \"existing\"");
        p.action.member_name = m->name;
        p.action.initial_cluster = key->second.initial_cluster;
        p.action.state = "existing";
        p.action.member_id = m->id;
        p.action.at = now_;
        return p;
      }
    }
    for (const auto& [name, b] : obs_.config_map.members) {
      auto ord = naming::OrdinalFromName(spec_.name, name);
      if (!ord || !by_ordinal_.count(*ord)) {
        Plan p = Act(ActionKind::kDeleteMemberBootstrap, "RemovingStaleBootstrap",
                     name + " is no longer a member; dropping its bootstrap entry");
        p.action.member_name = name;
        return p;
      }
    }
    return std::nullopt;
  }

  // Definitive, not a health heuristic: etcd happily rejoins a member restarted on an
  // empty volume under its old ID, silently forgetting its raft log and votes, so a
  // healthy-looking member can have lost its data too.
  bool DataLost(int ord, const MemberState& m) const {
    if (m.name.empty() || !Sealed(m)) return false;
    auto v = obs_.volumes.find(ord);
    return v != obs_.volumes.end() && v->second.exists && !VolumeMarked(ord, m.id);
  }

  std::optional<Plan> Repair() {
    for (const auto& [ord, m] : voting_) {
      if (!DataLost(ord, *m)) continue;
      if (voting_.size() == 1) {
        plan_.problems.push_back("the only member " + m->name + " lost its data; manual restore needed");
        return std::nullopt;
      }
      plan_.phase = "Repairing";
      Plan p = Act(ActionKind::kRemoveMember, "RemovingMemberWithLostData",
                   m->name + " restarted on a volume without its data; removing it to re-add it as a learner");
      p.action.member_id = m->id;
      p.action.member_name = m->name;
      return p;
    }
    return std::nullopt;
  }

  int MaxStartedOrdinal() const {
    int max = -1;
    for (const auto& [ord, m] : by_ordinal_) {
      if (!m->is_learner || !m->name.empty()) max = std::max(max, ord);
    }
    return max;
  }

  std::optional<Plan> RestoreStatefulSetSize() {
    int max = MaxStartedOrdinal();
    if (obs_.stateful_set.replicas < max + 1) {
      Plan p = Act(ActionKind::kScaleStatefulSet, "RestoringStatefulSet",
                   "StatefulSet is smaller than the member list; restoring it");
      p.action.replicas = max + 1;
      return p;
    }
    return std::nullopt;
  }

  std::optional<Plan> Learner() {
    if (learners_.empty()) return std::nullopt;
    auto [ord, l] = learners_.front();
    const std::string name = naming::Member(spec_.name, ord);
    if (ord >= spec_.replicas) {
      plan_.phase = "ScalingDown";
      Plan p = Act(ActionKind::kRemoveMember, "RemovingLearner", "learner " + name + " is beyond spec.replicas");
      p.action.member_id = l->id;
      p.action.member_name = name;
      return p;
    }
    // A learner below the highest voter fills a hole left by a removed member: repair.
    bool hole = std::any_of(voting_.begin(), voting_.end(), [o = ord](const auto& v) { return v.first > o; });
    plan_.phase = hole ? "Repairing" : "ScalingUp";
    if (l->name.empty()) {
      auto key = obs_.config_map.members.find(name);
      std::string want = InitialClusterOf(spec_, *obs_.members);
      if (key == obs_.config_map.members.end() || key->second.state != "existing" ||
          key->second.member_id != naming::MemberIdHex(l->id) || key->second.initial_cluster != want) {
        Plan p = Act(ActionKind::kWriteMemberBootstrap, "ConfiguringLearner",
                     "writing the join configuration of learner " + name);
        p.action.member_name = name;
        p.action.initial_cluster = want;
        p.action.state = "existing";
        p.action.member_id = l->id;
        p.action.at = now_;
        return p;
      }
      if (obs_.stateful_set.replicas <= ord) {
        Plan p = Act(ActionKind::kScaleStatefulSet, "StartingLearner", "starting the pod of learner " + name);
        p.action.replicas = ord + 1;
        return p;
      }
      // A pod made before its join configuration was written (a member restarted on a
      // lost volume) may not see it for a minute or more: restart it at once, as a new
      // pod mounts the current ConfigMap. Any other pod gets a grace period to start.
      auto pod = obs_.pods.find(ord);
      auto configured = obs_.config_map.configured_at.find(name);
      if (pod != obs_.pods.end() && pod->second.exists && !pod->second.terminating) {
        const bool predates = configured != obs_.config_map.configured_at.end() && pod->second.created < configured->second;
        if (predates || now_ - pod->second.created >= cfg_.learner_start_grace) {
          Plan p = Act(ActionKind::kRestartPod, "RestartingLearnerPod",
                       "learner " + name + (predates ? "'s pod predates its join configuration"
                                                     : " has not started") +
                           "; restarting its pod to read its configuration");
          p.action.ordinal = ord;
          return p;
        }
      }
      return Wait("LearnerStarting", "waiting for learner " + name + " to start", cfg_.wait_requeue);
    }
    if (!l->healthy) {
      return Wait("LearnerUnhealthy", "learner " + name + " is not answering", cfg_.wait_requeue);
    }
    if (leader_ == nullptr || !leader_->healthy) {
      return Wait("NoLeader", "no healthy leader to compare the learner's progress with", cfg_.wait_requeue);
    }
    // A voter's volume must carry its member ID before it votes: that marker is how a
    // later restart on an empty volume is told apart (DataLost). This observation may
    // have listed volumes before the learner's was created; RecordIdentities marks it
    // on a pass that sees it.
    if (!VolumeMarked(ord, l->id)) {
      return Wait("LearnerVolumeUnmarked", "waiting to record learner " + name + "'s member ID on its volume",
                  cfg_.wait_requeue);
    }
    if (l->applied_index + cfg_.catch_up_max_lag < leader_->raft_index) {
      return Wait("LearnerCatchingUp",
                  "learner " + name + " applied " + std::to_string(l->applied_index) + " of " +
                      std::to_string(leader_->raft_index),
                  cfg_.wait_requeue);
    }
    Plan p = Act(ActionKind::kPromoteLearner, "PromotingLearner", "learner " + name + " caught up; promoting it");
    p.action.member_id = l->id;
    p.action.member_name = name;
    return p;
  }

  // After MemberRemove the StatefulSet still runs the removed member's pod; shrink it.
  std::optional<Plan> FinishScaleDown() {
    int top = obs_.stateful_set.replicas - 1;
    if (top >= spec_.replicas && top >= 1 && !by_ordinal_.count(top)) {
      plan_.phase = "ScalingDown";
      Plan p = Act(ActionKind::kScaleStatefulSet, "ScalingDown",
                   naming::Member(spec_.name, top) + " is no longer a member; shrinking the StatefulSet");
      p.action.replicas = top;
      return p;
    }
    return std::nullopt;
  }

  std::optional<Plan> ScaleDown() {
    if (static_cast<int32_t>(voting_.size()) <= std::max(spec_.replicas, 1)) return std::nullopt;
    plan_.phase = "ScalingDown";
    auto [ord, target] = *std::max_element(voting_.begin(), voting_.end());
    const std::string name = naming::Member(spec_.name, ord);
    if (target->is_leader) {
      const MemberState* to = nullptr;
      for (const auto& [o, m] : voting_) {
        if (m != target && m->healthy && (to == nullptr || m->applied_index > to->applied_index)) to = m;
      }
      if (to == nullptr) return Wait("NoTransferee", "no healthy follower to take over leadership", cfg_.wait_requeue);
      Plan p = Act(ActionKind::kMoveLeader, "MovingLeader",
                   name + " leads and is being removed; moving leadership to " + to->name);
      p.action.member_id = to->id;
      return p;
    }
    int32_t remaining = static_cast<int32_t>(voting_.size()) - 1;
    int healthy_after = healthy_voting_ - (target->healthy ? 1 : 0);
    if (healthy_after < QuorumOf(remaining)) {
      return Wait("UnsafeToRemove",
                  "removing " + name + " would leave " + std::to_string(healthy_after) + " healthy of " +
                      std::to_string(remaining) + " voters",
                  cfg_.wait_requeue);
    }
    Plan p = Act(ActionKind::kRemoveMember, "RemovingMember", "removing " + name + " (highest ordinal)");
    p.action.member_id = target->id;
    p.action.member_name = name;
    return p;
  }

  std::optional<Plan> CleanupVolumes() {
    if (spec_.storage.empty_dir || spec_.storage.reclaim != ReclaimPolicy::kDelete) return std::nullopt;
    for (const auto& [ord, v] : obs_.volumes) {
      if (ord < obs_.stateful_set.replicas || !v.exists || by_ordinal_.count(ord)) continue;
      auto pod = obs_.pods.find(ord);
      if (pod != obs_.pods.end() && pod->second.exists) {
        return Wait("WaitingForPodExit", naming::Member(spec_.name, ord) + " is shutting down; its volume is next",
                    cfg_.wait_requeue);
      }
      Plan p = Act(ActionKind::kDeletePvc, "DeletingVolume",
                   "deleting the volume of removed member " + naming::Member(spec_.name, ord));
      p.action.ordinal = ord;
      return p;
    }
    return std::nullopt;
  }

  std::optional<Plan> ScaleUp() {
    int target = -1;
    for (int i = 0; i < spec_.replicas; ++i) {
      if (!by_ordinal_.count(i)) {
        target = i;
        break;
      }
    }
    if (target < 0) return std::nullopt;
    bool repair = target < obs_.stateful_set.replicas;
    plan_.phase = repair ? "Repairing" : "ScalingUp";
    if (!repair && healthy_voting_ < static_cast<int>(voting_.size())) {
      return Wait("WaitingForHealthyMembers", "adding a member waits until every voting member is healthy",
                  cfg_.wait_requeue);
    }
    auto v = obs_.volumes.find(target);
    auto pod = obs_.pods.find(target);
    bool pod_exists = pod != obs_.pods.end() && pod->second.exists;
    if (!repair && v != obs_.volumes.end() && v->second.exists) {
      if (pod_exists) return Wait("WaitingForPodExit", "old pod of ordinal still terminating", cfg_.wait_requeue);
      // A volume left by a removed member holds a dead identity; reusing it would fail.
      Plan p = Act(ActionKind::kDeletePvc, "DeletingStaleVolume",
                   "deleting the leftover volume of " + naming::Member(spec_.name, target) + " before reuse");
      p.action.ordinal = target;
      return p;
    }
    Plan p = Act(ActionKind::kAddLearner, repair ? "ReAddingMember" : "AddingLearner",
                 "adding " + naming::Member(spec_.name, target) + " as a learner");
    p.action.member_name = naming::Member(spec_.name, target);
    p.action.peer_url =
        naming::PeerUrl(spec_.name, spec_.namespace_, target, peer_.advertised.tls, peer_.advertised.port);
    return p;
  }

  const ClusterSpec& spec_;
  const ObservedState& obs_;
  TimePoint now_;
  const PlannerConfig& cfg_;
  Plan plan_;
  std::map<int, const MemberState*> by_ordinal_;
  std::vector<std::pair<int, const MemberState*>> voting_;
  std::vector<std::pair<int, const MemberState*>> learners_;
  int healthy_voting_ = 0;
  const MemberState* leader_ = nullptr;
  const PeerListeners peer_;  // the pod template's, as this pass wants it
};

}  // namespace

std::string BootstrapInitialCluster(const ClusterSpec& spec, int32_t replicas) {
  std::string out;
  for (int i = 0; i < replicas; ++i) {
    if (!out.empty()) out += ",";
    out += naming::Member(spec.name, i) + "=" + naming::PeerUrl(spec.name, spec.namespace_, i, spec.tls.peer.enabled);
  }
  return out;
}

std::string InitialClusterOf(const ClusterSpec& spec, const std::vector<MemberState>& members) {
  std::map<int, std::string> by_ord;
  for (const auto& m : members) {
    if (auto o = OrdinalOf(spec, m)) by_ord[*o] = naming::Member(spec.name, *o) + "=" + m.peer_url;
  }
  std::string out;
  for (const auto& [o, s] : by_ord) out += (out.empty() ? "" : ",") + s;
  return out;
}

Plan PlanNext(const ClusterSpec& spec, const ObservedState& observed, TimePoint now, const PlannerConfig& config) {
  return Planner(spec, observed, now, config).Run();
}

const char* ActionKindName(ActionKind k) {
  switch (k) {
    case ActionKind::kNone: return "None";
    case ActionKind::kWait: return "Wait";
    case ActionKind::kCreatePeerService: return "CreatePeerService";
    case ActionKind::kUpdatePeerService: return "UpdatePeerService";
    case ActionKind::kCreateClientService: return "CreateClientService";
    case ActionKind::kUpdateClientService: return "UpdateClientService";
    case ActionKind::kCreateConfigMap: return "CreateConfigMap";
    case ActionKind::kCreateRestoreSecret: return "CreateRestoreSecret";
    case ActionKind::kCreatePreUpgradeBackup: return "CreatePreUpgradeBackup";
    case ActionKind::kEnableAuth: return "EnableAuth";
    case ActionKind::kDisableAuth: return "DisableAuth";
    case ActionKind::kUpdateStartScript: return "UpdateStartScript";
    case ActionKind::kWriteMemberBootstrap: return "WriteMemberBootstrap";
    case ActionKind::kDeleteMemberBootstrap: return "DeleteMemberBootstrap";
    case ActionKind::kCreateStatefulSet: return "CreateStatefulSet";
    case ActionKind::kUpdateStatefulSet: return "UpdateStatefulSet";
    case ActionKind::kScaleStatefulSet: return "ScaleStatefulSet";
    case ActionKind::kCreatePdb: return "CreatePdb";
    case ActionKind::kUpdatePdb: return "UpdatePdb";
    case ActionKind::kAnnotateVolume: return "AnnotateVolume";
    case ActionKind::kAddLearner: return "AddLearner";
    case ActionKind::kUpdatePeerUrl: return "UpdatePeerUrl";
    case ActionKind::kPromoteLearner: return "PromoteLearner";
    case ActionKind::kMoveLeader: return "MoveLeader";
    case ActionKind::kRemoveMember: return "RemoveMember";
    case ActionKind::kDeletePvc: return "DeletePvc";
    case ActionKind::kRestartPod: return "RestartPod";
    case ActionKind::kReplacePod: return "ReplacePod";
    case ActionKind::kCreateCa: return "CreateCa";
    case ActionKind::kIssueCertificate: return "IssueCertificate";
    case ActionKind::kUpdateTrustBundle: return "UpdateTrustBundle";
    case ActionKind::kStartCaRotation: return "StartCaRotation";
    case ActionKind::kSwitchCa: return "SwitchCa";
    case ActionKind::kFinishCaRotation: return "FinishCaRotation";
    case ActionKind::kApplyCertManagerCertificate: return "ApplyCertManagerCertificate";
  }
  return "Unknown";
}

}  // namespace cairn::op
