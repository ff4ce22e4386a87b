// Wal: the segmented write-ahead log of a Raft member (format and recovery rule:
// format.h).
//
// It makes Raft's durable state -- entries, hard state, snapshot markers, plus opaque
// member metadata -- survive crashes. Save() turns one batch into one write() and, when
// asked, one fdatasync. Segments are preallocated so those syncs need no size update,
// rotated when full, and deleted from the front by ReleaseTo once the application's
// state covers them.
//
// Failure policy: after any failed write or sync the on-disk tail is unknown (a failed
// fdatasync may have dropped dirty pages and a retry can falsely succeed), so the Wal
// refuses every further mutation with FailedPrecondition; the owner must restart and
// Open() again, which re-validates and repairs the tail.
//
// One Wal per directory: Create/Open take an exclusive flock on <dir>/wal.lock.
// Thread-safety: not thread-safe; the owner serializes calls.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/common/fs.h"
#include "server/common/status.h"
#include "server/raft/types.h"
#include "server/wal/replay.h"

namespace cairn::wal {

struct Options {
  // Preallocated size of each segment; a batch larger than this gets a segment of its own.
  // REQUIRES: kMinSegmentBytes <= segment_bytes <= kMaxSegmentBytes (format.h).
  uint64_t segment_bytes = 64ull << 20;
  // etcd's --max-wals: ReleaseTo deletes segments it no longer needs only while more
  // than this many segment files exist; 0 keeps every segment. 1 deletes all it can.
  size_t max_files = 1;
};

class Wal {
 public:
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Whether `dir` holds at least one segment.
  static bool Exists(FileSystem* fs, const std::string& dir);

  // Creates `dir` (and parents) and an empty log whose segments all carry `metadata`.
  // Fails with AlreadyExists if `dir` already holds segments.
  static Result<std::unique_ptr<Wal>> Create(FileSystem* fs, const std::string& dir,
                                             std::string metadata, Options options = {});

  // Opens an existing WAL, validates every record, repairs a torn tail of the last
  // segment by truncating it, and returns the state to restart from. Ready for appends
  // afterwards. DataLoss (message names file and offset) on corruption, in which case
  // no file is modified.
  static Result<std::pair<std::unique_ptr<Wal>, Recovered>> Open(FileSystem* fs,
                                                                 const std::string& dir,
                                                                 Options options = {});

  // Appends the entries, then the hard state (if !empty()), as one write; fdatasync if
  // `sync`. Entries whose index <= LastIndex() overwrite the log tail (Raft truncation).
  // With nothing to write, sync=true still makes earlier unsynced Saves durable.
  // REQUIRES (else InvalidArgument): entries are consecutive, the first is
  // <= LastIndex() + 1 and above the latest snapshot marker.
  Status Save(const raft::HardState& hs, const std::vector<raft::Entry>& entries,
              bool sync = true);

  // Records that a snapshot covering the log through `snap.index` exists; synced.
  // REQUIRES (else InvalidArgument): snap.index is not below an earlier marker.
  Status SaveSnapshot(const raft::SnapshotMetadata& snap);

  // Deletes whole segments, oldest first, that hold only entries covered by the newest
  // snapshot marker at or below `index` and precede the newest segment holding such a
  // marker, keeping Options::max_files. Never deletes the segment being written.
  // REQUIRES: the application's state at `index` is durable elsewhere.
  Status ReleaseTo(raft::Index index);

  // Index of the last entry saved, or of the latest snapshot marker if that is higher.
  raft::Index LastIndex() const { return last_index_; }
  // Number of segment files, for tests and metrics.
  size_t SegmentCount() const { return segments_.size(); }

 private:
  struct Segment {
    uint64_t seq = 0;
    std::string path;
    SegmentContents contents;
  };

  Wal(FileSystem* fs, std::string dir, std::string metadata, Options options,
      std::unique_ptr<FileLock> lock);

  static Status ValidateOptions(const Options& options);
  static Result<std::unique_ptr<FileLock>> Lock(FileSystem* fs, const std::string& dir);
  Status CheckUsable() const;
  Status Fail(Status st);
  // Writes a new segment (as .tmp, synced, then renamed) and makes it the current one.
  Status StartSegment(uint64_t seq, raft::Index first_index);
  // Seals the current segment (synced, trimmed) and starts the next one.
  Status Cut();
  // Rotates if a batch of `bytes` does not fit, then clears buf_ for encoding.
  Status PrepareBatch(size_t bytes);
  // Writes buf_ as one Append, then syncs if asked.
  Status CommitBatch(bool sync);

  FileSystem* const fs_;
  const std::string dir_;
  const std::string metadata_;
  const Options options_;
  std::unique_ptr<FileLock> lock_;

  std::vector<Segment> segments_;  // Oldest first; back() is being written.
  std::unique_ptr<WritableFile> file_;
  uint32_t salt_ = 0;
  uint64_t synced_offset_ = 0;  // Bytes of the current segment known durable.
  uint64_t head_end_ = 0;       // End of the current segment's head records.
  raft::HardState hard_state_;
  raft::SnapshotMetadata snapshot_;
  raft::Index last_index_ = 0;
  Status failed_;      // Sticky: first write/sync failure.
  std::string buf_;    // Reused encoding buffer.
};

}  // namespace cairn::wal
