#include "server/raft/sim/network.h"

namespace cairn::raft::sim {

void SimNetwork::Send(Message m, uint64_t now) {
  if (Blocked(m.from, m.to) || rng_.Uniform(1000) < faults_.drop_per_mille) {
    if (on_lost_) on_lost_(m);
    return;
  }
  const int copies = rng_.Uniform(1000) < faults_.dup_per_mille ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    const uint64_t delay = faults_.max_delay == 0 ? 0 : rng_.Uniform(faults_.max_delay + 1);
    in_flight_.push_back(Pending{now + delay, m});
  }
}

void SimNetwork::Partition(const std::set<NodeId>& side) {
  side_ = side;
  // Messages already on a cut link are lost with it.
  std::vector<Pending> kept;
  for (Pending& p : in_flight_) {
    if (!Blocked(p.m.from, p.m.to)) {
      kept.push_back(std::move(p));
    } else if (on_lost_) {
      on_lost_(p.m);
    }
  }
  in_flight_ = std::move(kept);
}

bool SimNetwork::Blocked(NodeId a, NodeId b) const {
  if (side_.empty()) return false;
  return (side_.count(a) != 0) != (side_.count(b) != 0);
}

}  // namespace cairn::raft::sim
