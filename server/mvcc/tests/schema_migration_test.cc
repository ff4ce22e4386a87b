// Schema migration: a store written in format version 1 (kv_history keyed by key plus
// kv_live, pinned below exactly as version 1 created it) opens with its history, state
// and pending compaction intact; a version this build does not know is refused and the
// file is left alone.
#include <gtest/gtest.h>

#include "server/mvcc/errors.h"
#include "server/mvcc/tests/store_fixture.h"

namespace cairn::mvcc::testing {
namespace {

constexpr const char* kVersion1Store = R"sql(
CREATE TABLE kv_history (
  key BLOB NOT NULL, main INTEGER NOT NULL, sub INTEGER NOT NULL, create_rev INTEGER NOT NULL,
  version INTEGER NOT NULL, lease INTEGER NOT NULL, value BLOB NOT NULL,
  PRIMARY KEY (key, main, sub)) WITHOUT ROWID;
CREATE TABLE kv_live (
  key BLOB NOT NULL PRIMARY KEY, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL,
  version INTEGER NOT NULL, lease INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE store_state (
  id INTEGER PRIMARY KEY CHECK (id = 0), schema_version INTEGER NOT NULL,
  applied_index INTEGER NOT NULL, current_rev INTEGER NOT NULL, compact_rev INTEGER NOT NULL,
  compact_pending_rev INTEGER NOT NULL, compact_cursor_key BLOB NOT NULL,
  compact_cursor_main INTEGER NOT NULL, compact_cursor_sub INTEGER NOT NULL);
CREATE TABLE meta (name TEXT NOT NULL PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE leases (id INTEGER NOT NULL PRIMARY KEY, ttl INTEGER NOT NULL, remaining_ttl INTEGER NOT NULL);
-- a: put@2 "1", put@3 "2"; b: put@4 (lease 7), tombstone@5; c: put@6 (lease 7); a: put@7 "3".
-- Compacted at 3 with the physical deletion pending (a@2 still there), cursor mid-way.
INSERT INTO kv_history VALUES (x'61', 2, 0, 2, 1, 0, x'31'), (x'61', 3, 0, 2, 2, 0, x'32'),
  (x'62', 4, 0, 4, 1, 7, x'31'), (x'62', 5, 0, 0, 0, 0, x''), (x'63', 6, 0, 6, 1, 7, x'31'),
  (x'61', 7, 0, 7, 1, 0, x'33');
INSERT INTO kv_live VALUES (x'61', 7, 7, 1, 0, x'33'), (x'63', 6, 6, 1, 7, x'31');
INSERT INTO store_state VALUES (0, 1, 42, 7, 3, 3, x'61', 3, 0);
INSERT INTO meta VALUES (CAST('cluster_id' AS BLOB), CAST('99' AS BLOB));
INSERT INTO leases VALUES (7, 60, 0);
)sql";

class SchemaMigrationTest : public StoreTest {
 protected:
  void WriteRawStore(const std::string& sql) {
    store_.reset();
    std::filesystem::remove(dir_ / "kv.db");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "kv.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
};

TEST_F(SchemaMigrationTest, Version1StoreOpensWithItsHistoryStateAndPendingCompaction) {
  WriteRawStore(kVersion1Store);
  Reopen();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->AppliedIndex(), 42u);
  EXPECT_EQ(store_->CurrentRevision(), 7);
  EXPECT_EQ(store_->CompactRevision(), 3);
  EXPECT_TRUE(store_->CompactionPending());
  EXPECT_EQ(Keys(Range(Req("a", "z"))), "a,c");
  EXPECT_EQ(Range(Req("a", "", 3)).kvs(0).value(), "2");
  EXPECT_EQ(Range(Req("a", "", 3)).kvs(0).version(), 2);
  EXPECT_EQ(Keys(Range(Req("a", "z", 4))), "a,b");
  EXPECT_EQ(Range(Req("b", "", 4)).kvs(0).lease(), 7);
  etcdserverpb::RangeResponse below;
  EXPECT_EQ(store_->Range(Req("a", "", 2), &below), ErrCompacted());
  const Store::LeaseState leases = store_->LoadLeaseState();
  ASSERT_EQ(leases.leases.size(), 1u);
  const std::vector<std::pair<std::string, int64_t>> leased = {{"c", 7}};
  EXPECT_EQ(leases.leased_keys, leased);
  EXPECT_EQ(store_->BeginRead().GetMeta("cluster_id"), "99");

  // The pending compaction finishes on the new layout, and writes continue.
  {
    ApplyBatch b(*store_);
    while (b.CompactStep(1)) {
    }
    b.Commit(43);
  }
  EXPECT_FALSE(store_->CompactionPending());
  EXPECT_EQ(Put("a", "4"), 8);
  EXPECT_EQ(Range(Req("a")).kvs(0).version(), 2);
  EXPECT_EQ(Range(Req("a", "", 3)).kvs(0).value(), "2");
  Reopen();
  EXPECT_EQ(Keys(Range(Req("a", "z"))), "a,c");
  EXPECT_EQ(Range(Req("a", "", 7)).kvs(0).value(), "3");
}

TEST_F(SchemaMigrationTest, UnknownVersionIsRefusedAndTheFileLeftAlone) {
  WriteRawStore(
      "CREATE TABLE store_state (id INTEGER PRIMARY KEY, schema_version INTEGER NOT NULL);"
      "INSERT INTO store_state VALUES (0, 99);");
  auto s = Store::Open({.path = (dir_ / "kv.db").string()});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().ToString().find("unsupported mvcc schema version 99"), std::string::npos)
      << s.status().ToString();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "kv.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT schema_version FROM store_state", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), 99);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace cairn::mvcc::testing
