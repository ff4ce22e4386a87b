// IndexedRevision: one revision of one key as the key index (key_index.h) holds it:
// where its row is (main, sub) and the metadata reads and writes need without fetching
// the row. A plain value; a tombstone has version 0.
#pragma once

#include <cstdint>

namespace cairn::mvcc {

struct IndexedRevision {
  int64_t main = 0;
  int64_t sub = 0;
  int64_t create_rev = 0;  // 0 for a tombstone
  int64_t version = 0;     // 0 for a tombstone
  int64_t lease = 0;

  bool tombstone() const { return version == 0; }
};

}  // namespace cairn::mvcc
