// Batches: applied index persists across reopen, uncommitted batches leave nothing,
// meta values persist.
#include <gtest/gtest.h>

#include "server/mvcc/tests/store_fixture.h"

namespace cairn::mvcc::testing {
namespace {

using BatchTest = StoreTest;

TEST_F(BatchTest, AppliedIndexAndDataPersistAcrossReopen) {
  {
    ApplyBatch b(*store_);
    b.SetMeta("cluster_id", "42");
    WriteTxn w(b);
    etcdserverpb::PutRequest p;
    p.set_key("k");
    p.set_value("v");
    ASSERT_TRUE(w.Put(p, nullptr).ok());
    w.Commit();
    b.Commit(17);
  }
  ASSERT_TRUE(store_->Checkpoint().ok());
  Reopen();
  EXPECT_EQ(store_->AppliedIndex(), 17u);
  EXPECT_EQ(store_->CurrentRevision(), 2);
  EXPECT_EQ(Range(Req("k")).kvs(0).value(), "v");
  ReadTxn r = store_->BeginRead();
  EXPECT_EQ(r.GetMeta("cluster_id"), "42");
  EXPECT_EQ(r.GetMeta("member_id"), std::nullopt);
}

TEST_F(BatchTest, UncommittedBatchLeavesNothing) {
  Put("a", "1");
  const uint64_t applied = store_->AppliedIndex();
  {
    ApplyBatch b(*store_);
    WriteTxn w(b);
    etcdserverpb::PutRequest p;
    p.set_key("b");
    ASSERT_TRUE(w.Put(p, nullptr).ok());
    w.Commit();
    ASSERT_TRUE(b.Compact(2).ok());
  }
  EXPECT_EQ(store_->AppliedIndex(), applied);
  EXPECT_EQ(store_->CurrentRevision(), 2);
  EXPECT_EQ(store_->CompactRevision(), 0);
  Reopen();
  EXPECT_EQ(Keys(Range(Req("a", "z"))), "a");
  EXPECT_EQ(store_->CurrentRevision(), 2);
}

TEST_F(BatchTest, SizesAreReported) {
  Put("a", std::string(10000, 'x'));
  EXPECT_GT(store_->DbSizeBytes(), 0);
  EXPECT_LE(store_->DbSizeInUseBytes(), store_->DbSizeBytes());
}

}  // namespace
}  // namespace cairn::mvcc::testing
