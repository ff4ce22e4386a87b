// Ready: everything the application must do after driving a RawNode, in this order:
//   1. persist snapshot (if any), entries and hard_state (fsync if must_sync);
//   2. send messages. With Config::leader_persists_in_parallel, a leader's MsgApp and
//      MsgHeartbeat (CanSendBeforePersist) may leave before step 1 (Raft thesis
//      §10.2.1); every other message only after it;
//   3. hand the snapshot, then committed_entries in order, on to be applied; serve
//      read_states (step 3 may follow step 4, see below);
//   4. call RawNode::Advance(ready).
// Advance() takes committed_entries as handed on, not as applied: the application may
// apply them after Advance(), on another thread, in order and without skipping one,
// as etcd's server and Cairn's (server/etcdserver/server.h) do.
// Thread-safety: value types.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/raft/message.h"
#include "server/raft/types.h"

namespace cairn::raft {

enum class Role { kFollower, kCandidate, kLeader, kPreCandidate };

// Volatile state worth reporting to the application (never persisted).
struct SoftState {
  NodeId lead = kNoNode;
  Role role = Role::kFollower;

  bool operator==(const SoftState&) const = default;
};

// A linearizable read may be served once the application has applied up to index.
struct ReadState {
  Index index = 0;
  std::string request_ctx;

  bool operator==(const ReadState&) const = default;
};

struct Ready {
  std::optional<SoftState> soft_state;   // Set when leader or role changed.
  HardState hard_state;                  // empty() when unchanged.
  std::vector<ReadState> read_states;
  std::vector<Entry> entries;            // Persist BEFORE sending messages (but see step 2).
  Snapshot snapshot;                     // empty() when none; persist and apply.
  std::vector<Entry> committed_entries;  // Apply in order.
  std::vector<Message> messages;         // Send AFTER persisting entries and hard_state (but see step 2).
  bool must_sync = false;
};

}  // namespace cairn::raft
