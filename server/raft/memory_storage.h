// MemoryStorage: a Storage kept entirely in memory.
//
// Used by tests and by the server as the in-memory cache of the WAL. The log is kept as
// a dummy entry (index/term of the last snapshot) followed by the live entries, so
// FirstIndex() == snapshot index + 1 always holds. Thread-compatible: callers serialise
// access (the server holds its own lock around writes and the RawNode's reads).
#pragma once

#include <string>
#include <vector>

#include "server/raft/storage.h"

namespace cairn::raft {

class MemoryStorage : public Storage {
 public:
  MemoryStorage();

  Result<InitialState> GetInitialState() const override;
  Result<std::vector<Entry>> Entries(Index lo, Index hi, uint64_t max_bytes) const override;
  Result<Term> TermOf(Index i) const override;
  Index FirstIndex() const override;
  Index LastIndex() const override;
  Result<Snapshot> GetSnapshot() const override;

  void SetHardState(const HardState& hs) { hard_state_ = hs; }
  // Initial membership of a brand-new cluster, recorded as the "index 0 snapshot". Members
  // added later must then be brought in with a real snapshot: replaying the log from index 1
  // would not tell them about the initial members. Prefer Bootstrap() when members may join.
  void SetConfState(ConfState cs) { snapshot_.metadata.conf_state = std::move(cs); }
  // Initial membership of a brand-new cluster, written (as etcd does) as committed conf-change
  // entries 1..n of term 1, so every member — including ones that join later and replay the
  // log — learns it by applying them. REQUIRES: the storage is empty.
  Status Bootstrap(const ConfState& cs);
  // Replaces the whole log with snapshot s. kErrSnapOutOfDate if s is not newer.
  Status ApplySnapshot(Snapshot s);
  // Records a snapshot at applied index i (with membership cs when non-null) so it can be
  // sent to followers. kErrSnapOutOfDate if i is not newer than the current snapshot.
  // REQUIRES: i <= LastIndex().
  Result<Snapshot> CreateSnapshot(Index i, const ConfState* cs, std::string data);
  // Discards entries before compact_index. kErrCompacted if already discarded.
  // REQUIRES: compact_index <= LastIndex().
  Status Compact(Index compact_index);
  // Appends entries, overwriting any conflicting suffix. Entries already compacted are
  // skipped. REQUIRES: entries are contiguous and do not leave a gap after LastIndex().
  Status Append(const std::vector<Entry>& entries);

  const HardState& hard_state() const { return hard_state_; }

 private:
  Index offset() const { return ents_.front().index; }

  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> ents_;  // ents_[0] is the dummy entry; ents_[i].index == offset()+i.
};

}  // namespace cairn::raft
