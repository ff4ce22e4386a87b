// Config: parameters of one Raft node. Validated by RawNode::Create. Value type.
#pragma once

#include <cstdint>

#include "server/raft/message.h"
#include "server/raft/storage.h"
#include "server/raft/types.h"

namespace cairn::raft {

struct Config {
  NodeId id = kNoNode;
  int election_tick = 10;  // Ticks; the randomized timeout is in [election_tick, 2*election_tick).
  int heartbeat_tick = 1;  // REQUIRES: 0 < heartbeat_tick < election_tick.
  Storage* storage = nullptr;  // Not owned; the caller appends to it before Advance().
  Index applied = 0;           // Last index already applied by the application (on restart).
  uint64_t max_size_per_msg = 1 << 20;
  uint64_t max_committed_size_per_ready = 64ull << 20;
  int max_inflight_msgs = 256;
  bool check_quorum = true;
  bool pre_vote = true;
  uint64_t seed = 1;  // Seeds the election-timeout randomness (mixed with id).
  // When true, the leader counts its own entries toward the commit quorum only once
  // Advance() reports them persisted, so the application may send MsgApp and
  // MsgHeartbeat (see CanSendBeforePersist) before persisting the Ready that produced
  // them: the leader's disk write overlaps the followers' (Raft thesis §10.2.1).
  // Every other message must still wait until its Ready is persisted.
  bool leader_persists_in_parallel = false;
};

// Leader replication messages carry no promise about the sender's own disk, so with
// leader_persists_in_parallel they may leave before the sender's Ready is persisted.
inline bool CanSendBeforePersist(MessageType t) { return t == MessageType::MsgApp || t == MessageType::MsgHeartbeat; }

}  // namespace cairn::raft
