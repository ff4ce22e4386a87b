// ScanSegment: validates one segment image and applies the torn-tail rule of format.h.
//
// Pure: reads nothing but the bytes it is given and changes nothing on disk, so a failed
// recovery can leave every file untouched. Thread-safety: no shared state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "server/wal/record.h"

namespace cairn::wal {

struct SegmentScan {
  SegmentHeader header;
  std::vector<RecordView> records;  // Valid records in file order; views into the image.
  uint64_t end = 0;                 // Offset just past the last valid record.
  bool torn = false;                // Non-zero bytes after `end` must be truncated away.
};

// `last`: whether this is the newest segment, the only one allowed a torn tail.
// Returns DataLoss naming `path` and the byte offset on a bad header or corruption.
Status ScanSegment(const std::string& path, std::string_view image, bool last, SegmentScan* out);

// "wal: corrupt record in <path> at offset <offset>: <why>"
Status CorruptAt(const std::string& path, uint64_t offset, std::string_view why);

}  // namespace cairn::wal
