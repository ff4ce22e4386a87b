// ReadOnly: read-index requests waiting for a quorum of heartbeat acks that confirm the
// leader is still the leader (Raft thesis §6.4).
//
// Requests are confirmed in FIFO order: an ack for a later request implies acks for all
// earlier ones, since heartbeats carry the newest pending context. Internal.
// Thread-compatible.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "server/raft/message.h"

namespace cairn::raft {

struct ReadIndexStatus {
  Message req;  // The original MsgReadIndex (from == the asking node, or none if local).
  Index index = 0;
  std::set<NodeId> acks;
};

class ReadOnly {
 public:
  // Registers a request that must be answered once index is confirmed; duplicates of a
  // pending context are ignored.
  void AddRequest(Index index, const Message& req);
  // Records a heartbeat ack and returns the acks for ctx so far (nullptr if unknown).
  const std::set<NodeId>* RecvAck(NodeId from, const std::string& ctx);
  // Pops and returns every request up to and including ctx.
  std::vector<ReadIndexStatus> Advance(const std::string& ctx);
  // Context of the newest pending request ("" if none).
  std::string LastPendingRequestCtx() const;
  size_t PendingCount() const { return queue_.size(); }

 private:
  std::map<std::string, ReadIndexStatus> pending_;
  std::deque<std::string> queue_;
};

}  // namespace cairn::raft
