// SQLite's WAL is checkpointed in the background, off the apply thread, and so stays
// bounded under a steady stream of batches.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "server/mvcc/apply_batch.h"
#include "server/mvcc/store.h"

namespace cairn::mvcc {
namespace {

TEST(CheckpointTest, BackgroundCheckpointsKeepSqliteWalBounded) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("cairn-ckpt-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "kv.db").string();
  {
    auto store = Store::Open({.path = path, .wal_autocheckpoint_pages = 100});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const std::string value(4096, 'v');
    uint64_t index = 0;
    for (int batch = 0; batch < 300; ++batch) {
      ApplyBatch b(**store);
      for (int i = 0; i < 10; ++i) {
        WriteTxn w(b);
        etcdserverpb::PutRequest p;
        p.set_key("key" + std::to_string(i));
        p.set_value(value);
        ASSERT_TRUE(w.Put(p, nullptr).ok());
        w.Commit();
      }
      b.Commit(++index);
    }
    for (int i = 0; i < 500 && (*store)->BackgroundCheckpoints() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GT((*store)->BackgroundCheckpoints(), 0);
    // Over 24 MB reach the WAL (history and live rows): without checkpoints (which let
    // SQLite restart its WAL) it would hold all of it; the writer's backpressure bounds
    // it near 8 x 100 pages even when the background thread falls behind.
    EXPECT_LT(std::filesystem::file_size(path + "-wal"), 8u << 20);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::mvcc
