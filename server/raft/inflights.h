// Inflights: the last indexes of MsgApp messages sent to one follower and not yet
// acknowledged, bounded by Config::max_inflight_msgs (flow control in replicate state).
// Internal. Thread-compatible.
#pragma once

#include <cstddef>
#include <deque>

#include "server/raft/types.h"

namespace cairn::raft {

class Inflights {
 public:
  explicit Inflights(size_t capacity) : capacity_(capacity) {}

  // REQUIRES: !Full() and index is larger than every index added before.
  void Add(Index index);
  // Frees every message whose last index is <= to (they were acknowledged).
  void FreeLE(Index to);
  void FreeFirstOne();
  bool Full() const { return in_.size() >= capacity_; }
  size_t Count() const { return in_.size(); }
  void Reset() { in_.clear(); }

 private:
  size_t capacity_;
  std::deque<Index> in_;
};

}  // namespace cairn::raft
