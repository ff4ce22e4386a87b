// KvReader: the read algorithms of the store, bound to one SQLite connection and
// caching its prepared statements. Used by read-pool connections (inside a read
// snapshot) and by the apply connection (inside the open batch, so reads see the
// batch's uncommitted writes).
//
// Range semantics (etcd's): range_end empty = the single key; "\0" = every key >= key;
// otherwise [key, range_end). Reads at the current revision scan kv_live with the sort,
// the min/max mod/create filters and limit+1 pushed into SQL; historical reads walk the
// distinct keys of kv_history and pick each key's newest row <= revision (two index
// seeks per key). `count` is the number of live keys in the range, regardless of
// limit and filters; `more` is set when rows passing the filters exceed limit.
//
// Thread-safety: none; the owner of the connection serialises use.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/common/status.h"
#include "server/mvcc/key_span.h"
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
  explicit KvReader(sqlite3* db) : db_(db) {}

  // REQUIRES: inside a transaction on this connection (so state and data agree).
  StoreState ReadState();

  // `current` is the revision "latest" means; `compact` the compacted revision.
  Status Range(const etcdserverpb::RangeRequest& req, int64_t current, int64_t compact,
               etcdserverpb::RangeResponse* out);

  // Hash of every kv revision <= rev that survives a compaction at `compact`, whether
  // or not its physical deletion has run yet, so members agree mid-compaction.
  Result<KvHash> HashKV(int64_t rev, int64_t current, int64_t compact);

 private:
  using Span = KeySpan;

  void RangeCurrent(const etcdserverpb::RangeRequest& req, const Span& span,
                    etcdserverpb::RangeResponse* out);
  void RangeHistorical(const etcdserverpb::RangeRequest& req, const Span& span, int64_t rev,
                       etcdserverpb::RangeResponse* out);
  int64_t CountLive(const Span& span);

  const Stmt& Cached(Stmt& slot, const std::string& sql);

  static constexpr int kSortVariants = 10;
  sqlite3* db_;
  Stmt state_;
  std::array<Stmt, 2 * kSortVariants * 2> live_;  // [bounded][sort variant][keys_only]
  std::array<Stmt, 2> count_;                     // [bounded]
  std::array<Stmt, 2> next_key_;                  // [bounded]
  Stmt latest_;
  Stmt hash_;
};

}  // namespace cairn::mvcc
