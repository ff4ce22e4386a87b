// The WAL's on-disk format, pinned in one place. All integers are little-endian.
//
// Directory: segments named "%016x-%016x.wal" (sequence number, first Raft index the
// segment was cut for), plus "wal.lock" (flock against a second server) and, transiently,
// "<segment>.tmp" while a segment is being cut. Sequence numbers are consecutive; only a
// prefix of segments is ever deleted (ReleaseTo).
//
// Segment = header, then records, then zeros up to the preallocated size.
//   Header (kSegmentHeaderSize = 40 bytes):
//     [0,8) magic "CAIRNWAL"  [8,12) version  [12,16) salt (random per segment)
//     [16,24) seq  [24,32) first_index  [32,36) crc32c of [0,32)  [36,40) zero
//   Every segment starts with: metadata record, hard state record (if non-empty),
//   snapshot marker (if one was ever saved) -- so it can be read without its
//   predecessors and older segments can be deleted.
//
// Record (kRecordHeaderSize = 16 bytes + payload):
//     [0,4) crc  [4,8) payload length  [8] type  [9,12) zero  [12,16) synced
//   crc = crc32c over bytes [4,16) and the payload, seeded with Extend(salt, offset as
//   8 bytes) where offset is the record's position in the segment. The seed means a
//   record only validates in the segment life and at the position it was written for:
//   stale bytes from a reused or preallocated file, or a record shifted by a bad length,
//   cannot pass. `synced` is the segment offset up to which the segment was known durable
//   (an fdatasync had returned) when this record was written; always <= the record's own
//   offset.
//   Types: 1 metadata (opaque bytes); 2 entry (term u64, index u64, type u8, data);
//   3 hard state (term, vote, commit: u64 each); 4 snapshot marker (index u64, term u64,
//   u32 count + u64 voters, u32 count + u64 learners). A zero type never validates, so an
//   all-zero record header means "end of data" (the preallocated region).
//
// Crash behaviour and the recovery rule. Segments are written strictly sequentially, and a
// segment is fully synced (and trimmed to its data) before the next one is renamed into
// place, so only the last segment can hold unsynced bytes. Recovery reads records from
// the start of each segment until the first offset P that does not hold a valid record
// (short header, length past EOF or above kMaxRecordPayload, crc mismatch, zero header):
//   - Non-last segment: valid only if [P, EOF) is all zeros. Anything else is DataLoss.
//   - Last segment: if [P, EOF) is all zeros, the log simply ends at P. Otherwise the bytes
//     at P are either a torn write (crash before fdatasync returned; page writeback may
//     have persisted any subset of the unsynced pages) or corruption of acknowledged
//     data. The rule: if some valid record R at any offset after P has R.synced > P,
//     then P had been synced before R was written, so it was acknowledged and now is
//     damaged -> DataLoss. Otherwise everything from P on is declared a torn tail: it is
//     truncated, re-zeroed, and appending resumes at P.
//   Consequence: damage inside the last batch written after the last attested sync is
//   indistinguishable from a torn write and is repaired, not reported. Every earlier
//   byte is protected by the records that follow it.
// Any DataLoss leaves every file untouched. Bad headers, sequence gaps, index gaps and
// malformed payloads in CRC-valid records are always DataLoss.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::wal {

inline constexpr char kSegmentMagic[8] = {'C', 'A', 'I', 'R', 'N', 'W', 'A', 'L'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 40;
inline constexpr size_t kRecordHeaderSize = 16;
// Bounds a corrupt length before it is trusted; also keeps segment offsets within u32.
inline constexpr uint32_t kMaxRecordPayload = 256u << 20;
inline constexpr uint64_t kMaxSegmentBytes = 1ull << 30;
inline constexpr uint64_t kMinSegmentBytes = 4096;
inline constexpr char kLockFileName[] = "wal.lock";
inline constexpr char kTmpSuffix[] = ".tmp";

enum class RecordType : uint8_t {
  kMetadata = 1,
  kEntry = 2,
  kHardState = 3,
  kSnapshot = 4,
};

inline std::string SegmentName(uint64_t seq, uint64_t first_index) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%016llx-%016llx.wal", static_cast<unsigned long long>(seq),
                static_cast<unsigned long long>(first_index));
  return buf;
}

struct SegmentId {
  uint64_t seq = 0;
  uint64_t first_index = 0;
};

// Parses exactly the SegmentName() form; anything else is not a segment.
inline std::optional<SegmentId> ParseSegmentName(std::string_view name) {
  if (name.size() != 37 || name[16] != '-' || name.substr(33) != ".wal") return std::nullopt;
  auto hex = [](std::string_view s, uint64_t* out) {
    uint64_t v = 0;
    for (char c : s) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = v << 4 | static_cast<uint64_t>(d);
    }
    *out = v;
    return true;
  };
  SegmentId id;
  if (!hex(name.substr(0, 16), &id.seq) || !hex(name.substr(17, 16), &id.first_index)) {
    return std::nullopt;
  }
  return id;
}

}  // namespace cairn::wal
