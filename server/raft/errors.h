// Well-known Raft errors as Status values with stable messages (callers compare with ==).
// Thread-safety: immutable globals.
#pragma once

#include "server/common/status.h"

namespace cairn::raft {

// Storage: the requested index precedes the first available entry.
inline const Status kErrCompacted{StatusCode::kOutOfRange,
                                  "requested index is unavailable due to compaction"};
// Storage: a snapshot older than the current one was offered.
inline const Status kErrSnapOutOfDate{StatusCode::kOutOfRange,
                                      "requested index is older than the existing snapshot"};
// Storage: the requested index is past the last entry.
inline const Status kErrUnavailable{StatusCode::kUnavailable,
                                    "requested entry at index is unavailable"};
// Storage: a snapshot is being produced; the leader retries later.
inline const Status kErrSnapshotTemporarilyUnavailable{StatusCode::kUnavailable,
                                                       "snapshot is temporarily unavailable"};
// Propose: no leader is known, the leader is transferring, or this node was removed.
inline const Status kErrProposalDropped{StatusCode::kUnavailable, "raft proposal dropped"};
// RawNode::Step: local message types may not come from the network.
inline const Status kErrStepLocalMsg{StatusCode::kInvalidArgument,
                                     "raft: cannot step raft local message"};
// RawNode::Step: a response from a node that is not a member.
inline const Status kErrStepPeerNotFound{StatusCode::kNotFound,
                                         "raft: cannot step as peer not found"};

}  // namespace cairn::raft
