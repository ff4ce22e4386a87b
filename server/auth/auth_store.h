// AuthStore: etcd's auth state — users (bcrypt password hashes, roles), roles (key
// permissions), whether auth is enabled, and the auth revision — with etcd's rules for
// changing it and for checking a user's permissions.
//
// The state is changed only by applying requests from the Raft log (auth_applier.h), so
// every member holds the same store; the driver persists Encode() in the MVCC store's
// meta table in the batch that changed it, so it survives restarts and travels with
// snapshots. Every successful change bumps the revision, except enabling auth and
// granting a role the user already has (as etcd). A failed change returns etcd's error
// and changes nothing.
// Permission checks are answered from a cache, rebuilt on every change: per user, the
// merged intervals it may read and write (key_intervals.h).
// Thread-safety: mutations run on the apply thread; queries and checks on any thread.
// mu_ guards the state and the cache; enabled_ and revision_ mirror the state so that
// the check on every request takes no lock while auth is off.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>

#include "cairn/internal.pb.h"
#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/auth/key_intervals.h"
#include "server/common/status.h"

namespace cairn::auth {

inline const std::string kRootUser = "root";
inline const std::string kRootRole = "root";

// Who a request comes from: the user and the auth revision its token (or certificate)
// was resolved at. An empty user means none was given.
struct AuthInfo {
  std::string user;
  uint64_t revision = 0;
};

class AuthStore {
 public:
  AuthStore();

  // Replaces the state with an encoded one (Encode()); "" is a new store: auth off,
  // no users or roles, revision 1 (etcd's).
  Status Restore(const std::string& encoded);
  std::string Encode() const;

  bool enabled() const { return enabled_.load(std::memory_order_acquire); }
  uint64_t revision() const { return revision_.load(std::memory_order_acquire); }

  // ---- Changes (apply thread). Passwords are bcrypt hashes already. ----
  Status Enable();
  Status Disable();
  Status UserAdd(const std::string& name, const std::string& password_hash, bool no_password);
  Status UserDelete(const std::string& name);
  Status UserChangePassword(const std::string& name, const std::string& password_hash);
  Status UserGrantRole(const std::string& user, const std::string& role);
  Status UserRevokeRole(const std::string& user, const std::string& role);
  Status RoleAdd(const std::string& name);
  Status RoleDelete(const std::string& name);
  Status RoleGrantPermission(const std::string& role, const authpb::Permission& perm);
  Status RoleRevokePermission(const std::string& role, const std::string& key, const std::string& range_end);

  // ---- Queries (any thread) ----
  Result<etcdserverpb::AuthUserGetResponse> UserGet(const std::string& name) const;
  etcdserverpb::AuthUserListResponse UserList() const;
  Result<etcdserverpb::AuthRoleGetResponse> RoleGet(const std::string& name) const;
  etcdserverpb::AuthRoleListResponse RoleList() const;
  bool UserExists(const std::string& name) const;
  bool HasRole(const std::string& user, const std::string& role) const;
  // etcd's CheckPassword: the revision the password was checked at, or
  // ErrAuthNotEnabled, ErrAuthFailed (unknown user, wrong password) or
  // ErrNoPasswordUser (a certificate-only user). Runs bcrypt outside the lock.
  Result<uint64_t> CheckPassword(const std::string& user, const std::string& password) const;

  // ---- Permission checks (any thread): Ok while auth is off. ----
  // Root role required (ErrUserEmpty without a user, ErrUserNotFound, ErrPermissionDenied).
  Status IsAdminPermitted(const AuthInfo& info) const;
  // Key permissions: ErrUserEmpty without a user, ErrAuthOldRevision when the store
  // changed after `info.revision`, ErrPermissionDenied. A root user may do anything.
  Status IsRangePermitted(const AuthInfo& info, const std::string& key, const std::string& range_end) const;
  Status IsPutPermitted(const AuthInfo& info, const std::string& key) const;
  Status IsDeleteRangePermitted(const AuthInfo& info, const std::string& key, const std::string& range_end) const;

 private:
  struct UserPermissions {
    bool root = false;
    KeyIntervals read;
    KeyIntervals write;
  };
  enum class Access { kRead, kWrite };

  Status IsOpPermitted(const AuthInfo& info, const std::string& key, const std::string& range_end, Access access) const;
  // REQUIRES: mu_ held exclusively. Bumps the revision and rebuilds the cache.
  void CommitLocked();
  void RebuildCacheLocked();
  void PublishLocked();

  mutable std::shared_mutex mu_;
  cairnpb::AuthState state_;                        // guarded by mu_
  std::map<std::string, authpb::User> users_;       // guarded by mu_
  std::map<std::string, authpb::Role> roles_;       // guarded by mu_
  std::map<std::string, UserPermissions> perms_;    // guarded by mu_: the cache, by user
  std::atomic<bool> enabled_{false};                // state_.enabled(), written under mu_
  std::atomic<uint64_t> revision_{1};               // state_.revision(), written under mu_
};

}  // namespace cairn::auth
