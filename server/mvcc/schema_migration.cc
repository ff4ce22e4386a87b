#include "server/mvcc/schema_migration.h"

#include <string>

#include "server/mvcc/schema.h"

namespace cairn::mvcc {
namespace {

int64_t SingleInt(Db& db, const char* sql) {
  const Stmt stmt(db.get(), sql);
  Query q(stmt);
  CAIRN_CHECK(q.Next());
  return q.Int(0);
}

}  // namespace

Status MigrateSchema(Db& db) {
  if (SingleInt(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'store_state'") == 0) {
    return Status::Ok();
  }
  const int64_t version = SingleInt(db, "SELECT schema_version FROM store_state WHERE id = 0");
  if (version == 1) {
    db.Exec("BEGIN IMMEDIATE");
    db.Exec(schema::kCreateRevisionsSql);
    db.Exec(schema::kMigrateV1ToV2Sql);
    db.Exec("COMMIT");
    return Status::Ok();
  }
  if (version != schema::kSchemaVersion) {
    return Status::FailedPrecondition("unsupported mvcc schema version " + std::to_string(version) +
                                      " (this build reads up to " + std::to_string(schema::kSchemaVersion) + ")");
  }
  return Status::Ok();
}

}  // namespace cairn::mvcc
