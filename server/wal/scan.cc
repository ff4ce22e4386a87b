#include "server/wal/scan.h"

#include <cstring>

namespace cairn::wal {
namespace {

// The unused tail of a preallocated segment is most of its 64 MB, and this runs on every
// start: a byte loop cost 335M instructions (~30 ms). The first byte is zero and every
// byte equals the next exactly when all are zero, and memcmp compares in vector steps.
bool AllZeroFrom(std::string_view image, uint64_t offset) {
  if (offset >= image.size()) return true;
  const char* tail = image.data() + offset;
  const size_t n = image.size() - offset;
  return tail[0] == 0 && std::memcmp(tail, tail + 1, n - 1) == 0;
}

// Whether a valid record after `bad` proves that `bad` had been synced before that record
// was written. Cheap field checks reject almost every offset before any crc is computed.
bool SyncedPastBadRecord(std::string_view image, uint64_t bad, uint32_t salt) {
  for (uint64_t q = bad + 1; q + kRecordHeaderSize <= image.size(); ++q) {
    uint32_t synced;
    std::memcpy(&synced, image.data() + q + 12, 4);
    uint8_t type = static_cast<uint8_t>(image[q + 8]);
    if (synced <= bad || synced > q || type < 1 || type > 4) continue;
    RecordView rec;
    const char* why = nullptr;
    if (ParseRecordAt(image, q, salt, &rec, &why) == ParseOutcome::kValid) return true;
  }
  return false;
}

}  // namespace

Status CorruptAt(const std::string& path, uint64_t offset, std::string_view why) {
  return Status::DataLoss("wal: corrupt record in " + path + " at offset " +
                          std::to_string(offset) + ": " + std::string(why));
}

Status ScanSegment(const std::string& path, std::string_view image, bool last, SegmentScan* out) {
  std::string bad_header = ParseSegmentHeader(image, &out->header);
  if (!bad_header.empty()) {
    return Status::DataLoss("wal: bad segment header in " + path + " at offset 0: " + bad_header);
  }
  out->records.clear();
  out->torn = false;
  uint64_t pos = kSegmentHeaderSize;
  const char* why = "non-zero bytes after the end of the log";
  for (;;) {
    RecordView rec;
    ParseOutcome o = ParseRecordAt(image, pos, out->header.salt, &rec, &why);
    if (o != ParseOutcome::kValid) {
      if (o == ParseOutcome::kZero) why = "non-zero bytes after the end of the log";
      break;
    }
    out->records.push_back(rec);
    pos = rec.end;
  }
  out->end = pos;
  if (AllZeroFrom(image, pos)) return Status::Ok();
  if (!last || SyncedPastBadRecord(image, pos, out->header.salt)) return CorruptAt(path, pos, why);
  out->torn = true;
  return Status::Ok();
}

}  // namespace cairn::wal
