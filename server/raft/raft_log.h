// RaftLog: the node's view of the whole log — stable entries (Storage) followed by
// unstable ones — plus the commit and apply cursors.
//
// Invariants: applied <= committed <= LastIndex(); FirstIndex()-1 is the index of the latest
// snapshot. Internal to the Raft core. Thread-compatible.
#pragma once

#include <optional>
#include <vector>

#include "server/raft/storage.h"
#include "server/raft/unstable.h"

namespace cairn::raft {

class RaftLog {
 public:
  // REQUIRES: storage outlives the log.
  RaftLog(const Storage* storage, uint64_t max_next_ents_size);

  // Appends ents after (index, log_term) if that entry matches, truncating conflicts.
  // Returns the index of the last new entry, or nullopt if (index, log_term) mismatches.
  std::optional<Index> MaybeAppend(Index index, Term log_term, Index committed,
                                   const std::vector<Entry>& ents);
  // REQUIRES: ents are contiguous and start after committed.
  Index Append(const std::vector<Entry>& ents);
  // First index whose term conflicts with ents (0 if none and nothing is new; else the
  // first new index).
  Index FindConflict(const std::vector<Entry>& ents) const;
  // Largest index <= index whose term is <= term: the leader or follower can skip a whole
  // term of mismatching entries in one round trip.
  Index FindConflictByTerm(Index index, Term term) const;

  std::vector<Entry> UnstableEntries() const { return unstable_.entries(); }
  // Committed entries not yet applied, bounded by max_next_ents_size.
  std::vector<Entry> NextEnts() const;
  bool HasNextEnts() const;
  Result<Snapshot> GetSnapshot() const;

  Index FirstIndex() const;
  Index LastIndex() const;
  Term LastTerm() const;
  // Term of entry i; 0 (not an error) for indexes outside [FirstIndex()-1, LastIndex()]
  // that are above the log, kErrCompacted/kErrUnavailable when the storage lacks them.
  Result<Term> TermOf(Index i) const;
  Term ZeroTermOnError(Index i) const;
  bool MatchTerm(Index i, Term t) const;
  bool IsUpToDate(Index last_index, Term term) const;

  void CommitTo(Index to);
  bool MaybeCommit(Index max_index, Term term);
  void AppliedTo(Index i);
  void StableTo(Index i, Term t) { unstable_.StableTo(i, t); }
  void StableSnapTo(Index i) { unstable_.StableSnapTo(i); }
  void Restore(Snapshot s);

  // Entries from i to the end, at most max_bytes (at least one).
  Result<std::vector<Entry>> EntriesFrom(Index i, uint64_t max_bytes) const;
  // Entries in [lo, hi), at most max_bytes (at least one).
  Result<std::vector<Entry>> Slice(Index lo, Index hi, uint64_t max_bytes) const;

  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  const Unstable& unstable() const { return unstable_; }

 private:
  Status CheckOutOfBounds(Index lo, Index hi) const;

  const Storage* storage_;
  Unstable unstable_;
  Index committed_;
  Index applied_;
  uint64_t max_next_ents_size_;
};

}  // namespace cairn::raft
