// Store::CopyTo / ReplaceWith: the snapshot a lagging member receives and installs.
#include <gtest/gtest.h>

#include <thread>

#include "server/mvcc/tests/store_fixture.h"

namespace cairn::mvcc {
namespace {

using testing::StoreTest;

class SnapshotCopyTest : public StoreTest {
 protected:
  std::string Get(Store& s, const std::string& key, int64_t rev = 0) {
    etcdserverpb::RangeRequest req;
    req.set_key(key);
    req.set_revision(rev);
    etcdserverpb::RangeResponse resp;
    EXPECT_TRUE(s.Range(req, &resp).ok());
    return resp.kvs_size() == 0 ? "<none>" : resp.kvs(0).value();
  }
};

TEST_F(SnapshotCopyTest, CopyCarriesHistoryAppliedIndexAndMeta) {
  Put("a", "1");
  Put("a", "2");
  {
    ApplyBatch b(*store_);
    b.SetMeta("membership", "members-blob");
    b.Commit(store_->AppliedIndex() + 1);
  }
  const std::string path = (dir_ / "copy.db").string();
  auto info = store_->CopyTo(path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->applied_index, store_->AppliedIndex());
  EXPECT_EQ(info->meta.at("membership"), "members-blob");
  // Later writes do not reach the copy.
  Put("a", "3");
  EXPECT_FALSE(store_->CopyTo(path).ok()) << "copying over an existing file must fail";

  auto other = Store::Open({.path = (dir_ / "other.db").string()});
  ASSERT_TRUE(other.ok());
  Store& target = **other;
  {
    ApplyBatch b(target);
    WriteTxn w(b);
    etcdserverpb::PutRequest req;
    req.set_key("stale");
    req.set_value("x");
    ASSERT_TRUE(w.Put(req, nullptr).ok());
    w.Commit();
    b.Commit(1);
  }
  ASSERT_TRUE(target.ReplaceWith(path).ok());
  EXPECT_EQ(target.AppliedIndex(), info->applied_index);
  EXPECT_EQ(target.CurrentRevision(), 3);
  EXPECT_EQ(Get(target, "a"), "2");
  EXPECT_EQ(Get(target, "a", 2), "1");  // history came along
  EXPECT_EQ(Get(target, "stale"), "<none>");
  EXPECT_FALSE(std::filesystem::exists(path)) << "the copy is moved into place";
  // The replaced store keeps working and survives a reopen.
  {
    ApplyBatch b(target);
    WriteTxn w(b);
    etcdserverpb::PutRequest req;
    req.set_key("after");
    req.set_value("y");
    ASSERT_TRUE(w.Put(req, nullptr).ok());
    w.Commit();
    b.Commit(info->applied_index + 1);
  }
  other->reset();
  auto reopened = Store::Open({.path = (dir_ / "other.db").string()});
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(Get(**reopened, "after"), "y");
  EXPECT_EQ(Get(**reopened, "a"), "2");
  EXPECT_EQ((*reopened)->AppliedIndex(), info->applied_index + 1);
}

TEST_F(SnapshotCopyTest, ReadersDuringReplacementSeeOldOrNewContents) {
  Put("k", "old");
  const std::string path = (dir_ / "snap.db").string();
  ASSERT_TRUE(store_->CopyTo(path).ok());
  Put("k", "newer-than-copy");
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop) {
      const std::string v = Get(*store_, "k");
      if (v != "old" && v != "newer-than-copy") ++bad;
    }
  });
  ASSERT_TRUE(store_->ReplaceWith(path).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(Get(*store_, "k"), "old");
}

TEST_F(SnapshotCopyTest, ReplacingWithAMissingFileFails) {
  EXPECT_FALSE(store_->ReplaceWith((dir_ / "nope.db").string()).ok());
}

}  // namespace
}  // namespace cairn::mvcc
