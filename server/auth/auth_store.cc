#include "server/auth/auth_store.h"

#include <algorithm>
#include <mutex>

#include "server/auth/errors.h"
#include "server/auth/password.h"

namespace cairn::auth {
namespace {

bool HasRootRole(const authpb::User& user) {
  return std::find(user.roles().begin(), user.roles().end(), kRootRole) != user.roles().end();
}

}  // namespace

AuthStore::AuthStore() { CAIRN_CHECK(Restore("").ok()); }

Status AuthStore::Restore(const std::string& encoded) {
  cairnpb::AuthState state;
  if (!state.ParseFromString(encoded)) return Status::DataLoss("undecodable auth store in the store");
  std::unique_lock lock(mu_);
  users_.clear();
  roles_.clear();
  for (const auto& u : state.users()) users_[u.name()] = u;
  for (const auto& r : state.roles()) roles_[r.name()] = r;
  state.clear_users();
  state.clear_roles();
  if (state.revision() == 0) state.set_revision(1);
  state_ = std::move(state);
  RebuildCacheLocked();
  PublishLocked();
  return Status::Ok();
}

std::string AuthStore::Encode() const {
  std::shared_lock lock(mu_);
  cairnpb::AuthState state = state_;
  for (const auto& [name, u] : users_) *state.add_users() = u;
  for (const auto& [name, r] : roles_) *state.add_roles() = r;
  return state.SerializeAsString();
}

void AuthStore::PublishLocked() {
  enabled_.store(state_.enabled(), std::memory_order_release);
  revision_.store(state_.revision(), std::memory_order_release);
}

void AuthStore::CommitLocked() {
  state_.set_revision(state_.revision() + 1);
  RebuildCacheLocked();
  PublishLocked();
}

void AuthStore::RebuildCacheLocked() {
  perms_.clear();
  for (const auto& [name, user] : users_) {
    UserPermissions& p = perms_[name];
    p.root = HasRootRole(user);
    for (const auto& role_name : user.roles()) {
      auto role = roles_.find(role_name);
      if (role == roles_.end()) continue;
      for (const auto& perm : role->second.keypermission()) {
        if (perm.permtype() != authpb::Permission::WRITE) p.read.Add(perm.key(), perm.range_end());
        if (perm.permtype() != authpb::Permission::READ) p.write.Add(perm.key(), perm.range_end());
      }
    }
    p.read.Seal();
    p.write.Seal();
  }
}

Status AuthStore::Enable() {
  std::unique_lock lock(mu_);
  if (state_.enabled()) return Status::Ok();
  auto root = users_.find(kRootUser);
  if (root == users_.end()) return ErrRootUserNotExist();
  if (!HasRootRole(root->second)) return ErrRootRoleNotExist();
  state_.set_enabled(true);
  RebuildCacheLocked();
  PublishLocked();
  return Status::Ok();
}

Status AuthStore::Disable() {
  std::unique_lock lock(mu_);
  if (!state_.enabled()) return Status::Ok();
  state_.set_enabled(false);
  CommitLocked();
  return Status::Ok();
}

Status AuthStore::UserAdd(const std::string& name, const std::string& password_hash, bool no_password) {
  if (name.empty()) return ErrUserEmpty();
  std::unique_lock lock(mu_);
  if (users_.count(name) != 0) return ErrUserAlreadyExist();
  authpb::User user;
  user.set_name(name);
  if (!no_password) user.set_password(password_hash);
  user.mutable_options()->set_no_password(no_password);
  users_[name] = std::move(user);
  CommitLocked();
  return Status::Ok();
}

Status AuthStore::UserDelete(const std::string& name) {
  std::unique_lock lock(mu_);
  if (state_.enabled() && name == kRootUser) return ErrInvalidAuthMgmt();
  if (users_.erase(name) == 0) return ErrUserNotFound();
  CommitLocked();
  return Status::Ok();
}

Status AuthStore::UserChangePassword(const std::string& name, const std::string& password_hash) {
  std::unique_lock lock(mu_);
  auto user = users_.find(name);
  if (user == users_.end()) return ErrUserNotFound();
  user->second.set_password(password_hash);
  CommitLocked();
  return Status::Ok();
}

Status AuthStore::UserGrantRole(const std::string& user_name, const std::string& role) {
  std::unique_lock lock(mu_);
  auto user = users_.find(user_name);
  if (user == users_.end()) return ErrUserNotFound();
  if (role != kRootRole && roles_.count(role) == 0) return ErrRoleNotFound();
  auto* roles = user->second.mutable_roles();
  if (std::find(roles->begin(), roles->end(), role) != roles->end()) return Status::Ok();
  roles->Add(std::string(role));
  std::sort(roles->begin(), roles->end());
  CommitLocked();
  return Status::Ok();
}

Status AuthStore::UserRevokeRole(const std::string& user_name, const std::string& role) {
  std::unique_lock lock(mu_);
  if (state_.enabled() && user_name == kRootUser && role == kRootRole) return ErrInvalidAuthMgmt();
  auto user = users_.find(user_name);
  if (user == users_.end()) return ErrUserNotFound();
  auto* roles = user->second.mutable_roles();
  auto it = std::find(roles->begin(), roles->end(), role);
  if (it == roles->end()) return ErrRoleNotGranted();
  roles->erase(it);
  CommitLocked();
  return Status::Ok();
}

Status AuthStore::RoleAdd(const std::string& name) {
  if (name.empty()) return ErrRoleEmpty();
  std::unique_lock lock(mu_);
  if (roles_.count(name) != 0) return ErrRoleAlreadyExist();
  roles_[name].set_name(name);
  CommitLocked();
  return Status::Ok();
}

Status AuthStore::RoleDelete(const std::string& name) {
  std::unique_lock lock(mu_);
  if (state_.enabled() && name == kRootRole) return ErrInvalidAuthMgmt();
  if (roles_.erase(name) == 0) return ErrRoleNotFound();
  // etcd takes the role from its users too, so a role added later under the same name
  // grants nothing by surprise.
  for (auto& [user_name, user] : users_) {
    auto* roles = user.mutable_roles();
    roles->erase(std::remove(roles->begin(), roles->end(), name), roles->end());
  }
  CommitLocked();
  return Status::Ok();
}

Status AuthStore::RoleGrantPermission(const std::string& role_name, const authpb::Permission& perm) {
  std::unique_lock lock(mu_);
  auto role = roles_.find(role_name);
  if (role == roles_.end()) return ErrRoleNotFound();
  auto* perms = role->second.mutable_keypermission();
  auto same = std::find_if(perms->begin(), perms->end(), [&](const authpb::Permission& p) {
    return p.key() == perm.key() && p.range_end() == perm.range_end();
  });
  if (same != perms->end()) {
    same->set_permtype(perm.permtype());
  } else {
    *perms->Add() = perm;
    std::stable_sort(perms->begin(), perms->end(),
                     [](const authpb::Permission& a, const authpb::Permission& b) { return a.key() < b.key(); });
  }
  CommitLocked();
  return Status::Ok();
}

Status AuthStore::RoleRevokePermission(const std::string& role_name, const std::string& key,
                                       const std::string& range_end) {
  std::unique_lock lock(mu_);
  auto role = roles_.find(role_name);
  if (role == roles_.end()) return ErrRoleNotFound();
  auto* perms = role->second.mutable_keypermission();
  auto kept = std::remove_if(perms->begin(), perms->end(), [&](const authpb::Permission& p) {
    return p.key() == key && p.range_end() == range_end;
  });
  if (kept == perms->end()) return ErrPermissionNotGranted();
  perms->erase(kept, perms->end());
  CommitLocked();
  return Status::Ok();
}

Result<etcdserverpb::AuthUserGetResponse> AuthStore::UserGet(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto user = users_.find(name);
  if (user == users_.end()) return ErrUserNotFound();
  etcdserverpb::AuthUserGetResponse response;
  *response.mutable_roles() = user->second.roles();
  return response;
}

etcdserverpb::AuthUserListResponse AuthStore::UserList() const {
  std::shared_lock lock(mu_);
  etcdserverpb::AuthUserListResponse response;
  for (const auto& [name, user] : users_) response.add_users(name);
  return response;
}

Result<etcdserverpb::AuthRoleGetResponse> AuthStore::RoleGet(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto role = roles_.find(name);
  if (role == roles_.end()) return ErrRoleNotFound();
  etcdserverpb::AuthRoleGetResponse response;
  *response.mutable_perm() = role->second.keypermission();
  return response;
}

etcdserverpb::AuthRoleListResponse AuthStore::RoleList() const {
  std::shared_lock lock(mu_);
  etcdserverpb::AuthRoleListResponse response;
  for (const auto& [name, role] : roles_) response.add_roles(name);
  return response;
}

bool AuthStore::UserExists(const std::string& name) const {
  std::shared_lock lock(mu_);
  return users_.count(name) != 0;
}

bool AuthStore::HasRole(const std::string& user_name, const std::string& role) const {
  std::shared_lock lock(mu_);
  auto user = users_.find(user_name);
  if (user == users_.end()) return false;
  const auto& roles = user->second.roles();
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Result<uint64_t> AuthStore::CheckPassword(const std::string& user_name, const std::string& password) const {
  std::string hash;
  uint64_t revision = 0;
  {
    std::shared_lock lock(mu_);
    if (!state_.enabled()) return ErrAuthNotEnabled();
    auto user = users_.find(user_name);
    if (user == users_.end()) return ErrAuthFailed();
    if (user->second.options().no_password()) return ErrNoPasswordUser();
    hash = user->second.password();
    revision = state_.revision();
  }
  if (!PasswordMatches(hash, password)) return ErrAuthFailed();
  return revision;
}

Status AuthStore::IsAdminPermitted(const AuthInfo& info) const {
  if (!enabled()) return Status::Ok();
  if (info.user.empty()) return ErrUserEmpty();
  std::shared_lock lock(mu_);
  auto perms = perms_.find(info.user);
  if (perms == perms_.end()) return ErrUserNotFound();
  return perms->second.root ? Status::Ok() : ErrPermissionDenied();
}

Status AuthStore::IsOpPermitted(const AuthInfo& info, const std::string& key, const std::string& range_end,
                                Access access) const {
  if (!enabled()) return Status::Ok();
  if (info.user.empty()) return ErrUserEmpty();
  std::shared_lock lock(mu_);
  if (info.revision < state_.revision()) return ErrAuthOldRevision();
  auto perms = perms_.find(info.user);
  if (perms == perms_.end()) return ErrPermissionDenied();
  const UserPermissions& p = perms->second;
  if (p.root) return Status::Ok();
  const KeyIntervals& allowed = access == Access::kRead ? p.read : p.write;
  return allowed.Covers(key, range_end) ? Status::Ok() : ErrPermissionDenied();
}

Status AuthStore::IsRangePermitted(const AuthInfo& info, const std::string& key, const std::string& range_end) const {
  return IsOpPermitted(info, key, range_end, Access::kRead);
}

Status AuthStore::IsPutPermitted(const AuthInfo& info, const std::string& key) const {
  return IsOpPermitted(info, key, "", Access::kWrite);
}

Status AuthStore::IsDeleteRangePermitted(const AuthInfo& info, const std::string& key,
                                         const std::string& range_end) const {
  return IsOpPermitted(info, key, range_end, Access::kWrite);
}

}  // namespace cairn::auth
