// Test fixture: a fresh Store in a temporary directory, plus one-line helpers that
// apply single requests in their own batch. Test-only; not thread-safe.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "server/mvcc/apply_batch.h"
#include "server/mvcc/store.h"

namespace cairn::mvcc::testing {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn_mvcc_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto s = Store::Open({.path = (dir_ / "kv.db").string()});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  // Puts key=value in its own request and batch; returns the resulting revision.
  int64_t Put(const std::string& key, const std::string& value, int64_t lease = 0) {
    ApplyBatch b(*store_);
    WriteTxn w(b);
    etcdserverpb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    req.set_lease(lease);
    auto r = w.Put(req, nullptr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    const int64_t rev = w.Commit();
    b.Commit(store_->AppliedIndex() + 1);
    return rev;
  }
  int64_t Delete(const std::string& key, const std::string& end = "") {
    ApplyBatch b(*store_);
    WriteTxn w(b);
    const DeleteResult d = w.DeleteRange(key, end, nullptr);
    w.Commit();
    b.Commit(store_->AppliedIndex() + 1);
    return d.deleted;
  }
  Status Compact(int64_t rev) {
    Status s;
    {
      ApplyBatch b(*store_);
      s = b.Compact(rev);
      b.Commit(store_->AppliedIndex() + 1);
    }
    ApplyBatch steps(*store_);
    while (steps.CompactStep(3)) {
    }
    steps.Commit(store_->AppliedIndex());
    return s;
  }
  etcdserverpb::RangeResponse Range(etcdserverpb::RangeRequest req) {
    etcdserverpb::RangeResponse resp;
    Status s = store_->Range(req, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }
  static etcdserverpb::RangeRequest Req(const std::string& key, const std::string& end = "",
                                        int64_t rev = 0) {
    etcdserverpb::RangeRequest r;
    r.set_key(key);
    r.set_range_end(end);
    r.set_revision(rev);
    return r;
  }
  static std::string Keys(const etcdserverpb::RangeResponse& r) {
    std::string out;
    for (const auto& kv : r.kvs()) {
      if (!out.empty()) out += ",";
      out += kv.key();
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace cairn::mvcc::testing
