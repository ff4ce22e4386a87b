// SimNetwork: a seeded, in-process network for the Raft simulation.
//
// Messages may be dropped, duplicated and delayed (which reorders them); partitions block
// links in both directions. Time is the simulation's step counter. Deterministic for a
// given seed and call sequence. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "server/raft/message.h"
#include "server/raft/prng.h"

namespace cairn::raft::sim {

struct Faults {
  uint64_t drop_per_mille = 0;
  uint64_t dup_per_mille = 0;
  uint64_t max_delay = 0;  // Steps; each message is delayed uniformly in [0, max_delay].
};

class SimNetwork {
 public:
  explicit SimNetwork(uint64_t seed) : rng_(seed) {}

  void SetFaults(const Faults& f) { faults_ = f; }
  // Called for every message the network loses (dropped, or cut by a partition), so the
  // simulation can report failed snapshot transfers like a real transport would.
  void SetOnLost(std::function<void(const Message&)> f) { on_lost_ = std::move(f); }
  void Send(Message m, uint64_t now);
  // Removes and returns one deliverable message (deliver_at <= now) chosen at random among
  // those whose recipient accepts it, or false if there is none.
  template <typename Accept>
  bool PopDeliverable(uint64_t now, Accept&& accept, Message* out);
  // Splits the nodes into two sides; links across are cut.
  void Partition(const std::set<NodeId>& side);
  void Heal() { side_.clear(); }
  bool Blocked(NodeId a, NodeId b) const;
  size_t InFlight() const { return in_flight_.size(); }

 private:
  struct Pending {
    uint64_t deliver_at;
    Message m;
  };

  Prng rng_;
  Faults faults_;
  std::function<void(const Message&)> on_lost_;
  std::set<NodeId> side_;  // Empty: no partition.
  std::vector<Pending> in_flight_;
};

template <typename Accept>
bool SimNetwork::PopDeliverable(uint64_t now, Accept&& accept, Message* out) {
  std::vector<size_t> ready;
  for (size_t i = 0; i < in_flight_.size(); ++i) {
    if (in_flight_[i].deliver_at <= now && accept(in_flight_[i].m)) ready.push_back(i);
  }
  if (ready.empty()) return false;
  const size_t pick = ready[rng_.Uniform(ready.size())];
  *out = std::move(in_flight_[pick].m);
  in_flight_[pick] = std::move(in_flight_.back());
  in_flight_.pop_back();
  return true;
}

}  // namespace cairn::raft::sim
