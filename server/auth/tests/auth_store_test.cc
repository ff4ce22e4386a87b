#include "server/auth/auth_store.h"

#include <gtest/gtest.h>

#include "server/auth/errors.h"

namespace cairn::auth {
namespace {

const std::string kFromKey(1, '\0');

authpb::Permission Perm(authpb::Permission::Type type, const std::string& key, const std::string& end = "") {
  authpb::Permission p;
  p.set_permtype(type);
  p.set_key(key);
  p.set_range_end(end);
  return p;
}

class AuthStoreTest : public ::testing::Test {
 protected:
  // root (root role) and alice (role "r": read a..c, write k), auth on.
  void SetUpUsers() {
    ASSERT_TRUE(store_.UserAdd("root", "hash-root", false).ok());
    ASSERT_TRUE(store_.UserGrantRole("root", "root").ok());
    ASSERT_TRUE(store_.UserAdd("alice", "hash-alice", false).ok());
    ASSERT_TRUE(store_.RoleAdd("r").ok());
    ASSERT_TRUE(store_.RoleGrantPermission("r", Perm(authpb::Permission::READ, "a", "c")).ok());
    ASSERT_TRUE(store_.RoleGrantPermission("r", Perm(authpb::Permission::WRITE, "k")).ok());
    ASSERT_TRUE(store_.UserGrantRole("alice", "r").ok());
    ASSERT_TRUE(store_.Enable().ok());
  }
  AuthInfo Alice() const { return {"alice", store_.revision()}; }

