#include "operator/reconcile/rollout.h"

#include <algorithm>
#include <optional>

#include "operator/api/version.h"

namespace cairn::op {
namespace {

using Kind = RolloutStep::Kind;

struct Gate {
  std::string reason;
  std::string message;
};

const PodState* PodOf(const ObservedState& obs, int ord) {
  auto p = obs.pods.find(ord);
  return p != obs.pods.end() && p->second.exists ? &p->second : nullptr;
}

bool RunsCurrentTemplate(const ObservedState& obs, int ord) {
  const PodState* p = PodOf(obs, ord);
  return obs.stateful_set.revision_observed && p != nullptr && p->revision == obs.stateful_set.update_revision;
}

std::string NameOf(int ord, const MemberState& m) {
  return m.name.empty() ? "the member at ordinal " + std::to_string(ord) : m.name;
}

class Rollout {
 public:
  Rollout(const ObservedState& obs, const std::map<int, const MemberState*>& members, TimePoint now,
          const RolloutConfig& cfg)
      : obs_(obs), members_(members), now_(now), cfg_(cfg) {}

  RolloutStep Run() {
    step_.total = static_cast<int>(members_.size());
    if (!obs_.stateful_set.revision_observed) {
      return Closed({"TemplatePending", "waiting for the StatefulSet controller to record the new pod template"});
    }
    std::vector<int> outdated;
    for (const auto& [ord, m] : members_) {
      if (Updated(ord)) {
        ++step_.updated;
      } else if (Pod(ord) != nullptr) {
        outdated.push_back(ord);
      }
      if (m->is_leader) leader_ = ord;
    }
    if (outdated.empty() && step_.updated == step_.total) return step_;
    // A member without a pod closes a gate, so past the gates `outdated` is not empty.
    if (auto gate = FirstClosedGate()) return Closed(*gate);

    // Followers first, highest ordinal first; the leader last.
    std::sort(outdated.rbegin(), outdated.rend());
    auto target = std::find_if(outdated.begin(), outdated.end(), [&](int ord) { return ord != leader_; });
    if (target != outdated.end()) return DeletePod(*target, "UpdatingMember", "replacing the pod of ");
    const MemberState* to = Transferee();
    if (to == nullptr) {
      if (members_.size() == 1) return DeletePod(leader_, "UpdatingMember", "replacing the pod of the only member ");
      return Closed({"NoUpdatedTransferee", "no member that runs the new template is caught up to take leadership from " +
                                                NameOf(leader_, *members_.at(leader_))});
    }
    step_.kind = Kind::kMoveLeader;
    step_.member_id = to->id;
    step_.reason = "MovingLeaderForUpdate";
    step_.message = "moving leadership from " + NameOf(leader_, *members_.at(leader_)) + " to " + to->name +
                    " before replacing the leader's pod";
    return step_;
  }

 private:
  const PodState* Pod(int ord) const { return PodOf(obs_, ord); }
  bool Updated(int ord) const { return RunsCurrentTemplate(obs_, ord); }

  std::optional<Gate> FirstClosedGate() const {
    for (const auto& [ord, m] : members_) {
      const std::string name = NameOf(ord, *m);
      if (!m->Answered()) return Gate{"MemberUnreachable", name + " does not answer"};
      if (!m->errors.empty()) return Gate{"MemberAlarm", name + " reports: " + m->errors.front()};
      const PodState* pod = Pod(ord);
      if (pod == nullptr || pod->terminating) return Gate{"PodNotRunning", "the pod of " + name + " is being re-created"};
      if (!pod->ready) return Gate{"PodNotReady", "the pod of " + name + " is not ready"};
    }
    if (leader_ < 0) return Gate{"NoLeader", "no member reports itself as the leader"};
    const uint64_t leader_index = members_.at(leader_)->raft_index;
    for (const auto& [ord, m] : members_) {
      if (m->applied_index + cfg_.max_lag < leader_index) {
        return Gate{"MemberLagging", NameOf(ord, *m) + " applied " + std::to_string(m->applied_index) + " of the leader's " +
                                         std::to_string(leader_index) + " entries"};
      }
    }
    if (!obs_.linearizable_read_error.empty()) {
      return Gate{"NoLinearizableRead", "the cluster does not answer a linearizable read: " + obs_.linearizable_read_error};
    }
    return std::nullopt;
  }

  // An updated, caught-up voter; the most advanced one.
  const MemberState* Transferee() const {
    const MemberState* best = nullptr;
    for (const auto& [ord, m] : members_) {
      if (ord == leader_ || m->is_learner || !Updated(ord)) continue;
      if (best == nullptr || m->applied_index > best->applied_index) best = m;
    }
    return best;
  }

  RolloutStep DeletePod(int ord, std::string reason, const std::string& what) {
    step_.kind = Kind::kDeletePod;
    step_.ordinal = ord;
    step_.pod_uid = Pod(ord)->uid;
    step_.reason = std::move(reason);
    step_.message = what + NameOf(ord, *members_.at(ord)) + " with one from the current template (" +
                    std::to_string(step_.updated) + " of " + std::to_string(step_.total) + " updated)";
    return step_;
  }

  // The rollout's last step: the template change or the newest pod made from it.
  TimePoint LastStep() const {
    TimePoint last = obs_.stateful_set.template_changed_at;
    for (const auto& [ord, m] : members_) {
      if (Updated(ord)) last = std::max(last, Pod(ord)->created);
    }
    return last;
  }

  RolloutStep Closed(const Gate& gate) {
    const TimePoint last = LastStep();
    const bool stalled = last != TimePoint{} && now_ - last > cfg_.gate_timeout;
    step_.kind = stalled ? Kind::kStalled : Kind::kWait;
    step_.reason = stalled ? "RolloutStalled" : gate.reason;
    step_.message = (stalled ? "rollout paused (" + gate.reason + "): " : "rollout waits: ") + gate.message;
    return step_;
  }

  const ObservedState& obs_;
  const std::map<int, const MemberState*>& members_;
  TimePoint now_;
  const RolloutConfig& cfg_;
  RolloutStep step_;
  int leader_ = -1;
};

}  // namespace

RolloutStep PlanRollout(const ObservedState& observed, const std::map<int, const MemberState*>& members,
                        TimePoint now, const RolloutConfig& config) {
  return Rollout(observed, members, now, config).Run();
}

int UpdatedMembers(const ObservedState& observed, const std::map<int, const MemberState*>& members) {
  return static_cast<int>(std::count_if(members.begin(), members.end(),
                                        [&](const auto& m) { return RunsCurrentTemplate(observed, m.first); }));
}

std::string RunningVersion(const ObservedState& observed, const std::map<int, const MemberState*>& members) {
  std::optional<Version> lowest;
  std::string label;
  for (const auto& [ord, m] : members) {
    auto pod = observed.pods.find(ord);
    if (pod == observed.pods.end()) continue;
    auto v = Version::Parse(pod->second.version);
    if (v && (!lowest || *v < *lowest)) {
      lowest = v;
      label = pod->second.version;
    }
  }
  return label;
}

}  // namespace cairn::op
