#include "server/auth/request_permissions.h"

#include <gtest/gtest.h>

#include "server/auth/errors.h"

namespace cairn::auth {
namespace {

class RequestPermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.UserAdd("root", "h", false).ok());
    ASSERT_TRUE(store_.UserGrantRole("root", "root").ok());
    ASSERT_TRUE(store_.UserAdd("u", "h", false).ok());
    ASSERT_TRUE(store_.RoleAdd("r").ok());
    authpb::Permission rw;
    rw.set_permtype(authpb::Permission::READWRITE);
    rw.set_key("mine/");
    rw.set_range_end("mine0");
    ASSERT_TRUE(store_.RoleGrantPermission("r", rw).ok());
    authpb::Permission ro;
    ro.set_permtype(authpb::Permission::READ);
    ro.set_key("pub");
    ASSERT_TRUE(store_.RoleGrantPermission("r", ro).ok());
    ASSERT_TRUE(store_.UserGrantRole("u", "r").ok());
    ASSERT_TRUE(store_.Enable().ok());
  }
  AuthInfo U() const { return {"u", store_.revision()}; }
  LeaseKeys Leases() const {
    return [](int64_t id) { return id == 7 ? std::vector<std::string>{"mine/a", "other"} : std::vector<std::string>{}; };
  }
  etcdserverpb::TxnRequest TxnPutting(const std::string& key) {
    etcdserverpb::TxnRequest txn;
    txn.add_success()->mutable_request_put()->set_key(key);
    return txn;
  }

  AuthStore store_;
};

TEST_F(RequestPermissionsTest, PutNeedsWriteAndPrevKvNeedsRead) {
  cairnpb::RaftRequest r;
  r.mutable_put()->set_key("mine/x");
  EXPECT_TRUE(CheckWrite(store_, U(), r, Leases()).ok());
  r.mutable_put()->set_key("pub");
  EXPECT_EQ(CheckWrite(store_, U(), r, Leases()), ErrPermissionDenied());
  r.mutable_put()->set_key("mine/x");
  r.mutable_put()->set_lease(7);  // already holds "other"
  EXPECT_EQ(CheckWrite(store_, U(), r, Leases()), ErrPermissionDenied());
}

TEST_F(RequestPermissionsTest, TxnChecksComparesBothBranchesAndNestedTxns) {
  cairnpb::RaftRequest r;
  *r.mutable_txn() = TxnPutting("mine/a");
  EXPECT_TRUE(CheckWrite(store_, U(), r, Leases()).ok());
  r.mutable_txn()->add_compare()->set_key("secret");
  EXPECT_EQ(CheckWrite(store_, U(), r, Leases()), ErrPermissionDenied());
  r.mutable_txn()->clear_compare();
  r.mutable_txn()->add_failure()->mutable_request_delete_range()->set_key("pub");
  EXPECT_EQ(CheckWrite(store_, U(), r, Leases()), ErrPermissionDenied());
  r.mutable_txn()->clear_failure();
  *r.mutable_txn()->add_success()->mutable_request_txn() = TxnPutting("pub");
  EXPECT_EQ(CheckWrite(store_, U(), r, Leases()), ErrPermissionDenied());
}

TEST_F(RequestPermissionsTest, LeaseRevokeNeedsWriteOnEveryAttachedKey) {
  cairnpb::RaftRequest r;
  r.mutable_lease_revoke()->set_id(7);
  EXPECT_EQ(CheckWrite(store_, U(), r, Leases()), ErrPermissionDenied());
  EXPECT_TRUE(CheckWrite(store_, {"root", store_.revision()}, r, Leases()).ok());
  r.mutable_lease_revoke()->set_id(8);
  EXPECT_TRUE(CheckWrite(store_, U(), r, Leases()).ok());
}

TEST_F(RequestPermissionsTest, RangeOutsideTheGrantIsDenied) {
  etcdserverpb::RangeRequest range;
  range.set_key("mine/");
  range.set_range_end("mine0");
  EXPECT_TRUE(CheckRange(store_, U(), range).ok());
  range.set_range_end("mine1");
  EXPECT_EQ(CheckRange(store_, U(), range), ErrPermissionDenied());
}

}  // namespace
}  // namespace cairn::auth
