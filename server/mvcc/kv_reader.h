// KvReader: the read algorithms of the store, bound to one SQLite connection (whose
// prepared statements it caches) and the store's key index. Used by read-pool
// connections (inside a read snapshot) and by the apply connection (inside the open
// batch, so reads see the batch's uncommitted writes).
//
// Range semantics (etcd's): range_end empty = the single key; "\0" = every key >= key;
// otherwise [key, range_end). The key index yields the keys live at the read revision
// with their create/mod revision, version and lease, so counts, filters, keys_only and
// every sort except by value need no SQLite read; values are then fetched by revision
// for the rows that reach the response. `count` is the number of live keys in the
// range, regardless of limit and filters; `more` is set when rows passing the filters
// exceed limit.
//
// Thread-safety: none; the owner of the connection serialises use.
#pragma once

#include <sqlite3.h>

#include <cstdint>

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/common/status.h"
#include "server/mvcc/key_index.h"
#include "server/mvcc/sqlite.h"
#include "server/mvcc/store_state.h"

namespace cairn::mvcc {

// Result of HashKV: a CRC32C over the visible history up to hash_revision.
struct KvHash {
  uint32_t hash = 0;
  int64_t compact_revision = 0;
  int64_t hash_revision = 0;
};

class KvReader {
 public:
  // REQUIRES: index outlives the reader.
  KvReader(sqlite3* db, const KeyIndex* index);

  // REQUIRES: inside a transaction on this connection (so state and data agree).
  StoreState ReadState();

  // `current` is the revision "latest" means (the snapshot's); `compact` the
  // snapshot's compacted revision.
  Status Range(const etcdserverpb::RangeRequest& req, int64_t current, int64_t compact,
               etcdserverpb::RangeResponse* out);

  // Hash, in revision order, of every row <= rev that survives the compaction the key
  // index has applied, whether or not its physical deletion has run yet, so members
  // agree mid-compaction.
  Result<KvHash> HashKV(int64_t rev, int64_t current);

  // The value of the row at revision (main, sub). REQUIRES: the row exists in what this
  // connection sees (every revision the key index holds at or below its snapshot does).
  std::string ValueAt(int64_t main, int64_t sub);

 private:

  sqlite3* db_;
  const KeyIndex* index_;
  Stmt state_;
  Stmt value_;
  Stmt hash_;
};

}  // namespace cairn::mvcc
