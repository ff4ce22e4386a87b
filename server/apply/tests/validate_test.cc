// Pre-proposal validation: empty keys, ignore_* conflicts, txn op limits, duplicate keys.
#include "server/apply/validate.h"

#include <gtest/gtest.h>

namespace cairn::apply {
namespace {

using etcdserverpb::RequestOp;
using etcdserverpb::TxnRequest;

const Status kDup = Status::InvalidArgument("etcdserver: duplicate key given in txn request");
const Status kTooMany = Status::InvalidArgument("etcdserver: too many operations in txn request");

RequestOp PutOp(const std::string& k) {
  RequestOp op;
  op.mutable_request_put()->set_key(k);
  return op;
}
RequestOp DelOp(const std::string& k, const std::string& end = "") {
  RequestOp op;
  op.mutable_request_delete_range()->set_key(k);
  op.mutable_request_delete_range()->set_range_end(end);
  return op;
}
RequestOp TxnOp(const TxnRequest& t) {
  RequestOp op;
  *op.mutable_request_txn() = t;
  return op;
}

TEST(ValidateTest, EmptyKeys) {
  const Status empty = Status::InvalidArgument("etcdserver: key is not provided");
  EXPECT_EQ(ValidatePut({}), empty);
  EXPECT_EQ(ValidateRange({}), empty);
  EXPECT_EQ(ValidateDeleteRange({}), empty);
  TxnRequest t;
  t.add_compare();
  EXPECT_EQ(ValidateTxn(t), empty);
  TxnRequest t2;
  *t2.add_failure() = PutOp("");
  EXPECT_EQ(ValidateTxn(t2), empty);
}

TEST(ValidateTest, IgnoreFlags) {
  etcdserverpb::PutRequest p;
  p.set_key("k");
  p.set_ignore_value(true);
  EXPECT_TRUE(ValidatePut(p).ok());
  p.set_value("v");
  EXPECT_EQ(ValidatePut(p), Status::InvalidArgument("etcdserver: value is provided"));
  p.clear_value();
  p.set_ignore_lease(true);
  p.set_lease(3);
  EXPECT_EQ(ValidatePut(p), Status::InvalidArgument("etcdserver: lease is provided"));
}

TEST(ValidateTest, MaxOpsPerListAndNestedBudget) {
  TxnRequest t;
  for (int i = 0; i < 3; ++i) *t.add_success() = PutOp("k" + std::to_string(i));
  EXPECT_TRUE(ValidateTxn(t, 3).ok());
  EXPECT_EQ(ValidateTxn(t, 2), kTooMany);
  TxnRequest c;
  for (int i = 0; i < 3; ++i) c.add_compare()->set_key("c");
  EXPECT_EQ(ValidateTxn(c, 2), kTooMany);
  // Nested txn: budget is max - the parent's longest list.
  TxnRequest inner;
  *inner.add_success() = PutOp("x");
  *inner.add_success() = PutOp("y");
  TxnRequest outer;
  *outer.add_success() = TxnOp(inner);
  EXPECT_TRUE(ValidateTxn(outer, 3).ok());
  EXPECT_EQ(ValidateTxn(outer, 2), kTooMany);
}

TEST(ValidateTest, DuplicateKeys) {
  TxnRequest t;
  *t.add_success() = PutOp("a");
  *t.add_success() = PutOp("a");
  EXPECT_EQ(ValidateTxn(t), kDup);

  TxnRequest pd;
  *pd.add_success() = PutOp("b");
  *pd.add_success() = DelOp("a", "c");
  EXPECT_EQ(ValidateTxn(pd), kDup);

  TxnRequest all;
  *all.add_failure() = PutOp("zzz");
  *all.add_failure() = DelOp("a", std::string(1, '\0'));
  EXPECT_EQ(ValidateTxn(all), kDup);

  TxnRequest dd;  // overlapping deletes are fine; success vs failure never overlap
  *dd.add_success() = DelOp("a", "c");
  *dd.add_success() = DelOp("b", "d");
  *dd.add_failure() = PutOp("b");
  *dd.add_success() = PutOp("x");
  EXPECT_TRUE(ValidateTxn(dd).ok());
}

TEST(ValidateTest, DuplicateKeysAcrossNestedTxns) {
  TxnRequest inner;
  *inner.add_success() = PutOp("k");
  *inner.add_failure() = PutOp("k");  // mutually exclusive branches: fine
  TxnRequest ok;
  *ok.add_success() = TxnOp(inner);
  EXPECT_TRUE(ValidateTxn(ok).ok());

  TxnRequest outer_put;
  *outer_put.add_success() = TxnOp(inner);
  *outer_put.add_success() = PutOp("k");
  EXPECT_EQ(ValidateTxn(outer_put), kDup);

  TxnRequest outer_del;
  *outer_del.add_success() = DelOp("k");
  *outer_del.add_success() = TxnOp(inner);
  EXPECT_EQ(ValidateTxn(outer_del), kDup);

  TxnRequest inner_del;
  *inner_del.add_success() = DelOp("a", "z");
  TxnRequest put_after_nested_del;
  *put_after_nested_del.add_success() = TxnOp(inner_del);
  *put_after_nested_del.add_success() = PutOp("m");
  EXPECT_EQ(ValidateTxn(put_after_nested_del), kDup);

  TxnRequest two;
  *two.add_success() = TxnOp(inner);
  *two.add_success() = TxnOp(inner);
  EXPECT_EQ(ValidateTxn(two), kDup);
}

}  // namespace
}  // namespace cairn::apply
