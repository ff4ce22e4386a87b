// Put / DeleteRange / Compaction / Range through the applier: headers, prev_kv,
// ignore_value/ignore_lease, leases (NoLeases and a fake), errors.
#include <gtest/gtest.h>

#include "server/apply/tests/applier_fixture.h"

namespace cairn::apply::testing {
namespace {

using KvTest = ApplierTest;

TEST_F(KvTest, PutReturnsRevisionAndPrevKv) {
  auto r = DoPut(P("k", "v1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->header().revision(), 2);
  auto p = P("k", "v2");
  p.set_prev_kv(true);
  r = DoPut(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->header().revision(), 3);
  EXPECT_EQ(r->prev_kv().value(), "v1");
  p = P("new", "x");
  p.set_prev_kv(true);
  r = DoPut(p);
  EXPECT_FALSE(r->has_prev_kv());
}

TEST_F(KvTest, IgnoreValueAndLease) {
  auto p = P("k", "");
  p.set_ignore_value(true);
  EXPECT_EQ(DoPut(p).status(), Status::InvalidArgument("etcdserver: key not found"));
  EXPECT_EQ(store_->CurrentRevision(), 1);
  auto base = P("k", "keep");
  base.set_lease(7);
  ASSERT_TRUE(DoPut(base).ok());
  auto q = P("k", "");
  q.set_ignore_value(true);
  q.set_ignore_lease(true);
  ASSERT_TRUE(DoPut(q).ok());
  auto got = applier_->Range(Req("k"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->kvs(0).value(), "keep");
  EXPECT_EQ(got->kvs(0).lease(), 7);
  EXPECT_EQ(got->kvs(0).version(), 2);
  EXPECT_EQ(leases_.log, "+7k");
}

TEST_F(KvTest, PutWithUnknownLeaseFailsWithoutWriting) {
  NoLeases none;
  Applier a(*store_, none);
  auto p = P("k", "v");
  p.set_lease(7);
  cairnpb::RaftRequest req;
  *req.mutable_put() = p;
  mvcc::ApplyBatch b(*store_);
  auto r = a.Apply(b, req);
  b.Commit(1);
  EXPECT_EQ(r.status(), Status::NotFound("etcdserver: requested lease not found"));
  EXPECT_EQ(store_->CurrentRevision(), 1);
  EXPECT_EQ(Range(Req("k")).kvs_size(), 0);
}

TEST_F(KvTest, LeaseDetachOnOverwriteAndDelete) {
  auto p = P("k", "v");
  p.set_lease(7);
  ASSERT_TRUE(DoPut(p).ok());
  ASSERT_TRUE(DoPut(P("k", "v2")).ok());
  ASSERT_TRUE(DoPut(p).ok());
  cairnpb::RaftRequest del;
  del.mutable_delete_range()->set_key("k");
  ASSERT_TRUE(Apply(del).ok());
  EXPECT_EQ(leases_.log, "+7k-7k+7k-7k");
}

TEST_F(KvTest, DeleteRangeCountsAndPrevKvs) {
  ASSERT_TRUE(DoPut(P("a", "1")).ok());
  ASSERT_TRUE(DoPut(P("b", "2")).ok());
  ASSERT_TRUE(DoPut(P("c", "3")).ok());
  cairnpb::RaftRequest req;
  req.mutable_delete_range()->set_key("a");
  req.mutable_delete_range()->set_range_end("c");
  req.mutable_delete_range()->set_prev_kv(true);
  auto r = Apply(req);
  ASSERT_TRUE(r.ok());
  const auto& d = std::get<etcdserverpb::DeleteRangeResponse>(*r);
  EXPECT_EQ(d.deleted(), 2);
  ASSERT_EQ(d.prev_kvs_size(), 2);
  EXPECT_EQ(d.prev_kvs(1).value(), "2");
  EXPECT_EQ(d.header().revision(), 5);
  r = Apply(req);  // nothing left: no revision bump
  EXPECT_EQ(std::get<etcdserverpb::DeleteRangeResponse>(*r).deleted(), 0);
  EXPECT_EQ(std::get<etcdserverpb::DeleteRangeResponse>(*r).header().revision(), 5);
}

TEST_F(KvTest, CompactionAndRangeErrors) {
  ASSERT_TRUE(DoPut(P("a", "1")).ok());
  ASSERT_TRUE(DoPut(P("a", "2")).ok());
  cairnpb::RaftRequest c;
  c.mutable_compaction()->set_revision(3);
  auto r = Apply(c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<etcdserverpb::CompactionResponse>(*r).header().revision(), 3);
  EXPECT_EQ(Apply(c).status(),
            Status::OutOfRange("etcdserver: mvcc: required revision has been compacted"));
  EXPECT_EQ(applier_->Range(Req("a", "", 2)).status(),
            Status::OutOfRange("etcdserver: mvcc: required revision has been compacted"));
  EXPECT_EQ(applier_->Range(Req("a", "", 4)).status(),
            Status::OutOfRange("etcdserver: mvcc: required revision is a future revision"));
}

}  // namespace
}  // namespace cairn::apply::testing
