// NodeStatus: a snapshot of a node's Raft state for monitoring and tests. Value type.
#pragma once

#include <map>

#include "server/raft/progress.h"
#include "server/raft/ready.h"

namespace cairn::raft {

struct PeerProgress {
  Index match = 0;
  Index next = 0;
  ProgressState state = ProgressState::kProbe;
  bool is_learner = false;
  bool recent_active = false;

  bool operator==(const PeerProgress&) const = default;
};

struct NodeStatus {
  NodeId id = kNoNode;
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;
  Index applied = 0;
  NodeId lead = kNoNode;
  Role role = Role::kFollower;
  std::map<NodeId, PeerProgress> progress;  // Only filled on the leader.
  NodeId lead_transferee = kNoNode;
  ConfState conf_state;
};

}  // namespace cairn::raft
