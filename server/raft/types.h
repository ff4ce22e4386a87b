// Raft's log vocabulary: entries, hard state, membership and snapshot metadata.
//
// These are plain value types shared by the consensus core (raft/), the write-ahead
// log (wal/) and the server driver. They carry no behaviour and no I/O.
// Thread-safety: value types. Invariants are stated per field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::raft {

using NodeId = uint64_t;  // 0 is "none".
using Term = uint64_t;
using Index = uint64_t;   // Log positions start at 1; 0 means "before the log".

inline constexpr NodeId kNoNode = 0;

enum class EntryType : uint8_t {
  kNormal = 0,      // data is an application command (may be empty: leader's no-op).
  kConfChange = 1,  // data is an encoded ConfChange.
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  bool operator==(const Entry&) const = default;
};

// Must be persisted before any message that depends on it is sent.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  bool operator==(const HardState&) const = default;
  bool empty() const { return term == 0 && vote == kNoNode && commit == 0; }
};

// Membership. Voters and learners are disjoint.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;

  bool operator==(const ConfState&) const = default;
};

struct SnapshotMetadata {
  Index index = 0;  // Last log index the snapshot covers.
  Term term = 0;    // Term of that entry.
  ConfState conf_state;

  bool operator==(const SnapshotMetadata&) const = default;
};

struct Snapshot {
  SnapshotMetadata metadata;
  std::string data;  // Opaque application state.

  bool empty() const { return metadata.index == 0; }
  bool operator==(const Snapshot&) const = default;
};

}  // namespace cairn::raft
