#include "server/raft/tracker.h"

#include "server/common/status.h"

namespace cairn::raft {

void ProgressTracker::AddVoter(NodeId id, Index next) {
  learners_.erase(id);
  voters_.insert(id);
  auto it = progress_.find(id);
  if (it == progress_.end()) {
    it = progress_.emplace(id, Progress(next, max_inflight_, false)).first;
    // A new member must not look dead to check-quorum before it had a chance to answer.
    it->second.recent_active = true;
  }
  it->second.is_learner = false;
}

void ProgressTracker::AddLearner(NodeId id, Index next) {
  CAIRN_CHECK(!IsVoter(id));
  learners_.insert(id);
  auto it = progress_.find(id);
  if (it == progress_.end()) {
    it = progress_.emplace(id, Progress(next, max_inflight_, true)).first;
    it->second.recent_active = true;
  }
  it->second.is_learner = true;
}

void ProgressTracker::Remove(NodeId id) {
  voters_.erase(id);
  learners_.erase(id);
  progress_.erase(id);
  votes_.erase(id);
}

void ProgressTracker::Clear() {
  voters_.clear();
  learners_.clear();
  progress_.clear();
  votes_.clear();
}

void ProgressTracker::ResetProgress(Index next) {
  for (auto& [id, pr] : progress_) pr = Progress(next, max_inflight_, pr.is_learner);
}

Progress* ProgressTracker::Get(NodeId id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

const Progress* ProgressTracker::Get(NodeId id) const {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

ConfState ProgressTracker::GetConfState() const {
  return ConfState{{voters_.begin(), voters_.end()}, {learners_.begin(), learners_.end()}};
}

Index ProgressTracker::Committed() const {
  if (voters_.empty()) return 0;
  return CommittedIndex(voters_, [this](NodeId id) { return progress_.at(id).match; });
}

bool ProgressTracker::QuorumActive(NodeId self) const {
  std::map<NodeId, bool> active;
  for (NodeId id : voters_) active[id] = id == self || progress_.at(id).recent_active;
  return cairn::raft::TallyVotes(voters_, active) == VoteResult::kWon;
}

VoteResult ProgressTracker::TallyVotes() const { return cairn::raft::TallyVotes(voters_, votes_); }

}  // namespace cairn::raft
