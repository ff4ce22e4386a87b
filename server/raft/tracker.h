// ProgressTracker: the membership as seen by Raft (voters, learners), each member's
// Progress, and the votes of the current election.
//
// Invariants: voters and learners are disjoint; every member has exactly one Progress
// whose is_learner flag matches the set it is in. Internal. Thread-compatible.
#pragma once

#include <map>
#include <set>

#include "server/raft/progress.h"
#include "server/raft/quorum.h"

namespace cairn::raft {

class ProgressTracker {
 public:
  explicit ProgressTracker(size_t max_inflight) : max_inflight_(max_inflight) {}

  // Adds (or converts) id as a voter/learner; new members start probing at next.
  void AddVoter(NodeId id, Index next);
  void AddLearner(NodeId id, Index next);
  void Remove(NodeId id);
  void Clear();
  // Forgets every member's replication state (new term): all start probing at next.
  void ResetProgress(Index next);

  bool IsVoter(NodeId id) const { return voters_.count(id) != 0; }
  Progress* Get(NodeId id);
  const Progress* Get(NodeId id) const;
  std::map<NodeId, Progress>& progress() { return progress_; }
  const std::map<NodeId, Progress>& progress() const { return progress_; }
  const std::set<NodeId>& voters() const { return voters_; }
  const std::set<NodeId>& learners() const { return learners_; }
  ConfState GetConfState() const;

  // Largest index replicated on a quorum of voters (0 without voters).
  Index Committed() const;
  // Whether a quorum of voters was recently active; self counts as active.
  bool QuorumActive(NodeId self) const;

  void ResetVotes() { votes_.clear(); }
  // Records the first answer of id in the current election.
  void RecordVote(NodeId id, bool granted) { votes_.emplace(id, granted); }
  VoteResult TallyVotes() const;
  const std::map<NodeId, bool>& votes() const { return votes_; }

 private:
  size_t max_inflight_;
  std::set<NodeId> voters_;
  std::set<NodeId> learners_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
};

}  // namespace cairn::raft
