#include "server/api/auth_service.h"

#include "server/api/caller.h"
#include "server/api/grpc_status.h"
#include "server/api/response_header.h"
#include "server/auth/errors.h"
#include "server/auth/password.h"
#include "server/auth/simple_tokens.h"

namespace cairn::api {
namespace {

using R = cairnpb::RaftRequest;

bool RootOnly(const auth::AuthInfo&) { return false; }

template <typename Field>
R RequestWith(Field* (R::*mutable_field)(), const Field& value) {
  R request;
  *(request.*mutable_field)() = value;
  return request;
}

}  // namespace

grpc::Status AuthService::Change(grpc::ServerContext* context, R request, etcdserverpb::ResponseHeader* header) {
  auto result = ProposeAsCallerAndWait(*server_, *context, std::move(request));
  if (!result.ok()) return ToGrpc(result.status());
  FillHeader(*server_, header);
  return grpc::Status::OK;
}

Result<std::string> AuthService::Hash(const std::string& password) const {
  return auth::HashPassword(password, server_->options().bcrypt_cost);
}

grpc::Status AuthService::AuthEnable(grpc::ServerContext* context, const etcdserverpb::AuthEnableRequest* request,
                                     etcdserverpb::AuthEnableResponse* response) {
  return Change(context, RequestWith(&R::mutable_auth_enable, *request), response->mutable_header());
}

grpc::Status AuthService::AuthDisable(grpc::ServerContext* context, const etcdserverpb::AuthDisableRequest* request,
                                      etcdserverpb::AuthDisableResponse* response) {
  return Change(context, RequestWith(&R::mutable_auth_disable, *request), response->mutable_header());
}

grpc::Status AuthService::AuthStatus(grpc::ServerContext*, const etcdserverpb::AuthStatusRequest*,
                                     etcdserverpb::AuthStatusResponse* response) {
  if (Status st = server_->ReadBarrier(); !st.ok()) return ToGrpc(st);
  response->set_enabled(server_->auth_store().enabled());
  response->set_authrevision(server_->auth_store().revision());
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status AuthService::Authenticate(grpc::ServerContext*, const etcdserverpb::AuthenticateRequest* request,
                                       etcdserverpb::AuthenticateResponse* response) {
  if (Status st = server_->ReadBarrier(); !st.ok()) return ToGrpc(st);
  while (true) {
    auto checked_at = server_->auth_store().CheckPassword(request->name(), request->password());
    if (!checked_at.ok()) return ToGrpc(checked_at.status());
    R proposal;
    proposal.mutable_authenticate()->set_name(request->name());
    proposal.mutable_authenticate()->set_token(auth::SimpleTokens::NewPrefix());
    auto result = server_->Propose(std::move(proposal));
    if (!result.ok()) return ToGrpc(result.status());
    // A password changed (or user deleted) between the check and the apply would have
    // invalidated nothing yet: check again against the newer store.
    if (*checked_at == server_->auth_store().revision()) {
      *response = std::move(std::get<etcdserverpb::AuthenticateResponse>(result.value()));
      FillHeader(*server_, response->mutable_header());
      return grpc::Status::OK;
    }
  }
}

grpc::Status AuthService::UserAdd(grpc::ServerContext* context, const etcdserverpb::AuthUserAddRequest* request,
                                  etcdserverpb::AuthUserAddResponse* response) {
  if (request->name().empty()) return ToGrpc(auth::ErrUserEmpty());
  etcdserverpb::AuthUserAddRequest hashed = *request;
  hashed.clear_password();
  if (!request->options().no_password()) {
    auto hash = Hash(request->password());
    if (!hash.ok()) return ToGrpc(hash.status());
    hashed.set_hashedpassword(*hash);
  }
  return Change(context, RequestWith(&R::mutable_auth_user_add, hashed), response->mutable_header());
}

template <typename Response>
grpc::Status AuthService::Answer(grpc::ServerContext* context, const std::function<bool(const auth::AuthInfo&)>& allowed,
                                 const std::function<Result<Response>()>& read, Response* response) {
  if (Status st = server_->ReadBarrier(); !st.ok()) return ToGrpc(st);
  auto caller = CallerOf(*server_, *context);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (Status admin = server_->auth_store().IsAdminPermitted(*caller); !admin.ok() && !allowed(*caller)) {
    return ToGrpc(admin);
  }
  auto result = read();
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(result.value());
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status AuthService::UserGet(grpc::ServerContext* context, const etcdserverpb::AuthUserGetRequest* request,
                                  etcdserverpb::AuthUserGetResponse* response) {
  return Answer<etcdserverpb::AuthUserGetResponse>(
      context, [&](const auth::AuthInfo& caller) { return caller.user == request->name(); },
      [&] { return server_->auth_store().UserGet(request->name()); }, response);
}

grpc::Status AuthService::UserList(grpc::ServerContext* context, const etcdserverpb::AuthUserListRequest*,
                                   etcdserverpb::AuthUserListResponse* response) {
  return Answer<etcdserverpb::AuthUserListResponse>(
      context, RootOnly, [&] { return server_->auth_store().UserList(); }, response);
}

grpc::Status AuthService::UserDelete(grpc::ServerContext* context, const etcdserverpb::AuthUserDeleteRequest* request,
                                     etcdserverpb::AuthUserDeleteResponse* response) {
  return Change(context, RequestWith(&R::mutable_auth_user_delete, *request), response->mutable_header());
}

grpc::Status AuthService::UserChangePassword(grpc::ServerContext* context,
                                             const etcdserverpb::AuthUserChangePasswordRequest* request,
                                             etcdserverpb::AuthUserChangePasswordResponse* response) {
  auto hash = Hash(request->password());
  if (!hash.ok()) return ToGrpc(hash.status());
  etcdserverpb::AuthUserChangePasswordRequest hashed;
  hashed.set_name(request->name());
  hashed.set_hashedpassword(*hash);
  return Change(context, RequestWith(&R::mutable_auth_user_change_password, hashed), response->mutable_header());
}

grpc::Status AuthService::UserGrantRole(grpc::ServerContext* context, const etcdserverpb::AuthUserGrantRoleRequest* request,
                                        etcdserverpb::AuthUserGrantRoleResponse* response) {
  return Change(context, RequestWith(&R::mutable_auth_user_grant_role, *request), response->mutable_header());
}

grpc::Status AuthService::UserRevokeRole(grpc::ServerContext* context,
                                         const etcdserverpb::AuthUserRevokeRoleRequest* request,
                                         etcdserverpb::AuthUserRevokeRoleResponse* response) {
  return Change(context, RequestWith(&R::mutable_auth_user_revoke_role, *request), response->mutable_header());
}

grpc::Status AuthService::RoleAdd(grpc::ServerContext* context, const etcdserverpb::AuthRoleAddRequest* request,
                                  etcdserverpb::AuthRoleAddResponse* response) {
  return Change(context, RequestWith(&R::mutable_auth_role_add, *request), response->mutable_header());
}

grpc::Status AuthService::RoleGet(grpc::ServerContext* context, const etcdserverpb::AuthRoleGetRequest* request,
                                  etcdserverpb::AuthRoleGetResponse* response) {
  return Answer<etcdserverpb::AuthRoleGetResponse>(
      context, [&](const auth::AuthInfo& caller) { return server_->auth_store().HasRole(caller.user, request->role()); },
      [&] { return server_->auth_store().RoleGet(request->role()); }, response);
}

grpc::Status AuthService::RoleList(grpc::ServerContext* context, const etcdserverpb::AuthRoleListRequest*,
                                   etcdserverpb::AuthRoleListResponse* response) {
  return Answer<etcdserverpb::AuthRoleListResponse>(
      context, RootOnly, [&] { return server_->auth_store().RoleList(); }, response);
}

grpc::Status AuthService::RoleDelete(grpc::ServerContext* context, const etcdserverpb::AuthRoleDeleteRequest* request,
                                     etcdserverpb::AuthRoleDeleteResponse* response) {
  return Change(context, RequestWith(&R::mutable_auth_role_delete, *request), response->mutable_header());
}

grpc::Status AuthService::RoleGrantPermission(grpc::ServerContext* context,
                                              const etcdserverpb::AuthRoleGrantPermissionRequest* request,
                                              etcdserverpb::AuthRoleGrantPermissionResponse* response) {
  return Change(context, RequestWith(&R::mutable_auth_role_grant_permission, *request), response->mutable_header());
}

grpc::Status AuthService::RoleRevokePermission(grpc::ServerContext* context,
                                               const etcdserverpb::AuthRoleRevokePermissionRequest* request,
                                               etcdserverpb::AuthRoleRevokePermissionResponse* response) {
  return Change(context, RequestWith(&R::mutable_auth_role_revoke_permission, *request), response->mutable_header());
}

}  // namespace cairn::api
