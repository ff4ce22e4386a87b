// The on-disk schema of the MVCC store and its revision encoding: the single place
// where both are pinned. Changing anything here is an on-disk format change.
//
// Revisions (as etcd defines them): every write request/txn that changes something gets
// one main revision (current + 1); its individual writes get sub revisions 0, 1, 2, ...
// in execution order. A request that writes nothing keeps the revision. An empty store
// is at revision 1, so the first write is revision 2. A revision is stored as two
// INTEGER columns (main, sub) rather than one packed integer because a single
// DeleteRange may write an unbounded number of subs.
//
// Tables
//   kv_history  every revision of every key, keyed (key, main, sub); a deletion is a
//               tombstone row (version = 0, create_rev = 0, lease = 0, value = x'').
//               Rows are removed only by compaction.
//   kv_live     the live keys at the current revision (a denormalised copy of the newest
//               non-tombstone history row of each key) so current reads, counts and
//               sorted/limited ranges are one index range scan.
//   store_state one row: applied Raft index, current/compact revision, and the cursor of
//               the physical compaction in progress. Written once per batch.
//   meta        free-form name -> value settings (cluster/member ids, ...).
//   leases      granted leases: id, granted TTL and the last checkpointed remaining TTL
//               in seconds (0 = never checkpointed). Attached keys are not stored here:
//               kv_live.lease is the source of truth, scanned once at start-up.
// Keys and values are always bound as BLOBs, so key order is memcmp order (etcd's).
//
// Crash behaviour: every apply batch is one SQLite transaction that writes the data and
// store_state.applied_index together. With journal_mode=WAL + synchronous=NORMAL a
// crash may lose the newest committed batches but never leaves a partial one: after
// restart the store is exactly the state after some batch <= the last commit, and its
// applied_index says which Raft entries to replay from Cairn's WAL. Store::Checkpoint()
// makes everything committed durable before the driver releases WAL segments.
#pragma once

#include <cstdint>

namespace cairn::mvcc::schema {

inline constexpr int64_t kSchemaVersion = 1;

// Revision of an empty store (etcd: the first write gets revision 2).
inline constexpr int64_t kInitialRevision = 1;

inline constexpr const char* kCreateSql = R"sql(
CREATE TABLE IF NOT EXISTS kv_history (
  key        BLOB    NOT NULL,
  main       INTEGER NOT NULL,
  sub        INTEGER NOT NULL,
  create_rev INTEGER NOT NULL,
  version    INTEGER NOT NULL,
  lease      INTEGER NOT NULL,
  value      BLOB    NOT NULL,
  PRIMARY KEY (key, main, sub)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv_live (
  key        BLOB    NOT NULL PRIMARY KEY,
  create_rev INTEGER NOT NULL,
  mod_rev    INTEGER NOT NULL,
  version    INTEGER NOT NULL,
  lease      INTEGER NOT NULL,
  value      BLOB    NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS store_state (
  id                  INTEGER PRIMARY KEY CHECK (id = 0),
  schema_version      INTEGER NOT NULL,
  applied_index       INTEGER NOT NULL,
  current_rev         INTEGER NOT NULL,
  compact_rev         INTEGER NOT NULL,
  compact_pending_rev INTEGER NOT NULL,
  compact_cursor_key  BLOB    NOT NULL,
  compact_cursor_main INTEGER NOT NULL,
  compact_cursor_sub  INTEGER NOT NULL
);
INSERT OR IGNORE INTO store_state VALUES (0, 1, 0, 1, 0, 0, x'', 0, 0);
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT NOT NULL PRIMARY KEY,
  value
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
  id             INTEGER NOT NULL PRIMARY KEY,
  ttl            INTEGER NOT NULL,
  remaining_ttl  INTEGER NOT NULL
);
)sql";

// Columns of a kv as every read statement returns them, in this order.
enum KvColumn : int { kColKey = 0, kColCreate, kColMod, kColVersion, kColLease, kColValue };

}  // namespace cairn::mvcc::schema
