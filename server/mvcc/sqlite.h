// Thin RAII wrappers over the SQLite C API used by the MVCC store.
//
// Db owns one connection; Stmt owns one prepared statement; Query is a scoped use of a
// Stmt that resets it on destruction so no statement keeps a read snapshot open by
// accident. Thread-safety: none. A connection (and its statements) is used by one
// thread at a time; the store's owners (apply thread / reader pool) guarantee that.
//
// Error policy: SQL text is ours, so a prepare failure is a bug (Panic). A step failure
// (I/O error, corruption, disk full) leaves the state machine unable to apply the log
// deterministically; like etcd's backend, the store treats it as fatal (Panic) rather
// than returning a half-applied result.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::mvcc {

class Db {
 public:
  Db() = default;
  explicit Db(sqlite3* db) : db_(db) {}
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  sqlite3* get() const { return db_; }
  // Runs one or more statements that return no rows we need. Panics on error.
  void Exec(std::string_view sql);
  // Like Exec but returns the SQLite result code instead of panicking.
  int TryExec(std::string_view sql);

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view sql);
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  sqlite3_stmt* get() const { return s_; }
  bool valid() const { return s_ != nullptr; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// A scoped execution of a Stmt. Blobs are bound without copying (SQLITE_STATIC):
// REQUIRES: bound data outlives the Query.
class Query {
 public:
  explicit Query(const Stmt& s) : s_(s.get()) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() { sqlite3_reset(s_); }

  Query& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  // Always binds a BLOB (never NULL, never TEXT) so comparisons are memcmp order.
  Query& BindBlob(int i, std::string_view v) {
    static const char kEmpty = 0;
    sqlite3_bind_blob64(s_, i, v.empty() ? &kEmpty : v.data(), v.size(), SQLITE_STATIC);
    return *this;
  }
  // Steps once: true if a row is available, false when done. Panics on error.
  bool Next();
  // Steps to completion. Panics on error.
  void Run() {
    while (Next()) {
    }
  }

  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string_view Blob(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    const int n = sqlite3_column_bytes(s_, col);
    return p == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(p), n);
  }

 private:
  sqlite3_stmt* s_;
};

}  // namespace cairn::mvcc
