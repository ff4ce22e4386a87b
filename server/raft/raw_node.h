// RawNode: the application-facing handle of one Raft node (modeled on etcd's RawNode).
//
// The application owns the loop: it calls Tick() at a fixed interval, feeds peer messages
// to Step(), and whenever HasReady() processes GetReady() as described in ready.h, then
// calls Advance(). Nothing blocks and nothing happens in the background.
// Thread-compatible: one thread (or one lock) drives a RawNode.
// REQUIRES (all methods): between GetReady() and the matching Advance(), do not call
// HasReady()/GetReady(); other calls are allowed.
#pragma once

#include <memory>
#include <string>

#include "server/common/status.h"
#include "server/raft/conf_change.h"
#include "server/raft/config.h"
#include "server/raft/message.h"
#include "server/raft/node_status.h"
#include "server/raft/ready.h"

namespace cairn::raft {

class Raft;

class RawNode {
 public:
  // Restores term, vote, commit, log and membership from config.storage. InvalidArgument
  // for a bad config; the storage's error if it cannot be read.
  static Result<std::unique_ptr<RawNode>> Create(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances logical time by one tick (elections, heartbeats, check-quorum).
  void Tick();
  // Starts an election now (with pre-vote if enabled). A no-op for non-voters.
  Status Campaign();
  // kErrProposalDropped when there is no leader, a transfer is in progress or this node was
  // removed; OK means "accepted for replication", not "committed".
  Status Propose(std::string data);
  Status ProposeConfChange(const ConfChange& cc);
  // Feeds a message from a peer. kErrStepLocalMsg for local types; kErrStepPeerNotFound
  // for responses from non-members.
  Status Step(const Message& m);
  // Requests a linearizable read; the answer arrives as a ReadState with this ctx.
  // REQUIRES: request_ctx is unique among pending requests.
  void ReadIndex(std::string request_ctx);
  void TransferLeader(NodeId transferee);
  // Applies a committed conf-change entry's change to Raft's membership; returns the new
  // membership (for the application's snapshot metadata).
  ConfState ApplyConfChange(const ConfChange& cc);

  bool HasReady() const;
  Ready GetReady();
  // REQUIRES: rd is the Ready last returned by GetReady(), fully processed.
  void Advance(const Ready& rd);

  void ReportUnreachable(NodeId id);
  void ReportSnapshot(NodeId id, bool ok);
  NodeStatus GetStatus() const;
  // Cheap subsets of GetStatus() for hot paths.
  SoftState GetSoftState() const;
  HardState GetHardState() const;

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);

  std::unique_ptr<Raft> raft_;
  SoftState prev_soft_state_;
  HardState prev_hard_state_;
};

}  // namespace cairn::raft
