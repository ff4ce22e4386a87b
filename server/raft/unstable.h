// Unstable: log entries and a snapshot accepted by Raft but not yet persisted.
//
// entries_[i] has index offset_+i. The snapshot, if any, precedes the entries. Internal to
// the Raft core. Thread-compatible.
#pragma once

#include <optional>
#include <vector>

#include "server/raft/types.h"

namespace cairn::raft {

class Unstable {
 public:
  explicit Unstable(Index offset) : offset_(offset) {}

  // First index known from the snapshot (snapshot index + 1), if there is one.
  std::optional<Index> MaybeFirstIndex() const;
  std::optional<Index> MaybeLastIndex() const;
  std::optional<Term> MaybeTerm(Index i) const;

  // The application persisted entries up to (i, t): drop them unless they were since
  // replaced by entries of another term.
  void StableTo(Index i, Term t);
  void StableSnapTo(Index i);
  void Restore(Snapshot s);
  void TruncateAndAppend(const std::vector<Entry>& ents);
  // REQUIRES: offset() <= lo <= hi <= offset() + entries().size().
  std::vector<Entry> Slice(Index lo, Index hi) const;

  const std::vector<Entry>& entries() const { return entries_; }
  const std::optional<Snapshot>& snapshot() const { return snapshot_; }
  Index offset() const { return offset_; }

 private:
  std::optional<Snapshot> snapshot_;
  std::vector<Entry> entries_;
  Index offset_;
};

}  // namespace cairn::raft
