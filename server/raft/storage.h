// Storage: read-only view of the stable (persisted) Raft log, snapshot and hard state.
//
// Raft reads through this interface; the application writes to the concrete storage
// (e.g. MemoryStorage::Append) after persisting a Ready and before calling Advance().
// Implementations must be safe to call from the thread that drives the RawNode.
#pragma once

#include <cstdint>
#include <vector>

#include "server/common/status.h"
#include "server/raft/types.h"

namespace cairn::raft {

struct InitialState {
  HardState hard_state;
  ConfState conf_state;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual Result<InitialState> GetInitialState() const = 0;
  // Entries in [lo, hi), at most max_bytes in total but at least one if any exist.
  // kErrCompacted if lo < FirstIndex(); kErrUnavailable if the log is empty past the snapshot.
  // REQUIRES: hi <= LastIndex() + 1.
  virtual Result<std::vector<Entry>> Entries(Index lo, Index hi, uint64_t max_bytes) const = 0;
  // Term of entry i; valid for i in [FirstIndex()-1, LastIndex()] (FirstIndex()-1 is the
  // snapshot's index). kErrCompacted below, kErrUnavailable above.
  virtual Result<Term> TermOf(Index i) const = 0;
  virtual Index FirstIndex() const = 0;
  virtual Index LastIndex() const = 0;
  virtual Result<Snapshot> GetSnapshot() const = 0;
};

// Approximate encoded size of an entry, used for byte limits.
inline uint64_t EntrySize(const Entry& e) { return e.data.size() + 24; }

// Truncates ents so their total size stays within max_bytes, keeping at least one entry.
void LimitSize(std::vector<Entry>& ents, uint64_t max_bytes);

}  // namespace cairn::raft
