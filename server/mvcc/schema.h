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
//   kv_revisions every revision of every key, keyed (main, sub), so writes only ever
//               append at the end of the table (etcd's layout): a batch of puts dirties
//               a handful of pages however random its keys. A deletion is a tombstone
//               row (version = 0, create_rev = 0, lease = 0, value = x''). Rows are
//               removed only by compaction. Which revision of a key is visible at a
//               revision is answered by the in-memory KeyIndex (key_index.h), rebuilt
//               from this table at start-up.
//   store_state one row: applied Raft index, current/compact revision, and the cursor of
//               the physical compaction in progress. Written once per batch.
//   meta        free-form name -> value settings (cluster/member ids, ...).
//   leases      granted leases: id, granted TTL and the last checkpointed remaining TTL
//               in seconds (0 = never checkpointed). Attached keys are not stored here:
//               the lease column of each key's newest revision is the source of truth.
// Keys and values are always bound as BLOBs, so key order is memcmp order (etcd's).
//
// Crash behaviour: every apply batch is one SQLite transaction that writes the data and
// store_state.applied_index together. With journal_mode=WAL + synchronous=NORMAL a
// crash may lose the newest committed batches but never leaves a partial one: after
// restart the store is exactly the state after some batch <= the last commit, and its
// applied_index says which Raft entries to replay from Cairn's WAL. Store::Checkpoint()
// makes everything committed durable before the driver releases WAL segments.
//
// Version history: 1 kept kv_history keyed (key, main, sub) plus a kv_live copy of the
// live keys; both took a random B-tree insert per write. Version 1 stores are migrated
// in place at open (kMigrateV1ToV2, one transaction: a crash leaves version 1 intact).
#pragma once

#include <cstdint>

namespace cairn::mvcc::schema {

inline constexpr int64_t kSchemaVersion = 2;

// Revision of an empty store (etcd: the first write gets revision 2).
inline constexpr int64_t kInitialRevision = 1;

inline constexpr const char* kCreateRevisionsSql = R"sql(
CREATE TABLE IF NOT EXISTS kv_revisions (
  main       INTEGER NOT NULL,
  sub        INTEGER NOT NULL,
  key        BLOB    NOT NULL,
  create_rev INTEGER NOT NULL,
  version    INTEGER NOT NULL,
  lease      INTEGER NOT NULL,
  value      BLOB    NOT NULL,
  PRIMARY KEY (main, sub)
) WITHOUT ROWID;
)sql";

// Every other table; run after kCreateRevisionsSql.
inline constexpr const char* kCreateSql = R"sql(
CREATE TABLE IF NOT EXISTS store_state (
  id                  INTEGER PRIMARY KEY CHECK (id = 0),
  schema_version      INTEGER NOT NULL,
  applied_index       INTEGER NOT NULL,
  current_rev         INTEGER NOT NULL,
  compact_rev         INTEGER NOT NULL,
  compact_pending_rev INTEGER NOT NULL,
  compact_cursor_main INTEGER NOT NULL,
  compact_cursor_sub  INTEGER NOT NULL
);
INSERT OR IGNORE INTO store_state VALUES (0, 2, 0, 1, 0, 0, 0, 0);
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

// Version 1 -> 2, run after kCreateRevisionsSql in the same transaction. A pending
// physical compaction restarts its scan from the start.
inline constexpr const char* kMigrateV1ToV2Sql = R"sql(
INSERT INTO kv_revisions SELECT main, sub, key, create_rev, version, lease, value FROM kv_history;
DROP TABLE kv_history;
DROP TABLE kv_live;
ALTER TABLE store_state DROP COLUMN compact_cursor_key;
UPDATE store_state SET schema_version = 2, compact_cursor_main = 0, compact_cursor_sub = 0;
)sql";

// Columns of a kv_revisions row as every read statement returns them, in this order.
enum RowColumn : int { kColMain = 0, kColSub, kColKey, kColCreate, kColVersion, kColLease, kColValue };
inline constexpr const char* kRowColumns = "main, sub, key, create_rev, version, lease, value";

}  // namespace cairn::mvcc::schema
