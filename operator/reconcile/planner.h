// Planner: the operator's decision logic as a pure function
//   (ClusterSpec, ObservedState, now) -> Plan{one Action, phase, health summary}.
//
// Level-triggered: the plan depends only on what was observed now, never on what the
// operator did before, so a crash between any two actions is recovered by planning again.
// The cluster's member list is the source of truth for membership; Kubernetes objects
// follow it. Safety rules (each enforced here, each unit-tested):
//   * at most one learner at a time; a learner is promoted only once caught up;
//   * no membership change unless a quorum of voting members is healthy;
//   * growing requires every voting member healthy; removing a voter requires that the
//     remaining healthy voters still form a quorum of the smaller cluster;
//   * the leader is never removed: leadership is moved away first;
//   * never fewer than one member; nothing at all while paused;
//   * a changed pod template is rolled out by the operator, one member at a time,
//     leader last, with the gates of rollout.h; a version change etcd would refuse
//     (version.h) is not applied at all;
//   * with spec.tls, the CA and every certificate (certificates.h) exist before the
//     members that use them; peer TLS is turned on or off under a running cluster only
//     through a second listener and one peer URL move at a time (peer_listeners.h);
//     the CA is rotated (ca_rotation.h) only on an otherwise converged cluster, and each
//     of its steps waits until members are seen, by connecting, to have taken the last.
// Thread-safety: stateless.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/api/cluster_spec.h"
#include "operator/reconcile/action.h"
#include "operator/reconcile/observed.h"
#include "operator/reconcile/rollout.h"

namespace cairn::op {

struct PlannerConfig {
  // An unstarted learner whose pod has existed this long is restarted once, so it
  // rereads its bootstrap configuration.
  std::chrono::seconds learner_start_grace{120};
  // A learner within this many raft entries of the leader counts as caught up.
  uint64_t catch_up_max_lag = 1000;
  std::chrono::seconds wait_requeue{5};
  std::chrono::seconds resync{30};
  // How long each half of a CA rotation (ca_rotation.h) waits, at least, for
  // applications to reload the Secrets they mount: the kubelet updates a Secret volume
  // within its sync period plus its cache TTL, a minute each by default.
  std::chrono::seconds ca_rotation_grace{300};
  RolloutConfig rollout;
};

struct Plan {
  Action action;
  std::string phase;             // status.phase
  bool available = false;        // a quorum of voting members is healthy
  bool members_known = false;    // the member list was read (else `available` is unknown)
  // Progress stopped until something changes (a gate closed too long, a refused spec):
  // reported as Progressing=False and a Warning Event, never worked around.
  bool blocked = false;
  std::string running_version;   // the lowest Cairn version the members' pods run
  int updated_members = 0;       // members whose pod runs the current template
  std::vector<std::string> problems;  // reported in the Degraded condition; never acted on blindly
};

Plan PlanNext(const ClusterSpec& spec, const ObservedState& observed, TimePoint now,
              const PlannerConfig& config = {});

// "name=peerURL,..." for a member list plus (optionally) one member being added, ordered
// by ordinal; unstarted members are named after their ordinal.
std::string InitialClusterOf(const ClusterSpec& spec, const std::vector<MemberState>& members);
std::string BootstrapInitialCluster(const ClusterSpec& spec, int32_t replicas);

// Voting members needed for quorum, which is what the PodDisruptionBudget keeps available.
inline int32_t QuorumOf(int32_t voting) { return voting / 2 + 1; }

}  // namespace cairn::op
