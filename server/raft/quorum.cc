#include "server/raft/quorum.h"

#include <algorithm>
#include <vector>

#include "server/common/status.h"

namespace cairn::raft {

Index CommittedIndex(const std::set<NodeId>& voters, const std::function<Index(NodeId)>& acked) {
  CAIRN_CHECK(!voters.empty());
  std::vector<Index> idx;
  idx.reserve(voters.size());
  for (NodeId id : voters) idx.push_back(acked(id));
  std::sort(idx.begin(), idx.end(), std::greater<>());
  return idx[voters.size() / 2];
}

VoteResult TallyVotes(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  size_t granted = 0, missing = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++granted;
    }
  }
  const size_t q = voters.size() / 2 + 1;
  if (granted >= q) return VoteResult::kWon;
  if (granted + missing >= q) return VoteResult::kPending;
  return VoteResult::kLost;
}

}  // namespace cairn::raft
