#include "server/mvcc/write_stmts.h"

namespace cairn::mvcc {

WriteStmts::WriteStmts(sqlite3* db)
    : begin(db, "BEGIN IMMEDIATE"),
      commit(db, "COMMIT"),
      rollback(db, "ROLLBACK"),
      savepoint(db, "SAVEPOINT request"),
      release(db, "RELEASE request"),
      rollback_to(db, "ROLLBACK TO request"),
      live_get(db,
               "SELECT key, create_rev, mod_rev, version, lease, value FROM kv_live WHERE key = ?1"),
      live_put(db, "INSERT OR REPLACE INTO kv_live VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
      live_del(db, "DELETE FROM kv_live WHERE key = ?1"),
      hist_put(db, "INSERT INTO kv_history VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
      live_scan{Stmt(db,
                     "SELECT key, create_rev, mod_rev, version, lease, value FROM kv_live "
                     "WHERE key >= ?1 ORDER BY key"),
                Stmt(db,
                     "SELECT key, create_rev, mod_rev, version, lease, value FROM kv_live "
                     "WHERE key >= ?1 AND key < ?2 ORDER BY key")},
      state_put(db,
                "UPDATE store_state SET applied_index = ?1, current_rev = ?2, compact_rev = ?3, "
                "compact_pending_rev = ?4, compact_cursor_key = ?5, compact_cursor_main = ?6, "
                "compact_cursor_sub = ?7 WHERE id = 0"),
      compact_scan(db,
                   "SELECT key, main, sub, version FROM kv_history "
                   "WHERE (key, main, sub) >= (?1, ?2, ?3) ORDER BY key, main, sub LIMIT ?4"),
      hist_del(db, "DELETE FROM kv_history WHERE key = ?1 AND main = ?2 AND sub = ?3"),
      meta_put(db, "INSERT OR REPLACE INTO meta VALUES (?1, ?2)"),
      lease_put(db, "INSERT OR REPLACE INTO leases VALUES (?1, ?2, ?3)"),
      lease_del(db, "DELETE FROM leases WHERE id = ?1") {}

}  // namespace cairn::mvcc
