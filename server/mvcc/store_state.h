// StoreState: the in-memory image of the single store_state row (see schema.h).
// A plain value; whoever holds one owns it (the apply batch, or a read snapshot).
#pragma once

#include <cstdint>

#include "server/mvcc/schema.h"

namespace cairn::mvcc {

struct StoreState {
  int64_t applied_index = 0;
  int64_t current_rev = schema::kInitialRevision;
  // Reads below this revision fail; 0 = never compacted.
  int64_t compact_rev = 0;
  // Target of the physical compaction in progress; 0 = none. Rows it would delete are
  // already invisible (reads below compact_rev fail), so deleting them lazily is safe.
  int64_t compact_pending_rev = 0;
  // Next row (main, sub) the physical compaction has yet to examine.
  int64_t cursor_main = 0;
  int64_t cursor_sub = 0;
};

}  // namespace cairn::mvcc
