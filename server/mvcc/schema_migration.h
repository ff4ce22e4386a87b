// MigrateSchema: brings a store file written by an older Cairn to schema::kSchemaVersion
// in place, before the store opens it. Each step is one SQLite transaction, so a crash
// mid-migration leaves the file at the older version, to be migrated again.
// Apply (writer) connection only.
#pragma once

#include "server/common/status.h"
#include "server/mvcc/sqlite.h"

namespace cairn::mvcc {

// A new (empty) file is left alone. Errors: FailedPrecondition for a version this
// build cannot read (a newer Cairn's).
[[nodiscard]] Status MigrateSchema(Db& db);

}  // namespace cairn::mvcc
