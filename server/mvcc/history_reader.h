// HistoryReader: the MVCC history as a stream of watch events, read from one ReadTxn
// snapshot. Used by the watch hub to let a watcher that fell behind (or started in the
// past) catch up from storage.
//
// Events are exactly what ApplyBatch::TakeEvents() yields for the same requests: a put
// carries the full kv, a delete carries {key, mod_revision}; prev_kv is the key's
// previous revision when that was not a tombstone. They come in (main, sub) order.
//
// Cost: kv_revisions is keyed by revision, so a read scans the rows from `from` to `to`
// once and skips those outside the key range; the prev_kv of each key's first event
// comes from the key index and one lookup by revision.
//
// Thread-safety: none beyond the ReadTxn's (one thread uses a snapshot at a time).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "etcd/api/mvccpb/kv.pb.h"
#include "server/common/status.h"
#include "server/mvcc/store.h"

namespace cairn::mvcc {

class HistoryReader {
 public:
  // Appends to *out the events of keys in (key, range_end) (etcd's range forms) with
  // from <= main revision <= to, in revision order. Returns OutOfRange (etcd's
  // compacted error) when from <= the snapshot's compact revision, because history at
  // and below it is incomplete (compaction removes tombstones at the compact revision).
  // REQUIRES: from >= 1; to <= txn.Revision().
  static Status Read(ReadTxn& txn, std::string_view key, std::string_view range_end, int64_t from,
                     int64_t to, std::vector<mvccpb::Event>* out);
};

}  // namespace cairn::mvcc
