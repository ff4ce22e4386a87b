#include "server/wal/replay.h"

#include <algorithm>

#include "server/wal/scan.h"

namespace cairn::wal {

Status Replayer::BeginSegment(const std::string& path, const SegmentHeader& h) {
  if (!begun_) {
    begun_ = true;
    last_ = h.first_index - 1;
  } else if (h.first_index != last_ + 1) {
    return Status::DataLoss("wal: index gap: " + path + " starts at index " +
                            std::to_string(h.first_index) + " but the log before it ends at " +
                            std::to_string(last_));
  }
  expect_metadata_ = true;
  return Status::Ok();
}

Status Replayer::Apply(const std::string& path, const RecordView& rec,
                       SegmentContents* contents) {
  auto& entries = state_.entries;
  if (expect_metadata_) {
    if (rec.type != RecordType::kMetadata) {
      return CorruptAt(path, rec.offset, "segment does not start with a metadata record");
    }
    expect_metadata_ = false;
    if (have_metadata_ && state_.metadata != rec.payload) {
      return CorruptAt(path, rec.offset, "metadata differs from earlier segments");
    }
    have_metadata_ = true;
    state_.metadata.assign(rec.payload);
    return Status::Ok();
  }
  switch (rec.type) {
    case RecordType::kMetadata:
      return CorruptAt(path, rec.offset, "metadata record inside a segment");
    case RecordType::kHardState:
      if (!DecodeHardState(rec.payload, &state_.hard_state)) {
        return CorruptAt(path, rec.offset, "malformed hard state record");
      }
      return Status::Ok();
    case RecordType::kSnapshot: {
      raft::SnapshotMetadata snap;
      if (!DecodeSnapshot(rec.payload, &snap)) {
        return CorruptAt(path, rec.offset, "malformed snapshot marker");
      }
      if (snap.index < state_.snapshot.index) {
        return CorruptAt(path, rec.offset, "snapshot marker goes backwards");
      }
      if (snap.index >= last_) {
        entries.clear();
        last_ = snap.index;
      } else if (!entries.empty() && entries.front().index <= snap.index) {
        entries.erase(entries.begin(),
                      entries.begin() + static_cast<ptrdiff_t>(snap.index - entries.front().index + 1));
      }
      contents->markers.push_back(snap.index);
      state_.snapshot = std::move(snap);
      return Status::Ok();
    }
    case RecordType::kEntry: {
      raft::Entry e;
      if (!DecodeEntry(rec.payload, &e)) return CorruptAt(path, rec.offset, "malformed entry record");
      if (e.index == 0 || e.index > last_ + 1 || e.index <= state_.snapshot.index) {
        return CorruptAt(path, rec.offset,
                         "index gap: entry " + std::to_string(e.index) + " after " +
                             std::to_string(last_) + " (snapshot " +
                             std::to_string(state_.snapshot.index) + ")");
      }
      if (!entries.empty() && e.index <= last_) {
        // Raft overwrote its tail: the later record wins, the old suffix is discarded.
        raft::Index first = entries.front().index;
        entries.resize(e.index > first ? e.index - first : 0);
      }
      last_ = e.index;
      contents->max_entry_index = std::max(contents->max_entry_index, e.index);
      entries.push_back(std::move(e));
      return Status::Ok();
    }
  }
  return CorruptAt(path, rec.offset, "unknown record type");
}

Result<Recovered> Replayer::Finish(const std::string& first_path) {
  CAIRN_CHECK(begun_);
  if (!state_.entries.empty() && state_.entries.front().index != state_.snapshot.index + 1) {
    return Status::DataLoss("wal: log starting in " + first_path + " begins at index " +
                            std::to_string(state_.entries.front().index) +
                            " but the latest snapshot marker is at " +
                            std::to_string(state_.snapshot.index));
  }
  return std::move(state_);
}

}  // namespace cairn::wal
