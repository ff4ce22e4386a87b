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

}  // namespace cairn::auth
