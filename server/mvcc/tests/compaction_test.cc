// Compaction: reads at/above/below the compacted revision, repeated compaction,
// physical removal of tombstones and superseded rows, other keys' history kept.
#include <gtest/gtest.h>

#include "server/mvcc/tests/store_fixture.h"

namespace cairn::mvcc::testing {
namespace {

class CompactionTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    Put("a", "1");  // 2
    Put("a", "2");  // 3
    Put("b", "1");  // 4
    Delete("b");    // 5
    Put("c", "1");  // 6
    Put("a", "3");  // 7
  }
  int64_t HistoryRows() {
    auto r = store_->HashKV(0);
    EXPECT_TRUE(r.ok());
    sqlite3* db = nullptr;
    sqlite3_open_v2((dir_ / "kv.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM kv_revisions", -1, &s, nullptr);
    sqlite3_step(s);
    const int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }
};

TEST_F(CompactionTest, ReadsAtOrAboveStillCorrectBelowFail) {
  const auto before6 = Range(Req("a", "z", 6));
  const auto before5 = Range(Req("a", "z", 5));
  ASSERT_TRUE(Compact(5).ok());
  EXPECT_EQ(store_->CompactRevision(), 5);
  EXPECT_EQ(Range(Req("a", "z", 6)).SerializeAsString(), before6.SerializeAsString());
  EXPECT_EQ(Range(Req("a", "z", 5)).SerializeAsString(), before5.SerializeAsString());
  EXPECT_EQ(Keys(Range(Req("a", "z", 5))), "a");
  EXPECT_EQ(Range(Req("a", "z", 5)).kvs(0).value(), "2");
  etcdserverpb::RangeResponse resp;
  Status s = store_->Range(Req("a", "z", 4), &resp);
  EXPECT_EQ(s, Status::OutOfRange("etcdserver: mvcc: required revision has been compacted"));
}

TEST_F(CompactionTest, CompactingTwiceOrInTheFuture) {
  ASSERT_TRUE(Compact(4).ok());
  EXPECT_EQ(Compact(4), Status::OutOfRange("etcdserver: mvcc: required revision has been compacted"));
  EXPECT_EQ(Compact(3), Status::OutOfRange("etcdserver: mvcc: required revision has been compacted"));
  EXPECT_EQ(Compact(8),
            Status::OutOfRange("etcdserver: mvcc: required revision is a future revision"));
  EXPECT_TRUE(Compact(7).ok());
  EXPECT_EQ(Keys(Range(Req("a", "z", 7))), "a,c");
}

TEST_F(CompactionTest, RemovesSupersededRowsAndTombstones) {
  EXPECT_EQ(HistoryRows(), 6);
  ASSERT_TRUE(Compact(6).ok());
  EXPECT_FALSE(store_->CompactionPending());
  // Kept: a@3 (newest a <= 6), a@7, c@6. Gone: a@2, b@4, b's tombstone @5.
  EXPECT_EQ(HistoryRows(), 3);
  EXPECT_EQ(Range(Req("a", "", 6)).kvs(0).value(), "2");
  EXPECT_EQ(Range(Req("a")).kvs(0).value(), "3");
}

TEST_F(CompactionTest, HashIsStableAcrossPhysicalDeletion) {
  ApplyBatch b(*store_);
  ASSERT_TRUE(b.Compact(6).ok());
  b.Commit(100);
  EXPECT_TRUE(store_->CompactionPending());
  auto logical = store_->HashKV(7);
  ASSERT_TRUE(logical.ok());
  {
    ApplyBatch b2(*store_);
    while (b2.CompactStep(1)) {
    }
    b2.Commit(101);
  }
  auto physical = store_->HashKV(7);
  ASSERT_TRUE(physical.ok());
  EXPECT_EQ(logical->hash, physical->hash);
  EXPECT_EQ(physical->compact_revision, 6);
  EXPECT_EQ(HistoryRows(), 3);
}

TEST_F(CompactionTest, RestartMidDeletionFinishesWithTheSameResult) {
  {
    ApplyBatch b(*store_);
    ASSERT_TRUE(b.Compact(6).ok());
    b.Commit(100);
  }
  {
    ApplyBatch step(*store_);
    EXPECT_TRUE(step.CompactStep(2));
    step.Commit(100);
  }
  const auto before = store_->HashKV(7);
  ASSERT_TRUE(before.ok());
  Reopen();
  EXPECT_TRUE(store_->CompactionPending());
  const auto reopened = store_->HashKV(7);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->hash, before->hash);
  {
    ApplyBatch step(*store_);
    while (step.CompactStep(2)) {
    }
    step.Commit(101);
  }
  EXPECT_EQ(HistoryRows(), 3);
  EXPECT_EQ(store_->HashKV(7)->hash, before->hash);
  EXPECT_EQ(Range(Req("a", "", 6)).kvs(0).value(), "2");
  EXPECT_EQ(Keys(Range(Req("a", "z", 6))), "a,c");
}

TEST_F(CompactionTest, StepsInTheCompactingBatchItself) {
  ApplyBatch b(*store_);
  ASSERT_TRUE(b.Compact(6).ok());
  EXPECT_FALSE(b.CompactStep(100));
  b.Commit(100);
  EXPECT_EQ(HistoryRows(), 3);
  EXPECT_EQ(Keys(Range(Req("a", "z", 6))), "a,c");
}

}  // namespace
}  // namespace cairn::mvcc::testing
