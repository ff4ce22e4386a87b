// SimNode: one simulated member — a RawNode over a MemoryStorage "disk" plus a toy state
// machine (the list of applied payloads).
//
// The persist step is explicit: TakeReady() only takes a Ready; CompletePersist() writes it
// to disk, sends its messages, applies committed entries and calls Advance(). Crash() drops
// everything not on disk, including a taken-but-unpersisted Ready. Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/raft/memory_storage.h"
#include "server/raft/raw_node.h"

namespace cairn::raft::sim {

// One applied normal entry.
struct Applied {
  Index index = 0;
  Term term = 0;
  std::string data;
};

class SimNode {
 public:
  // Hooks into the simulation: message output, and observation of applied entries, conf
  // changes and read states (the invariant checker sees everything here).
  struct Hooks {
    std::function<void(Message)> send;
    std::function<void(NodeId, const Entry&)> on_apply;
    std::function<void(NodeId, const ConfChange&)> on_conf_change;
    std::function<void(NodeId, const ReadState&)> on_read_state;
  };

  SimNode(NodeId id, uint64_t seed, Hooks hooks);

  // Initial membership (brand-new cluster), written to the disk.
  void Bootstrap(const ConfState& cs);
  // (Re)creates the RawNode from disk and rebuilds the state machine from the disk snapshot.
  void Start();
  void Crash();

  bool running() const { return node_ != nullptr; }
  bool busy() const { return pending_.has_value(); }
  RawNode& node() { return *node_; }
  MemoryStorage& disk() { return disk_; }
  NodeId id() const { return id_; }
  Index applied_index() const { return applied_index_; }
  const std::vector<Applied>& state() const { return state_; }
  const ConfState& conf_state() const { return conf_state_; }

  // REQUIRES: running() && !busy().
  bool TakeReady();
  // REQUIRES: busy().
  void CompletePersist();
  // Snapshots the state machine at the applied index and compacts all but `keep` entries.
  void SnapshotAndCompact(Index keep);

 private:
  std::string EncodeState() const;
  void DecodeState(const std::string& data);

  NodeId id_;
  uint64_t seed_;
  Hooks hooks_;
  MemoryStorage disk_;
  std::unique_ptr<RawNode> node_;
  std::optional<Ready> pending_;
  std::vector<Applied> state_;
  Index applied_index_ = 0;
  ConfState conf_state_;
  uint64_t incarnation_ = 0;
  bool leader_persists_in_parallel_ = false;
};

}  // namespace cairn::raft::sim
