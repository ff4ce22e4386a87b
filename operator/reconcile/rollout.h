// Rollout: replacing the member pods that run an outdated pod template (a new version,
// image, or any other pod setting), decided as a pure function of what was observed.
// The StatefulSet uses updateStrategy OnDelete, so a pod changes only when the operator
// deletes it and the StatefulSet controller re-creates it from the new template.
//
// One member per step. Order: followers first, highest ordinal first; the leader last,
// after leadership moved to a member that already runs the new template and is caught
// up, so the cluster changes leader once, not at every step. Gates before each step:
//   * the StatefulSet controller has recorded the new template (its updateRevision);
//   * every voting member answers and reports no alarm;
//   * every member's pod exists, is not terminating, and is Ready (/readyz: a voter
//     with a leader that answers a quorum read), which covers the member restarted by
//     the previous step;
//   * a healthy leader is known and every voter's applied index is within `max_lag`
//     entries of the leader's last index;
//   * the cluster answers a linearizable read.
// A gate that stays closed longer than `gate_timeout` since the rollout's last step
// (the template change, or the newest re-created pod) stalls the rollout: it is reported
// with the member and the reason and is never bypassed; the rollout resumes by itself
// once the gate opens. Learners, scaling and repairs are finished by the planner before
// a rollout step is considered.
// Thread-safety: stateless.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "operator/reconcile/observed.h"

namespace cairn::op {

struct RolloutConfig {
  std::chrono::seconds gate_timeout{300};
  uint64_t max_lag = 1000;
};

struct RolloutStep {
  enum class Kind {
    kDone,        // every member runs the current template
    kDeletePod,   // replace this member's pod (ordinal, pod_uid)
    kMoveLeader,  // hand leadership to member_id before the leader's own step
    kWait,        // a gate is closed (reason, message)
    kStalled,     // a gate has been closed for longer than gate_timeout
  };
  Kind kind = Kind::kDone;
  int ordinal = -1;
  std::string pod_uid;
  uint64_t member_id = 0;
  std::string reason;
  std::string message;
  int updated = 0;  // members whose pod runs the current template
  int total = 0;    // members
};

// `members`: the cluster's members by ordinal (none missing an ordinal).
RolloutStep PlanRollout(const ObservedState& observed, const std::map<int, const MemberState*>& members,
                        TimePoint now, const RolloutConfig& config);

// How many of `members` have a pod made from the StatefulSet's current revision.
int UpdatedMembers(const ObservedState& observed, const std::map<int, const MemberState*>& members);

// The lowest Cairn version the pods of `members` run (their version label); empty when
// no pod carries one.
std::string RunningVersion(const ObservedState& observed, const std::map<int, const MemberState*>& members);

}  // namespace cairn::op
