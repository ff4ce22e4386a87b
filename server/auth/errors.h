// etcd's auth errors: the exact (gRPC code, message) pairs its clients match on
// (etcd's rpctypes; see /work/shared/etcd-api-facts.md).
#pragma once

#include "server/common/status.h"

namespace cairn::auth {

inline Status ErrRootUserNotExist() { return Status::FailedPrecondition("etcdserver: root user does not exist"); }
inline Status ErrRootRoleNotExist() {
  return Status::FailedPrecondition("etcdserver: root user does not have root role");
}
inline Status ErrUserAlreadyExist() { return Status::FailedPrecondition("etcdserver: user name already exists"); }
inline Status ErrUserEmpty() { return Status::InvalidArgument("etcdserver: user name is empty"); }
inline Status ErrUserNotFound() { return Status::FailedPrecondition("etcdserver: user name not found"); }
inline Status ErrRoleAlreadyExist() { return Status::FailedPrecondition("etcdserver: role name already exists"); }
inline Status ErrRoleNotFound() { return Status::FailedPrecondition("etcdserver: role name not found"); }
inline Status ErrRoleEmpty() { return Status::InvalidArgument("etcdserver: role name is empty"); }
inline Status ErrAuthFailed() {
  return Status::InvalidArgument("etcdserver: authentication failed, invalid user ID or password");
}
// etcd 3.4 never mapped this one to a gRPC code, so clients see Unknown and its raw text.
inline Status ErrNoPasswordUser() {
  return {StatusCode::kUnknown, "auth: authentication failed, password was given for no password user"};
}
inline Status ErrPermissionDenied() { return Status::PermissionDenied("etcdserver: permission denied"); }
inline Status ErrRoleNotGranted() { return Status::FailedPrecondition("etcdserver: role is not granted to the user"); }
inline Status ErrPermissionNotGranted() {
  return Status::FailedPrecondition("etcdserver: permission is not granted to the role");
}
inline Status ErrAuthNotEnabled() { return Status::FailedPrecondition("etcdserver: authentication is not enabled"); }
inline Status ErrInvalidAuthToken() { return {StatusCode::kUnauthenticated, "etcdserver: invalid auth token"}; }
inline Status ErrInvalidAuthMgmt() { return Status::InvalidArgument("etcdserver: invalid auth management"); }
inline Status ErrAuthOldRevision() { return Status::InvalidArgument("etcdserver: revision of auth store is old"); }

// An auth error as etcd 3.4's Maintenance service answers it: the auth store's own error
// (code Unknown, "auth: ..." text), which that service never translated. Other errors
// pass unchanged.
inline Status AsMaintenanceError(const Status& st) {
  if (st == ErrPermissionDenied()) return {StatusCode::kUnknown, "auth: permission denied"};
  if (st == ErrUserEmpty()) return {StatusCode::kUnknown, "auth: user name is empty"};
  if (st == ErrUserNotFound()) return {StatusCode::kUnknown, "auth: user not found"};
  if (st == ErrInvalidAuthToken()) return {StatusCode::kUnknown, "auth: invalid auth token"};
  return st;
}

// An auth error as etcd 3.4's Lock and Election services answer it: they call the KV
// service through an in-process client, so its errors reach their callers with code
// Unknown and etcd's usual text. Other errors pass unchanged.
inline Status AsRecipeError(const Status& st) {
  for (const Status& auth : {ErrPermissionDenied(), ErrUserEmpty(), ErrInvalidAuthToken(), ErrAuthOldRevision()}) {
    if (st == auth) return {StatusCode::kUnknown, st.message()};
  }
  return st;
}

}  // namespace cairn::auth
