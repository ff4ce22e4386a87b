// Defragmentation: the file shrinks to what compaction kept, the data and the hash
// stay the same, a reader's open snapshot is unaffected, and it survives reopening.
#include <gtest/gtest.h>

#include <string>

#include "server/mvcc/tests/store_fixture.h"

namespace cairn::mvcc::testing {
namespace {

class DefragmentTest : public StoreTest {};

TEST_F(DefragmentTest, ShrinksToTheKeptRowsAndKeepsDataHashAndReaders) {
  const std::string value(8192, 'v');
  for (int i = 0; i < 300; ++i) Put("k" + std::to_string(i % 10), value);
  const int64_t rev = Put("last", "1");
  ASSERT_TRUE(Compact(rev).ok());
  const int64_t before = store_->DbSizeBytes();
  const auto hash_before = store_->HashKV(0);
  ASSERT_TRUE(hash_before.ok());
  const auto all_before = Range(Req("", std::string(1, '\0')));

  {
    ReadTxn open_reader = store_->BeginRead();
    ASSERT_TRUE(store_->Defragment().ok());
    etcdserverpb::RangeResponse seen_by_reader;
    ASSERT_TRUE(open_reader.Range(Req("", std::string(1, '\0')), &seen_by_reader).ok());
    EXPECT_EQ(seen_by_reader.SerializeAsString(), all_before.SerializeAsString());
  }

  const int64_t after = store_->DbSizeBytes();
  EXPECT_GT(before, 2 * 1024 * 1024);
  EXPECT_LT(after, before / 4) << before << " -> " << after;
  EXPECT_EQ(Range(Req("", std::string(1, '\0'))).SerializeAsString(), all_before.SerializeAsString());
  const auto hash_after = store_->HashKV(0);
  ASSERT_TRUE(hash_after.ok());
  EXPECT_EQ(hash_after->hash, hash_before->hash);

  EXPECT_EQ(Put("next", "2"), rev + 1);
  Reopen();
  EXPECT_EQ(store_->CurrentRevision(), rev + 1);
  EXPECT_EQ(store_->CompactRevision(), rev);
  EXPECT_EQ(Range(Req("k3")).kvs(0).value(), value);
}

}  // namespace
}  // namespace cairn::mvcc::testing