  AuthStore store_;
};

TEST_F(AuthStoreTest, NewStoreIsOffAtRevisionOneAndPermitsEverything) {
  EXPECT_FALSE(store_.enabled());
  EXPECT_EQ(store_.revision(), 1u);
  EXPECT_TRUE(store_.IsPutPermitted(AuthInfo{}, "x").ok());
  EXPECT_TRUE(store_.IsAdminPermitted(AuthInfo{}).ok());
}

TEST_F(AuthStoreTest, EnableNeedsRootUserWithRootRole) {
  EXPECT_EQ(store_.Enable(), ErrRootUserNotExist());
  ASSERT_TRUE(store_.UserAdd("root", "h", false).ok());
  EXPECT_EQ(store_.Enable(), ErrRootRoleNotExist());
  ASSERT_TRUE(store_.UserGrantRole("root", "root").ok());  // the root role need not exist
  const uint64_t rev = store_.revision();
  EXPECT_TRUE(store_.Enable().ok());
  EXPECT_TRUE(store_.enabled());
  EXPECT_EQ(store_.revision(), rev);  // enabling does not bump (etcd)
  EXPECT_TRUE(store_.Disable().ok());
  EXPECT_EQ(store_.revision(), rev + 1);
}

TEST_F(AuthStoreTest, BadInputGetsEtcdsErrorsAndChangesNothing) {
  SetUpUsers();
  const uint64_t rev = store_.revision();
  const std::string before = store_.Encode();
  EXPECT_EQ(store_.UserAdd("", "h", false), ErrUserEmpty());
  EXPECT_EQ(store_.UserAdd("alice", "h", false), ErrUserAlreadyExist());
  EXPECT_EQ(store_.RoleAdd(""), ErrRoleEmpty());
  EXPECT_EQ(store_.RoleAdd("r"), ErrRoleAlreadyExist());
  EXPECT_EQ(store_.UserDelete("nobody"), ErrUserNotFound());
  EXPECT_EQ(store_.UserGrantRole("alice", "nope"), ErrRoleNotFound());
  EXPECT_EQ(store_.UserRevokeRole("alice", "root"), ErrRoleNotGranted());
  EXPECT_EQ(store_.RoleRevokePermission("r", "zz", ""), ErrPermissionNotGranted());
  EXPECT_EQ(store_.RoleRevokePermission("nope", "a", "c"), ErrRoleNotFound());
  EXPECT_EQ(store_.UserDelete("root"), ErrInvalidAuthMgmt());
  EXPECT_EQ(store_.UserRevokeRole("root", "root"), ErrInvalidAuthMgmt());
  EXPECT_EQ(store_.RoleDelete("root"), ErrInvalidAuthMgmt());
  EXPECT_TRUE(store_.UserGrantRole("alice", "r").ok());  // already granted: no change
  EXPECT_EQ(store_.revision(), rev);
  EXPECT_EQ(store_.Encode(), before);
}

TEST_F(AuthStoreTest, KeyPermissionsFollowGrantsAndRevokes) {
  SetUpUsers();
  EXPECT_TRUE(store_.IsRangePermitted(Alice(), "b", "").ok());
  EXPECT_TRUE(store_.IsRangePermitted(Alice(), "a", "c").ok());
  EXPECT_EQ(store_.IsRangePermitted(Alice(), "a", kFromKey), ErrPermissionDenied());
  EXPECT_EQ(store_.IsPutPermitted(Alice(), "b"), ErrPermissionDenied());
  EXPECT_TRUE(store_.IsPutPermitted(Alice(), "k").ok());
  EXPECT_EQ(store_.IsRangePermitted(Alice(), "k", ""), ErrPermissionDenied());
  EXPECT_EQ(store_.IsAdminPermitted(Alice()), ErrPermissionDenied());
  EXPECT_TRUE(store_.IsAdminPermitted({"root", store_.revision()}).ok());
  EXPECT_TRUE(store_.IsPutPermitted({"root", store_.revision()}, "anything").ok());
  EXPECT_EQ(store_.IsPutPermitted(AuthInfo{}, "k"), ErrUserEmpty());
  EXPECT_EQ(store_.IsAdminPermitted({"ghost", store_.revision()}), ErrUserNotFound());

  ASSERT_TRUE(store_.RoleGrantPermission("r", Perm(authpb::Permission::READWRITE, "k")).ok());
  EXPECT_TRUE(store_.IsRangePermitted(Alice(), "k", "").ok());
  ASSERT_TRUE(store_.RoleRevokePermission("r", "a", "c").ok());
  EXPECT_EQ(store_.IsRangePermitted(Alice(), "b", ""), ErrPermissionDenied());
  auto role = store_.RoleGet("r");
  ASSERT_TRUE(role.ok());
  ASSERT_EQ(role->perm_size(), 1);
  EXPECT_EQ(role->perm(0).permtype(), authpb::Permission::READWRITE);
}

TEST_F(AuthStoreTest, ACheckAtAnOlderRevisionIsRefused) {
  SetUpUsers();
  const AuthInfo checked = Alice();
  ASSERT_TRUE(store_.RoleAdd("other").ok());
  EXPECT_EQ(store_.IsPutPermitted(checked, "k"), ErrAuthOldRevision());
  EXPECT_TRUE(store_.IsPutPermitted(Alice(), "k").ok());
}

TEST_F(AuthStoreTest, DeletingARoleTakesItFromItsUsers) {
  SetUpUsers();
  ASSERT_TRUE(store_.RoleDelete("r").ok());
  EXPECT_EQ(store_.UserGet("alice")->roles_size(), 0);
  ASSERT_TRUE(store_.RoleAdd("r").ok());
  ASSERT_TRUE(store_.RoleGrantPermission("r", Perm(authpb::Permission::WRITE, "k")).ok());
  EXPECT_EQ(store_.IsPutPermitted(Alice(), "k"), ErrPermissionDenied());
}

TEST_F(AuthStoreTest, EncodeRestoreRoundTrips) {
  SetUpUsers();
  AuthStore copy;
  ASSERT_TRUE(copy.Restore(store_.Encode()).ok());
  EXPECT_TRUE(copy.enabled());
  EXPECT_EQ(copy.revision(), store_.revision());
  EXPECT_EQ(copy.UserList().users_size(), 2);
  EXPECT_TRUE(copy.IsPutPermitted({"alice", copy.revision()}, "k").ok());
  EXPECT_EQ(copy.IsPutPermitted({"alice", copy.revision()}, "b"), ErrPermissionDenied());
  EXPECT_FALSE(copy.Restore("\xff garbage").ok());
}

TEST_F(AuthStoreTest, ListsAreSortedAndRolesOfAUserSorted) {
  ASSERT_TRUE(store_.UserAdd("zed", "h", false).ok());
  ASSERT_TRUE(store_.UserAdd("amy", "h", false).ok());
  ASSERT_TRUE(store_.RoleAdd("y").ok());
  ASSERT_TRUE(store_.RoleAdd("x").ok());
  ASSERT_TRUE(store_.UserGrantRole("amy", "y").ok());
  ASSERT_TRUE(store_.UserGrantRole("amy", "x").ok());
  EXPECT_EQ(store_.UserList().users(0), "amy");
  EXPECT_EQ(store_.RoleList().roles(0), "x");
  auto amy = store_.UserGet("amy");
  ASSERT_TRUE(amy.ok());
  EXPECT_EQ(amy->roles(0), "x");
  EXPECT_EQ(amy->roles(1), "y");
}

TEST_F(AuthStoreTest, CheckPasswordRefusesCertificateOnlyUsersAndWhenOff) {
  ASSERT_TRUE(store_.UserAdd("root", "h", false).ok());
  ASSERT_TRUE(store_.UserAdd("cert", "", true).ok());
  EXPECT_EQ(store_.CheckPassword("root", "x").status(), ErrAuthNotEnabled());
  ASSERT_TRUE(store_.UserGrantRole("root", "root").ok());
  ASSERT_TRUE(store_.Enable().ok());
  EXPECT_EQ(store_.CheckPassword("cert", "").status(), ErrNoPasswordUser());
  EXPECT_EQ(store_.CheckPassword("nobody", "").status(), ErrAuthFailed());
  EXPECT_EQ(store_.CheckPassword("root", "h").status(), ErrAuthFailed());  // "h" is no bcrypt hash
}

}  // namespace
}  // namespace cairn::auth
