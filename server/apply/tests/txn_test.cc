// Txn semantics: every compare target x result, missing keys, range compares, nested
// txns, failure branch, reads seeing earlier writes, one revision per txn, atomicity,
// read-only txns off the log.
#include <gtest/gtest.h>

#include "server/apply/tests/applier_fixture.h"

namespace cairn::apply::testing {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RequestOp;
using etcdserverpb::TxnRequest;

class TxnTest : public ApplierTest {
 protected:
  void SetUp() override {
    ApplierTest::SetUp();
    ASSERT_TRUE(DoPut(P("a", "1")).ok());  // 2
    auto p = P("a", "5");
    p.set_lease(7);
    ASSERT_TRUE(DoPut(p).ok());            // 3: a create 2, mod 3, version 2, lease 7
    ASSERT_TRUE(DoPut(P("b", "5")).ok());  // 4
  }
  static Compare Cmp(const std::string& key, Compare::CompareTarget t, Compare::CompareResult r,
                     int64_t n, const std::string& value = "", const std::string& end = "") {
    Compare c;
    c.set_key(key);
    c.set_range_end(end);
    c.set_target(t);
    c.set_result(r);
    switch (t) {
      case Compare::VERSION: c.set_version(n); break;
      case Compare::CREATE: c.set_create_revision(n); break;
      case Compare::MOD: c.set_mod_revision(n); break;
      case Compare::LEASE: c.set_lease(n); break;
      case Compare::VALUE: c.set_value(value); break;
      default: break;
    }
    return c;
  }
  bool Eval(const Compare& c) {
    TxnRequest t;
    *t.add_compare() = c;
    auto r = applier_->TxnReadOnly(t);
    EXPECT_TRUE(r.ok());
    return r->succeeded();
  }
  static RequestOp PutOp(const std::string& k, const std::string& v, int64_t lease = 0) {
    RequestOp op;
    op.mutable_request_put()->set_key(k);
    op.mutable_request_put()->set_value(v);
    op.mutable_request_put()->set_lease(lease);
    return op;
  }
  static RequestOp RangeOp(const std::string& k, const std::string& end = "") {
    RequestOp op;
    op.mutable_request_range()->set_key(k);
    op.mutable_request_range()->set_range_end(end);
    return op;
  }
};

TEST_F(TxnTest, EveryTargetAndResult) {
  struct Case {
    Compare::CompareTarget t;
    int64_t equal;
  };
  for (const Case& c : {Case{Compare::VERSION, 2}, Case{Compare::CREATE, 2}, Case{Compare::MOD, 3},
                        Case{Compare::LEASE, 7}}) {
    SCOPED_TRACE(c.t);
    EXPECT_TRUE(Eval(Cmp("a", c.t, Compare::EQUAL, c.equal)));
    EXPECT_FALSE(Eval(Cmp("a", c.t, Compare::EQUAL, c.equal + 1)));
    EXPECT_TRUE(Eval(Cmp("a", c.t, Compare::NOT_EQUAL, c.equal + 1)));
    EXPECT_FALSE(Eval(Cmp("a", c.t, Compare::NOT_EQUAL, c.equal)));
    EXPECT_TRUE(Eval(Cmp("a", c.t, Compare::GREATER, c.equal - 1)));
    EXPECT_FALSE(Eval(Cmp("a", c.t, Compare::GREATER, c.equal)));
    EXPECT_TRUE(Eval(Cmp("a", c.t, Compare::LESS, c.equal + 1)));
    EXPECT_FALSE(Eval(Cmp("a", c.t, Compare::LESS, c.equal)));
  }
  EXPECT_TRUE(Eval(Cmp("a", Compare::VALUE, Compare::EQUAL, 0, "5")));
  EXPECT_TRUE(Eval(Cmp("a", Compare::VALUE, Compare::NOT_EQUAL, 0, "6")));
  EXPECT_TRUE(Eval(Cmp("a", Compare::VALUE, Compare::GREATER, 0, "4")));
  EXPECT_TRUE(Eval(Cmp("a", Compare::VALUE, Compare::LESS, 0, "6")));
  EXPECT_FALSE(Eval(Cmp("a", Compare::VALUE, Compare::LESS, 0, "5")));
}

TEST_F(TxnTest, MissingKeyIsZeroButNeverMatchesAValue) {
  EXPECT_TRUE(Eval(Cmp("zz", Compare::VERSION, Compare::EQUAL, 0)));
  EXPECT_TRUE(Eval(Cmp("zz", Compare::CREATE, Compare::EQUAL, 0)));
  EXPECT_TRUE(Eval(Cmp("zz", Compare::MOD, Compare::LESS, 1)));
  EXPECT_FALSE(Eval(Cmp("zz", Compare::VALUE, Compare::EQUAL, 0, "")));
  EXPECT_FALSE(Eval(Cmp("zz", Compare::VALUE, Compare::NOT_EQUAL, 0, "x")));
}

TEST_F(TxnTest, RangeCompareNeedsEveryKey) {
  EXPECT_TRUE(Eval(Cmp("a", Compare::VALUE, Compare::EQUAL, 0, "5", "c")));
  EXPECT_FALSE(Eval(Cmp("a", Compare::MOD, Compare::GREATER, 3, "", "c")));
  EXPECT_TRUE(Eval(Cmp("a", Compare::MOD, Compare::GREATER, 1, "", std::string(1, '\0'))));
  EXPECT_TRUE(Eval(Cmp("x", Compare::VERSION, Compare::EQUAL, 0, "", "y")));  // empty range
}

TEST_F(TxnTest, BranchesReadsSeeWritesOneRevision) {
  TxnRequest t;
  *t.add_compare() = Cmp("a", Compare::VALUE, Compare::EQUAL, 0, "5");
  *t.add_success() = PutOp("c", "new");
  *t.add_success() = RangeOp("c");
  *t.add_success() = PutOp("d", "new");
  *t.add_failure() = PutOp("never", "x");
  auto r = DoTxn(t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->succeeded());
  EXPECT_EQ(r->header().revision(), 5);
  ASSERT_EQ(r->responses_size(), 3);
  EXPECT_EQ(r->responses(0).response_put().header().revision(), 5);
  const auto& rr = r->responses(1).response_range();
  ASSERT_EQ(rr.kvs_size(), 1);
  EXPECT_EQ(rr.kvs(0).value(), "new");
  EXPECT_EQ(rr.header().revision(), 5);
  auto d = applier_->Range(Req("d"));
  EXPECT_EQ(d->kvs(0).mod_revision(), 5);

  *t.mutable_compare(0) = Cmp("a", Compare::VALUE, Compare::EQUAL, 0, "nope");
  r = DoTxn(t);
  EXPECT_FALSE(r->succeeded());
  EXPECT_EQ(r->header().revision(), 6);
  EXPECT_EQ(applier_->Range(Req("never"))->kvs_size(), 1);
}

TEST_F(TxnTest, NestedTxn) {
  TxnRequest inner;
  *inner.add_compare() = Cmp("b", Compare::VERSION, Compare::EQUAL, 1);
  *inner.add_success() = PutOp("in", "yes");
  *inner.add_failure() = PutOp("in", "no");
  TxnRequest outer;
  *outer.add_success() = PutOp("out", "1");
  *outer.add_success()->mutable_request_txn() = inner;
  auto r = DoTxn(outer);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->responses_size(), 2);
  EXPECT_TRUE(r->responses(1).response_txn().succeeded());
  EXPECT_EQ(applier_->Range(Req("in"))->kvs(0).value(), "yes");
  EXPECT_EQ(applier_->Range(Req("in"))->kvs(0).mod_revision(), 5);
  EXPECT_EQ(store_->CurrentRevision(), 5);
}

