// The etcd v3 Auth service: users, roles, permissions, enabling auth, and
// Authenticate, which hands out simple tokens.
//
// Changes are replicated through the log and applied by every member
// (auth/auth_applier.h); the caller must hold the root role once auth is on, which the
// apply checks. Passwords are hashed here, with --bcrypt-cost, before they are proposed:
// the log never holds a clear password and every member applies the same hash.
// Authenticate checks the password against this member's applied store after a
// linearizable read point, then proposes the token it chose, so the token works on
// every member; if the auth store changed meanwhile it checks again (etcd's loop).
// Gets and lists are linearizable reads of the local store: UserList/RoleList need root,
// UserGet needs root or to be that user, RoleGet root or to hold that role (etcd's
// rules). AuthStatus is open to everyone.
// Thread-safety: called concurrently by gRPC threads; holds no mutable state.
#pragma once

#include <functional>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

class AuthService final : public etcdserverpb::Auth::Service {
 public:
  explicit AuthService(etcdserver::EtcdServer* server) : server_(server) {}

  grpc::Status AuthEnable(grpc::ServerContext*, const etcdserverpb::AuthEnableRequest*,
                          etcdserverpb::AuthEnableResponse*) override;
  grpc::Status AuthDisable(grpc::ServerContext*, const etcdserverpb::AuthDisableRequest*,
                           etcdserverpb::AuthDisableResponse*) override;
  grpc::Status AuthStatus(grpc::ServerContext*, const etcdserverpb::AuthStatusRequest*,
                          etcdserverpb::AuthStatusResponse*) override;
  grpc::Status Authenticate(grpc::ServerContext*, const etcdserverpb::AuthenticateRequest*,
                            etcdserverpb::AuthenticateResponse*) override;
  grpc::Status UserAdd(grpc::ServerContext*, const etcdserverpb::AuthUserAddRequest*,
                       etcdserverpb::AuthUserAddResponse*) override;
  grpc::Status UserGet(grpc::ServerContext*, const etcdserverpb::AuthUserGetRequest*,
                       etcdserverpb::AuthUserGetResponse*) override;
  grpc::Status UserList(grpc::ServerContext*, const etcdserverpb::AuthUserListRequest*,
                        etcdserverpb::AuthUserListResponse*) override;
  grpc::Status UserDelete(grpc::ServerContext*, const etcdserverpb::AuthUserDeleteRequest*,
                          etcdserverpb::AuthUserDeleteResponse*) override;
  grpc::Status UserChangePassword(grpc::ServerContext*, const etcdserverpb::AuthUserChangePasswordRequest*,
                                  etcdserverpb::AuthUserChangePasswordResponse*) override;
  grpc::Status UserGrantRole(grpc::ServerContext*, const etcdserverpb::AuthUserGrantRoleRequest*,
                             etcdserverpb::AuthUserGrantRoleResponse*) override;
  grpc::Status UserRevokeRole(grpc::ServerContext*, const etcdserverpb::AuthUserRevokeRoleRequest*,
                              etcdserverpb::AuthUserRevokeRoleResponse*) override;
  grpc::Status RoleAdd(grpc::ServerContext*, const etcdserverpb::AuthRoleAddRequest*,
                       etcdserverpb::AuthRoleAddResponse*) override;
  grpc::Status RoleGet(grpc::ServerContext*, const etcdserverpb::AuthRoleGetRequest*,
                       etcdserverpb::AuthRoleGetResponse*) override;
  grpc::Status RoleList(grpc::ServerContext*, const etcdserverpb::AuthRoleListRequest*,
                        etcdserverpb::AuthRoleListResponse*) override;
  grpc::Status RoleDelete(grpc::ServerContext*, const etcdserverpb::AuthRoleDeleteRequest*,
                          etcdserverpb::AuthRoleDeleteResponse*) override;
  grpc::Status RoleGrantPermission(grpc::ServerContext*, const etcdserverpb::AuthRoleGrantPermissionRequest*,
                                   etcdserverpb::AuthRoleGrantPermissionResponse*) override;
  grpc::Status RoleRevokePermission(grpc::ServerContext*, const etcdserverpb::AuthRoleRevokePermissionRequest*,
                                    etcdserverpb::AuthRoleRevokePermissionResponse*) override;

 private:
  // Proposes an auth change as the call's caller and fills `header` once applied.
  grpc::Status Change(grpc::ServerContext* context, cairnpb::RaftRequest request, etcdserverpb::ResponseHeader* header);
  // A get or list: after the linearizable read point, a caller without the root role
  // must be `allowed`; then `read` fills `response`.
  template <typename Response>
  grpc::Status Answer(grpc::ServerContext* context, const std::function<bool(const auth::AuthInfo&)>& allowed,
                      const std::function<Result<Response>()>& read, Response* response);
  Result<std::string> Hash(const std::string& password) const;

  etcdserver::EtcdServer* server_;  // not owned
};

}  // namespace cairn::api
