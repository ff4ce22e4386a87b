// Concurrent readers while the apply thread writes: every read sees a consistent
// snapshot (all keys of a batch or none) and never goes backwards.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "server/mvcc/tests/store_fixture.h"

namespace cairn::mvcc::testing {
namespace {

using ConcurrencyTest = StoreTest;

TEST_F(ConcurrencyTest, ReadersSeeWholeBatchesAndMonotonicRevisions) {
  constexpr int kBatches = 200;
  constexpr int kKeysPerBatch = 5;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 6; ++t) {
    readers.emplace_back([&] {
      int64_t last_rev = 0;
      while (!stop.load()) {
        auto req = Req("k", "l");
        req.set_count_only(true);
        etcdserverpb::RangeResponse resp;
        if (!store_->Range(req, &resp).ok()) ++failures;
        const int64_t rev = resp.header().revision();
        // Each batch writes kKeysPerBatch new keys in one revision.
        if (resp.count() != (rev - 1) * kKeysPerBatch) ++failures;
        if (rev < last_rev) ++failures;
        last_rev = rev;
        if (rev > 1) {
          etcdserverpb::RangeResponse old;
          if (!store_->Range(Req("k", "l", rev - 1), &old).ok()) ++failures;
        }
      }
    });
  }
  for (int i = 0; i < kBatches; ++i) {
    ApplyBatch b(*store_);
    WriteTxn w(b);
    for (int k = 0; k < kKeysPerBatch; ++k) {
      etcdserverpb::PutRequest p;
      p.set_key("k" + std::to_string(i * kKeysPerBatch + k));
      ASSERT_TRUE(w.Put(p, nullptr).ok());
    }
    w.Commit();
    b.Commit(i + 1);
    // A read started after the commit must see it.
    etcdserverpb::RangeResponse resp;
    ASSERT_TRUE(store_->Range(Req("k", "l"), &resp).ok());
    ASSERT_EQ(resp.header().revision(), i + 2);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace cairn::mvcc::testing
