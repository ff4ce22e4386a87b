#include "server/mvcc/sqlite.h"

#include <string>

#include "server/common/status.h"

namespace cairn::mvcc {

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = o.db_;
    o.db_ = nullptr;
  }
  return *this;
}

Db::~Db() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

int Db::TryExec(std::string_view sql) {
  return sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, nullptr);
}

void Db::Exec(std::string_view sql) {
  if (TryExec(sql) != SQLITE_OK) {
    Panic("sqlite exec failed: " + std::string(sqlite3_errmsg(db_)) + " in: " + std::string(sql));
  }
}

Stmt::Stmt(sqlite3* db, std::string_view sql) {
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &s_, nullptr) != SQLITE_OK) {
    Panic("sqlite prepare failed: " + std::string(sqlite3_errmsg(db)) + " in: " + std::string(sql));
  }
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

bool Query::Next() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Panic("sqlite step failed: " + std::string(sqlite3_errmsg(sqlite3_db_handle(s_))) + " in: " +
        sqlite3_sql(s_));
}

}  // namespace cairn::mvcc
