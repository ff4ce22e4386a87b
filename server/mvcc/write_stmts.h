// WriteStmts: the prepared statements of the apply (writer) connection, prepared once
// at open. Owned by Store, used only on the apply thread.
#pragma once

#include <sqlite3.h>

#include <array>

#include "server/mvcc/sqlite.h"

namespace cairn::mvcc {

struct WriteStmts {
  explicit WriteStmts(sqlite3* db);

  Stmt begin, commit, rollback;
  Stmt savepoint, release, rollback_to;
  Stmt live_get;                     // full row of one live key
  Stmt live_put, live_del, hist_put;
  std::array<Stmt, 2> live_scan;     // [bounded] rows of a key range, key order
  Stmt state_put;
  Stmt compact_scan, hist_del;
  Stmt meta_put;
  Stmt lease_put, lease_del;
};

}  // namespace cairn::mvcc
