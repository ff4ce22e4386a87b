// EnableEtcdAuth: what `etcdctl user add root`, `user grant-role root root` and
// `auth enable` do, through a member's client port (plaintext): turns etcd auth on in a
// test cluster of real members (Cairn or etcd). Test-only.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"

namespace cairn::op::testing {

// "" when auth is on with `root_password` for root, else what failed.
inline std::string EnableEtcdAuth(int client_port, const std::string& root_password) {
  auto ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(client_port), grpc::InsecureChannelCredentials());
  auto auth = etcdserverpb::Auth::NewStub(ch);
  auto call = [](auto rpc, const auto& req, auto* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status st = rpc(&ctx, req, resp);
    return st.ok() ? std::string() : st.error_message();
  };
  etcdserverpb::AuthUserAddRequest add;
  add.set_name("root");
  add.set_password(root_password);
  etcdserverpb::AuthUserAddResponse added;
  std::string err = call([&](auto* c, const auto& r, auto* p) { return auth->UserAdd(c, r, p); }, add, &added);
  if (!err.empty()) return "UserAdd: " + err;
  etcdserverpb::AuthUserGrantRoleRequest grant;
  grant.set_user("root");
  grant.set_role("root");
  etcdserverpb::AuthUserGrantRoleResponse granted;
  err = call([&](auto* c, const auto& r, auto* p) { return auth->UserGrantRole(c, r, p); }, grant, &granted);
  if (!err.empty()) return "UserGrantRole: " + err;
  etcdserverpb::AuthEnableResponse enabled;
  err = call([&](auto* c, const auto& r, auto* p) { return auth->AuthEnable(c, r, p); }, etcdserverpb::AuthEnableRequest(),
             &enabled);
  return err.empty() ? "" : "AuthEnable: " + err;
}

}  // namespace cairn::op::testing
