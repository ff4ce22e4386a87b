// Replayer: folds the validated records of consecutive segments into the state a Raft
// node restarts from, enforcing the log's invariants (metadata heads every segment,
// segments and entries continue without index gaps, later entries overwrite the tail).
//
// Violations are DataLoss naming the file and offset. Thread-safety: single-threaded.
#pragma once

#include <string>
#include <vector>

#include "server/common/status.h"
#include "server/raft/types.h"
#include "server/wal/record.h"

namespace cairn::wal {

struct Recovered {
  std::string metadata;
  raft::HardState hard_state;
  raft::SnapshotMetadata snapshot;  // The latest marker; index 0 if none.
  std::vector<raft::Entry> entries;  // After snapshot.index, in order, no gaps.
};

// What ReleaseTo needs to know about a segment's contents.
struct SegmentContents {
  raft::Index max_entry_index = 0;   // 0 if it holds no entries.
  std::vector<raft::Index> markers;  // Snapshot marker indexes, in file order.
};

class Replayer {
 public:
  Status BeginSegment(const std::string& path, const SegmentHeader& h);
  Status Apply(const std::string& path, const RecordView& rec, SegmentContents* contents);
  // REQUIRES: at least one segment was begun.
  Result<Recovered> Finish(const std::string& first_path);

  // The last entry index, or the snapshot index if that is higher.
  raft::Index last_index() const { return last_; }

 private:
  bool begun_ = false;
  bool expect_metadata_ = false;
  bool have_metadata_ = false;
  Recovered state_;
  raft::Index last_ = 0;  // Invariant: entries empty or entries.back().index == last_.
};

}  // namespace cairn::wal
