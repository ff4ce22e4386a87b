// ConfChange: a single-step membership change carried in an EntryType::kConfChange entry.
//
// Promotion of a learner is kAddNode on a node that is currently a learner. Demoting a
// voter to a learner is not supported (kAddLearnerNode on a voter is a no-op).
// Thread-safety: value type.
#pragma once

#include <cstdint>
#include <string>

#include "server/raft/types.h"

namespace cairn::raft {

// The numeric values are part of the wire format (codec.h): append only.
enum class ConfChangeType : uint8_t {
  kAddNode = 0,
  kAddLearnerNode = 1,
  kRemoveNode = 2,
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddNode;
  NodeId node_id = kNoNode;
  std::string context;  // Opaque to Raft (e.g. the new member's address).

  bool operator==(const ConfChange&) const = default;
};

}  // namespace cairn::raft
