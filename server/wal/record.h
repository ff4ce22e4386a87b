// Encoding and validation of segment headers and records (layout: format.h).
//
// RecordEncoder appends framed records to a caller-owned buffer that is reused across
// batches, so encoding a batch allocates nothing once the buffer has grown. Decoders work
// on views into a segment image. Thread-safety: no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/raft/types.h"
#include "server/wal/format.h"

namespace cairn::wal {

struct SegmentHeader {
  uint32_t salt = 0;
  uint64_t seq = 0;
  uint64_t first_index = 0;
};

void AppendSegmentHeader(std::string* out, const SegmentHeader& h);
// Returns an empty string on success, else why the header is invalid.
std::string ParseSegmentHeader(std::string_view segment, SegmentHeader* h);

// Framed sizes, for deciding where a batch goes before encoding it.
size_t EntryRecordSize(const raft::Entry& e);
size_t HardStateRecordSize();
size_t SnapshotRecordSize(const raft::SnapshotMetadata& s);
size_t MetadataRecordSize(std::string_view metadata);

class RecordEncoder {
 public:
  // REQUIRES: byte out->size() will land at segment offset `offset`; synced <= offset.
  RecordEncoder(std::string* out, uint64_t offset, uint32_t salt, uint32_t synced)
      : out_(out), base_(offset - out->size()), salt_(salt), synced_(synced) {}

  void Metadata(std::string_view metadata);
  void Entry(const raft::Entry& e);
  void HardState(const raft::HardState& hs);
  void Snapshot(const raft::SnapshotMetadata& s);

 private:
  size_t Begin(RecordType type);
  void Finish(size_t start);

  std::string* out_;
  uint64_t base_;  // Segment offset of (*out_)[0].
  uint32_t salt_;
  uint32_t synced_;
};

struct RecordView {
  uint64_t offset = 0;  // In the segment.
  uint64_t end = 0;     // Offset just past the record.
  RecordType type = RecordType::kMetadata;
  uint32_t synced = 0;
  std::string_view payload;
};

enum class ParseOutcome { kValid, kZero, kInvalid };

// Reads the record at `offset`. kZero: an all-zero record header (or all-zero bytes up to
// EOF when fewer than a header remain). kInvalid: *why says what is wrong.
ParseOutcome ParseRecordAt(std::string_view segment, uint64_t offset, uint32_t salt,
                           RecordView* rec, const char** why);

// Payload decoders: false if the payload is malformed.
bool DecodeEntry(std::string_view payload, raft::Entry* e);
bool DecodeHardState(std::string_view payload, raft::HardState* hs);
bool DecodeSnapshot(std::string_view payload, raft::SnapshotMetadata* s);

}  // namespace cairn::wal
