// TestCluster: an in-memory cluster of RawNodes for unit tests and benchmarks.
//
// Each member has a MemoryStorage "disk". Stabilize() repeatedly processes every member's
// Ready exactly as a real application would (persist, send, apply, Advance) and delivers
// messages in FIFO order until nothing is left to do. Tests can cut links, isolate nodes
// or filter messages. Applied normal entries are recorded per node; conf-change entries
// are applied to Raft. Not thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/raft/memory_storage.h"
#include "server/raft/raw_node.h"

namespace cairn::raft {

class TestCluster {
 public:
  struct Member {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> node;
    std::vector<std::string> applied;  // Data of applied non-empty normal entries.
    Index applied_index = 0;
    ConfState conf_state;
    std::vector<ReadState> read_states;  // Every ReadState handed out, in order.
  };

  // voters are 1..n_voters, learners follow. tweak may adjust each member's Config.
  // With bootstrap_log the membership is written as log entries 1..n (MemoryStorage::
  // Bootstrap) so fresh members can join by replaying the log; otherwise it is the storage's
  // initial ConfState and the log starts empty.
  TestCluster(int n_voters, int n_learners = 0,
              const std::function<void(Config&)>& tweak = nullptr, bool bootstrap_log = false);

  RawNode& node(NodeId id) { return *members_.at(id).node; }
  Member& member(NodeId id) { return members_.at(id); }
  MemoryStorage& storage(NodeId id) { return *members_.at(id).storage; }
  std::vector<NodeId> ids() const;

  // Creates a member with an empty log and no membership (to be added by a conf change).
  void AddFreshNode(NodeId id);
  // Recreates a member's RawNode from its storage (losing volatile state).
  void Restart(NodeId id);

  // Processes Readys and delivers messages until quiescent. Returns messages delivered.
  size_t Stabilize();
  // Processes the Readys once and queues their messages (no delivery).
  void ProcessReadys();
  // Delivers the currently queued messages once (their responses are queued).
  void DeliverQueued();
  void Tick(NodeId id, int n = 1);
  void TickAll(int n = 1);
  // n rounds of: tick every member once, then Stabilize().
  void Run(int n);
  // Elects id by campaigning and stabilizing. Returns whether it became leader.
  bool Elect(NodeId id);
  NodeId Leader();

  void Isolate(NodeId id);
  void Cut(NodeId a, NodeId b);
  void Heal();
  // Drops every message for which drop(m) is true (in addition to cut links).
  void SetFilter(std::function<bool(const Message&)> drop) { filter_ = std::move(drop); }
  void set_record_trace(bool on) { record_trace_ = on; }
  // Every message delivered so far, for assertions about traffic.
  const std::vector<Message>& trace() const { return trace_; }
  void ClearTrace() { trace_.clear(); }
  std::deque<Message>& queue() { return queue_; }

  // Snapshot of id's applied state at its applied index, then compaction of its log.
  void SnapshotAndCompact(NodeId id);
  // Whether applied data is kept in Member::applied (off for benchmarks, to bound memory).
  void set_record_applied(bool on) { record_applied_ = on; }

 private:
  Config MakeConfig(NodeId id) const;
  void ProcessReady(NodeId id);
  bool Dropped(const Message& m) const;

  std::function<void(Config&)> tweak_;
  std::map<NodeId, Member> members_;
  std::deque<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::function<bool(const Message&)> filter_;
  std::vector<Message> trace_;
  bool record_trace_ = true;
  bool record_applied_ = true;
};

}  // namespace cairn::raft