TEST_F(TxnTest, FailingPutLeavesNothing) {
  TxnRequest t;
  *t.add_success() = PutOp("c", "1");
  *t.add_success() = PutOp("d", "1", /*lease=*/99);
  EXPECT_EQ(DoTxn(t).status(), Status::NotFound("etcdserver: requested lease not found"));
  TxnRequest iv;
  *iv.add_success() = PutOp("c", "1");
  *iv.add_success() = PutOp("nokey", "");
  iv.mutable_success(1)->mutable_request_put()->set_ignore_value(true);
  EXPECT_EQ(DoTxn(iv).status(), Status::InvalidArgument("etcdserver: key not found"));
  EXPECT_EQ(store_->CurrentRevision(), 4);
  EXPECT_EQ(applier_->Range(Req("c"))->kvs_size(), 0);
  // The lease of a branch not taken is not checked.
  TxnRequest other;
  *other.add_compare() = Cmp("a", Compare::VERSION, Compare::EQUAL, 99);
  *other.add_success() = PutOp("d", "1", 99);
  *other.add_failure() = PutOp("e", "1");
  EXPECT_TRUE(DoTxn(other).ok());
}

TEST_F(TxnTest, ReadOnlyTxnOffTheLog) {
  TxnRequest t;
  *t.add_compare() = Cmp("a", Compare::VERSION, Compare::GREATER, 0);
  *t.add_success() = RangeOp("a", "z");
  auto r = applier_->TxnReadOnly(t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->header().revision(), 4);
  EXPECT_EQ(r->responses(0).response_range().count(), 2);
  // Through the log a read-only txn does not bump the revision either.
  auto w = DoTxn(t);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->header().revision(), 4);
  EXPECT_EQ(store_->CurrentRevision(), 4);
  TxnRequest writes;
  *writes.add_failure() = PutOp("x", "y");
  EXPECT_FALSE(applier_->TxnReadOnly(writes).ok());
  TxnRequest future;
  *future.add_success() = RangeOp("a");
  future.mutable_success(0)->mutable_request_range()->set_revision(50);
  EXPECT_EQ(applier_->TxnReadOnly(future).status(),
            Status::OutOfRange("etcdserver: mvcc: required revision is a future revision"));
}

}  // namespace
}  // namespace cairn::apply::testing
