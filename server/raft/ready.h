// Ready: everything the application must do after driving a RawNode, in this order:
//   1. persist snapshot (if any), entries and hard_state (fsync if must_sync);
//   2. send messages;
//   3. apply snapshot, then committed_entries in order; serve read_states;
//   4. call RawNode::Advance(ready).
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
  std::vector<Entry> entries;            // Persist BEFORE sending messages.
  Snapshot snapshot;                     // empty() when none; persist and apply.
  std::vector<Entry> committed_entries;  // Apply in order.
  std::vector<Message> messages;         // Send AFTER persisting entries and hard_state.
  bool must_sync = false;
};

}  // namespace cairn::raft
