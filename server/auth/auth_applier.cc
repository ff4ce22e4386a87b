#include "server/auth/auth_applier.h"

#include "server/auth/errors.h"

namespace cairn::auth {
namespace {

using R = cairnpb::RaftRequest;

Status ApplyChange(AuthStore& store, TokenProvider& tokens, const R& request) {
  switch (request.request_case()) {
    case R::kAuthEnable:
      return store.Enable();
    case R::kAuthDisable: {
      Status st = store.Disable();
      if (st.ok()) tokens.InvalidateAll();
      return st;
    }
    case R::kAuthUserAdd: {
      const auto& r = request.auth_user_add();
      return store.UserAdd(r.name(), r.hashedpassword(), r.options().no_password());
    }
    case R::kAuthUserDelete: {
      Status st = store.UserDelete(request.auth_user_delete().name());
      if (st.ok()) tokens.InvalidateUser(request.auth_user_delete().name());
      return st;
    }
    case R::kAuthUserChangePassword: {
      const auto& r = request.auth_user_change_password();
      Status st = store.UserChangePassword(r.name(), r.hashedpassword());
      if (st.ok()) tokens.InvalidateUser(r.name());
      return st;
    }
    case R::kAuthUserGrantRole:
      return store.UserGrantRole(request.auth_user_grant_role().user(), request.auth_user_grant_role().role());
    case R::kAuthUserRevokeRole:
      return store.UserRevokeRole(request.auth_user_revoke_role().name(), request.auth_user_revoke_role().role());
    case R::kAuthRoleAdd:
      return store.RoleAdd(request.auth_role_add().name());
    case R::kAuthRoleDelete:
      return store.RoleDelete(request.auth_role_delete().role());
    case R::kAuthRoleGrantPermission:
      return store.RoleGrantPermission(request.auth_role_grant_permission().name(),
                                       request.auth_role_grant_permission().perm());
    case R::kAuthRoleRevokePermission: {
      const auto& r = request.auth_role_revoke_permission();
      return store.RoleRevokePermission(r.role(), r.key(), r.range_end());
    }
    default:
      Panic("not an auth change: case " + std::to_string(request.request_case()));
  }
}

}  // namespace

bool IsAuthRequest(const R& request) {
  switch (request.request_case()) {
    case R::kAuthEnable:
    case R::kAuthDisable:
    case R::kAuthUserAdd:
    case R::kAuthUserDelete:
    case R::kAuthUserChangePassword:
    case R::kAuthUserGrantRole:
    case R::kAuthUserRevokeRole:
    case R::kAuthRoleAdd:
    case R::kAuthRoleDelete:
    case R::kAuthRoleGrantPermission:
    case R::kAuthRoleRevokePermission:
    case R::kAuthenticate:
      return true;
    default:
      return false;
  }
}

AuthInfo InfoOf(const cairnpb::RequestHeader& header) { return AuthInfo{header.username(), header.auth_revision()}; }

Result<apply::Response> ApplyAuthRequest(AuthStore& store, TokenProvider& tokens, const R& request, uint64_t index) {
  if (request.has_authenticate()) {
    // The password was checked when proposed; the user may have gone since.
    if (!store.enabled()) return ErrAuthNotEnabled();
    if (!store.UserExists(request.authenticate().name())) return ErrAuthFailed();
    auto token = tokens.Assign(request.authenticate().name(), store.revision(), request.authenticate().token(), index);
    if (!token.ok()) return token.status();
    etcdserverpb::AuthenticateResponse response;
    response.set_token(std::move(token.value()));
    return apply::Response(std::move(response));
  }
  CAIRN_RETURN_IF_ERROR(store.IsAdminPermitted(InfoOf(request.header())));
  CAIRN_RETURN_IF_ERROR(ApplyChange(store, tokens, request));
  etcdserverpb::AuthStatusResponse response;
  response.set_enabled(store.enabled());
  response.set_authrevision(store.revision());
  return apply::Response(std::move(response));
}

}  // namespace cairn::auth
