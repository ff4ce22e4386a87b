// WriteStmts: the prepared statements of the apply (writer) connection, prepared once
// at open. Owned by Store, used only on the apply thread.
#pragma once

#include <sqlite3.h>

#include "server/mvcc/sqlite.h"

namespace cairn::mvcc {

struct WriteStmts {
  explicit WriteStmts(sqlite3* db);

  Stmt begin, commit, rollback;
  Stmt savepoint, release, rollback_to;
  Stmt row_put;    // appends one kv_revisions row
  Stmt state_put;
  Stmt compact_scan, row_del;
  Stmt meta_put;
  Stmt lease_put, lease_del;
};

}  // namespace cairn::mvcc
