// Simulation: one seeded run of a 3- or 5-member Raft cluster under faults.
//
// A chaos phase interleaves message delivery (dropped, duplicated, delayed, reordered,
// partitioned), ticks, persist steps, crash-restarts, proposals, membership changes, leader
// transfers, read-index requests and log compactions, checking InvariantChecker after every
// step. Half of the seeds also deliver messages, ticks, proposals and reads to a node
// between its GetReady() and Advance(). A heal phase then removes the faults and requires a leader to be elected and every
// acknowledged proposal to be applied on every member. Deterministic for a seed.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "server/raft/prng.h"
#include "server/raft/sim/invariants.h"
#include "server/raft/sim/network.h"
#include "server/raft/sim/sim_node.h"

namespace cairn::raft::sim {

// What a run exercised, to show the simulation is not vacuous.
struct SimStats {
  uint64_t proposals = 0;
  uint64_t committed = 0;      // Distinct committed indexes.
  uint64_t conf_changes = 0;   // Membership entries applied.
  uint64_t snapshots = 0;      // Snapshots delivered.
  uint64_t reads = 0;          // Read states served.
  uint64_t crashes = 0;
  uint64_t max_term = 0;

  void Add(const SimStats& o);
};

struct SimOptions {
  uint64_t chaos_steps = 8000;
  uint64_t heal_steps = 20000;
  bool trace = false;  // Keep the last events for a failure report.
};

class Simulation {
 public:
  Simulation(uint64_t seed, SimOptions opts);

  // OK, or a description of the first violated invariant or the liveness failure.
  Status Run();
  // The last events (only with SimOptions::trace).
  std::string TraceTail() const;
  const SimStats& stats() const { return stats_; }

 private:
  bool Check();
  void ChaosStep();
  bool DeliverOne();
  bool TickOne();
  bool TakeReadyOne();
  bool PersistOne();
  void ProposeOne();
  void CrashOne();
  void RestartOne();
  void PartitionOrHeal();
  void MembershipChange();
  void TransferLeader();
  void ReadIndex();
  void CompactOne();
  void Start(NodeId id);
  // Tells the sender of a MsgSnap whether it arrived, as a transport would.
  void ReportSnapshot(const Message& m, bool ok);
  SimNode* Leader();
  Index MaxCommit();
  void Trace(const std::string& s);
  // Picks a random element of ids (which must be non-empty).
  NodeId Pick(const std::vector<NodeId>& ids) { return ids[rng_.Uniform(ids.size())]; }
  std::vector<NodeId> Running(bool idle_only);

  uint64_t seed_;
  SimOptions opts_;
  Prng rng_;
  SimNetwork net_;
  InvariantChecker checker_;
  std::map<NodeId, SimNode> nodes_;
  size_t n_;  // Initial voters.
  // Whether messages and ticks may reach a node between GetReady() and Advance() (allowed
  // by RawNode's contract; a driver that steps while persisting works this way).
  bool interleave_;
  uint64_t now_ = 0;
  uint64_t proposals_ = 0;
  SimStats stats_;
  uint64_t reads_ = 0;
  Index last_membership_index_ = 0;
  std::set<NodeId> removed_;  // Stopped because the cluster removed them.
  std::set<NodeId> started_;  // Ever started: a crashed one of these may restart.
  std::deque<std::string> trace_;
};

}  // namespace cairn::raft::sim
