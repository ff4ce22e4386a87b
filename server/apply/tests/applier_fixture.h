// Test fixture: a fresh Store + Applier; each helper applies one Raft request in its
// own batch. Test-only; not thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/apply/applier.h"
#include "server/mvcc/tests/store_fixture.h"

namespace cairn::apply::testing {

class FakeLeases final : public LeaseView {
 public:
  bool Exists(int64_t id) const override { return id == 7; }
  void Attach(int64_t id, const std::string& key) override { log += "+" + std::to_string(id) + key; }
  void Detach(int64_t id, const std::string& key) override { log += "-" + std::to_string(id) + key; }
  std::string log;
};

class ApplierTest : public mvcc::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    applier_ = std::make_unique<Applier>(*store_, leases_);
  }
  void TearDown() override {
    applier_.reset();
    StoreTest::TearDown();
  }
  Result<Response> Apply(const cairnpb::RaftRequest& req) {
    mvcc::ApplyBatch b(*store_);
    auto r = applier_->Apply(b, req);
    b.Commit(store_->AppliedIndex() + 1);
    return r;
  }
  Result<etcdserverpb::PutResponse> DoPut(const etcdserverpb::PutRequest& p) {
    cairnpb::RaftRequest req;
    *req.mutable_put() = p;
    auto r = Apply(req);
    if (!r.ok()) return r.status();
    return std::get<etcdserverpb::PutResponse>(*r);
  }
  Result<etcdserverpb::TxnResponse> DoTxn(const etcdserverpb::TxnRequest& t) {
    cairnpb::RaftRequest req;
    *req.mutable_txn() = t;
    auto r = Apply(req);
    if (!r.ok()) return r.status();
    return std::get<etcdserverpb::TxnResponse>(*r);
  }
  static etcdserverpb::PutRequest P(const std::string& k, const std::string& v) {
    etcdserverpb::PutRequest p;
    p.set_key(k);
    p.set_value(v);
    return p;
  }

  FakeLeases leases_;
  std::unique_ptr<Applier> applier_;
};

}  // namespace cairn::apply::testing
