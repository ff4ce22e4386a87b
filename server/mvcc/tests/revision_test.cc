// Revisions: main/sub numbering, no-op writes keep the revision, events per revision.
#include <gtest/gtest.h>

#include "server/mvcc/tests/store_fixture.h"

namespace cairn::mvcc::testing {
namespace {

using RevisionTest = StoreTest;

TEST_F(RevisionTest, EmptyStoreIsAtOneAndFirstPutGetsTwo) {
  EXPECT_EQ(store_->CurrentRevision(), 1);
  EXPECT_EQ(Put("a", "1"), 2);
  EXPECT_EQ(store_->CurrentRevision(), 2);
}

TEST_F(RevisionTest, VersionsAndCreateRevisionAcrossDeletes) {
  Put("k", "1");  // 2
  Put("k", "2");  // 3
  Delete("k");    // 4
  Put("k", "3");  // 5
  auto r = Range(Req("k"));
  ASSERT_EQ(r.kvs_size(), 1);
  EXPECT_EQ(r.kvs(0).create_revision(), 5);
  EXPECT_EQ(r.kvs(0).version(), 1);
  r = Range(Req("k", "", 3));
  EXPECT_EQ(r.kvs(0).create_revision(), 2);
  EXPECT_EQ(r.kvs(0).version(), 2);
  EXPECT_EQ(Range(Req("k", "", 4)).kvs_size(), 0);
}

TEST_F(RevisionTest, NoOpWritesDoNotBumpRevision) {
  Put("a", "1");
  EXPECT_EQ(Delete("zzz"), 0);
  EXPECT_EQ(store_->CurrentRevision(), 2);
  ApplyBatch b(*store_);
  {
    WriteTxn w(b);
    etcdserverpb::RangeResponse resp;
    ASSERT_TRUE(w.Range(Req("a"), &resp).ok());
    EXPECT_EQ(w.Commit(), 2);
  }
  b.Commit(9);
  EXPECT_EQ(store_->CurrentRevision(), 2);
}

TEST_F(RevisionTest, SubRevisionsWithinOneRequestAndReadsSeeOwnWrites) {
  Put("x1", "a");
  Put("x2", "b");
  ApplyBatch b(*store_);
  b.EnableEvents();
  {
    WriteTxn w(b);
    etcdserverpb::PutRequest p;
    p.set_key("y");
    p.set_value("v");
    ASSERT_TRUE(w.Put(p, nullptr).ok());
    etcdserverpb::RangeResponse resp;
    ASSERT_TRUE(w.Range(Req("y"), &resp).ok());
    ASSERT_EQ(resp.kvs_size(), 1);
    EXPECT_EQ(resp.header().revision(), 4);
    const DeleteResult d = w.DeleteRange("x", "y", nullptr);
    EXPECT_EQ(d.deleted, 2);
    EXPECT_EQ(w.Commit(), 4);
  }
  b.Commit(5);
  auto events = b.TakeEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type(), mvccpb::Event::PUT);
  EXPECT_EQ(events[0].kv().mod_revision(), 4);
  EXPECT_FALSE(events[0].has_prev_kv());
  EXPECT_EQ(events[1].type(), mvccpb::Event::DELETE);
  EXPECT_EQ(events[1].kv().key(), "x1");
  EXPECT_EQ(events[1].kv().mod_revision(), 4);
  EXPECT_EQ(events[1].prev_kv().value(), "a");
  EXPECT_EQ(events[2].prev_kv().key(), "x2");
  EXPECT_EQ(store_->CurrentRevision(), 4);
}

TEST_F(RevisionTest, RolledBackRequestLeavesNothingAndKeepsRevision) {
  Put("a", "1");
  ApplyBatch b(*store_);
  b.EnableEvents();
  {
    WriteTxn w(b);
    etcdserverpb::PutRequest p;
    p.set_key("b");
    ASSERT_TRUE(w.Put(p, nullptr).ok());
    // destroyed without Commit(): rolled back
  }
  {
    WriteTxn w(b);
    etcdserverpb::PutRequest p;
    p.set_key("c");
    ASSERT_TRUE(w.Put(p, nullptr).ok());
    EXPECT_EQ(w.Commit(), 3);
  }
  b.Commit(7);
  EXPECT_EQ(b.TakeEvents().size(), 1u);
  EXPECT_EQ(Keys(Range(Req("a", "z"))), "a,c");
}

TEST_F(RevisionTest, IgnoreValueOnMissingKeyFailsWithoutWriting) {
  ApplyBatch b(*store_);
  WriteTxn w(b);
  etcdserverpb::PutRequest p;
  p.set_key("nope");
  p.set_ignore_value(true);
  auto r = w.Put(p, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status(), Status::InvalidArgument("etcdserver: key not found"));
}

}  // namespace
}  // namespace cairn::mvcc::testing
