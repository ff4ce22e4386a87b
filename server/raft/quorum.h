// Majority quorum arithmetic over a set of voters. Pure functions. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <set>

#include "server/raft/types.h"

namespace cairn::raft {

enum class VoteResult { kPending, kLost, kWon };

// Largest index acknowledged by a majority of voters, where acked(id) is the index voter
// id has acknowledged. REQUIRES: !voters.empty().
Index CommittedIndex(const std::set<NodeId>& voters, const std::function<Index(NodeId)>& acked);

// Outcome of an election given the votes cast so far (absent voters have not answered).
VoteResult TallyVotes(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes);

}  // namespace cairn::raft
