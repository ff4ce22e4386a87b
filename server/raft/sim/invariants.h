// InvariantChecker: Raft's safety properties, checked after every simulation step.
//
//  - election safety: at most one leader per term;
//  - log matching / leader completeness: every member's persisted log agrees with every
//    other's on the committed prefix, and committed entries never change;
//  - state-machine safety: members apply the same entry at each index, in order;
//  - monotonicity: term and commit never go back (in memory while up, on disk always);
//  - linearizable reads: a read index covers every commit known when the read was issued.
// Violations are reported as strings (the first one sticks). Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "server/raft/sim/sim_node.h"

namespace cairn::raft::sim {

class InvariantChecker {
 public:
  void CheckStep(std::map<NodeId, SimNode>& nodes, bool full);
  void OnApply(NodeId id, const Entry& e);
  void OnReadRequest(const std::string& ctx, Index max_commit) { reads_[ctx] = max_commit; }
  void OnReadState(NodeId id, const ReadState& rs);
  void OnRestart(NodeId id);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Payloads applied by at least one member: acknowledged to a client.
  const std::map<Index, Entry>& applied() const { return applied_; }

 private:
  struct Seen {
    Term term = 0;
    Index commit = 0;
    Term disk_term = 0;
    Index disk_commit = 0;
    Index checked = 0;  // Persisted log verified against committed_ up to here.
  };

  void Fail(const std::string& what);
  void CheckCommitted(NodeId id, const Entry& e);

  std::string error_;
  std::map<Term, NodeId> leaders_;
  std::map<Index, Entry> committed_;
  std::map<Index, Entry> applied_;
  std::map<NodeId, Seen> seen_;
  std::map<std::string, Index> reads_;
};

}  // namespace cairn::raft::sim
