// KeyIndex: the in-memory index from each key to its revisions (etcd's treeIndex).
//
// The store keeps every revision on disk in one table keyed by revision, which is
// append-only for writes (see schema.h). This index answers "which revision of key K
// is visible at revision R" and "which keys are live in [lo, hi) at R" without
// touching SQLite; readers then fetch values by revision. It is rebuilt from the table
// at start-up (Load: the rows grouped by key in one sort, then inserted in key order),
// so it is never persisted itself.
//
// Per key it holds the revisions written since the last compaction, oldest first; a
// tombstone (version 0) ends a generation. Compact(C) keeps, for each key, its newest
// revision at or below C unless that one is a tombstone, and everything above C, which
// is exactly the set of rows physical compaction keeps (Contains()).
//
// Thread-safety: every method locks internally (one shared_mutex: readers shared, the
// apply thread exclusive when it writes). Only the apply thread writes. Readers pass
// the revision of their SQLite snapshot as `at`; revisions above it (written by the
// open batch, or committed after the snapshot) are ignored, so what they see agrees
// with their snapshot. A read below the index's compacted revision fails with etcd's
// compacted error even if the reader's snapshot predates the compaction, as in etcd.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "server/common/status.h"
#include "server/mvcc/indexed_revision.h"
#include "server/mvcc/key_revisions.h"
#include "server/mvcc/key_span.h"

namespace cairn::mvcc {

// A (main, sub) pair packed for hashing; see KeyIndex::KeptRevisions.
struct RevisionHash {
  size_t operator()(const std::pair<int64_t, int64_t>& r) const {
    return std::hash<int64_t>()(r.first * 1000003 + r.second);
  }
};
using RevisionSet = std::unordered_set<std::pair<int64_t, int64_t>, RevisionHash>;

class KeyIndex {
 public:
  // Called for each live key of a span in key order; return false to stop early.
  // Runs under the index's shared lock: it must not call back into the index.
  using Visitor = std::function<bool(std::string_view key, const IndexedRevision& rev)>;

  KeyIndex() = default;
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // ---- Apply thread ----
  // REQUIRES: rev is newer than every revision of key already indexed.
  void Append(std::string_view key, const IndexedRevision& rev);
  // Undoes Append(key, rev) of a request that is rolled back.
  // REQUIRES: (main, sub) is the newest revision of key.
  void RemoveNewest(std::string_view key, int64_t main, int64_t sub);
  // REQUIRES: rev >= CompactedRevision().
  void Compact(int64_t rev);
  // Start-up: replaces the contents with the index of a table holding `rows` (in any
  // order) after a compaction at `compacted` (0: none), whose physical deletion may not
  // have finished: exactly what Append() of every row in revision order to an empty index and
  // Compact(compacted) would leave, built in one pass over the rows sorted by key.
  // REQUIRES: no two rows share a (main, sub); the keys outlive the call.
  struct Row {
    std::string_view key;
    IndexedRevision rev;
  };
  void Load(std::vector<Row> rows, int64_t compacted);

  // ---- Any thread ----
  int64_t CompactedRevision() const;
  // The revision of key visible at `at`, if the key is live there. Errors: compacted.
  Result<std::optional<IndexedRevision>> Get(std::string_view key, int64_t at) const;
  // Visits the live keys of span at `at`. Errors: compacted (nothing visited).
  Status Visit(const KeySpan& span, int64_t at, const Visitor& visit) const;
  // For each key, the newest revision strictly before (main, sub), tombstone or not;
  // nullopt when there is none. Errors: compacted, when `from` <= the compacted
  // revision (the history before `from` may be incomplete).
  struct Before {
    std::string_view key;
    int64_t main;
    int64_t sub;
  };
  Result<std::vector<std::optional<IndexedRevision>>> RevisionsBefore(const std::vector<Before>& queries,
                                                                      int64_t from) const;
  // Whether key's revision (main, sub) is still indexed: a row at or below the
  // compacted revision that is not is garbage for physical compaction.
  bool Contains(std::string_view key, int64_t main, int64_t sub) const;
  // The rows at or below the compacted revision that compaction keeps (each key's
  // newest one there, if live), and that revision.
  std::pair<RevisionSet, int64_t> KeptRevisions() const;
  // Every key live at the newest revision with a lease attached: (key, lease).
  std::vector<std::pair<std::string, int64_t>> LeasedKeys() const;

 private:
  using Revisions = KeyRevisions;  // oldest first
  // Orders keys; lets a string_view find a key.
  struct ByKey {
    using is_transparent = void;
    bool operator()(const KeyRevisions& a, const KeyRevisions& b) const { return a.key() < b.key(); }
    bool operator()(const KeyRevisions& a, std::string_view b) const { return a.key() < b; }
    bool operator()(std::string_view a, const KeyRevisions& b) const { return a < b.key(); }
  };
  using Keys = absl::btree_set<KeyRevisions, ByKey>;
  // A set hands out its elements const; changing a key's revisions leaves its place in
  // the order alone, since the order is by key only.
  static Revisions& Mutable(const Revisions& revs) { return const_cast<Revisions&>(revs); }
  static const IndexedRevision* VisibleAt(const Revisions& revs, int64_t at);
  // Drops what a compaction at rev no longer needs from one key's revisions.
  static void CompactRevisions(Revisions& revs, int64_t rev);

  mutable std::shared_mutex mu_;
  Keys keys_;              // guarded by mu_; no key without revisions
  int64_t compacted_ = 0;  // guarded by mu_
};

}  // namespace cairn::mvcc
