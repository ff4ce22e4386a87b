#include "server/mvcc/write_stmts.h"

namespace cairn::mvcc {

WriteStmts::WriteStmts(sqlite3* db)
    : begin(db, "BEGIN IMMEDIATE"),
      commit(db, "COMMIT"),
      rollback(db, "ROLLBACK"),
      savepoint(db, "SAVEPOINT request"),
      release(db, "RELEASE request"),
      rollback_to(db, "ROLLBACK TO request"),
      row_put(db, "INSERT INTO kv_revisions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
      state_put(db,
                "UPDATE store_state SET applied_index = ?1, current_rev = ?2, compact_rev = ?3, "
                "compact_pending_rev = ?4, compact_cursor_main = ?5, compact_cursor_sub = ?6 "
                "WHERE id = 0"),
      compact_scan(db,
                   "SELECT main, sub, key FROM kv_revisions "
                   "WHERE (main, sub) >= (?1, ?2) AND main <= ?3 ORDER BY main, sub LIMIT ?4"),
      row_del(db, "DELETE FROM kv_revisions WHERE main = ?1 AND sub = ?2"),
      meta_put(db, "INSERT OR REPLACE INTO meta VALUES (?1, ?2)"),
      lease_put(db, "INSERT OR REPLACE INTO leases VALUES (?1, ?2, ?3)"),
      lease_del(db, "DELETE FROM leases WHERE id = ?1") {}

}  // namespace cairn::mvcc
