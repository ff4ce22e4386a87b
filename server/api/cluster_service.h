// The etcd v3 Cluster service: MemberList from the applied membership; MemberAdd,
// MemberRemove, MemberUpdate and MemberPromote executed by the leader (which alone
// knows which members are started and how far a learner has got). With auth on, the
// four need the root role, checked on the member the client called; a follower then
// forwards the change to the leader's peer API (EtcdServer::ChangeMembership), since
// the caller's simple token or client certificate means nothing to the leader.
// MemberList needs no role.
// Thread-safety: called concurrently by gRPC worker threads; no state of its own.
#pragma once

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

class ClusterService final : public etcdserverpb::Cluster::Service {
 public:
  explicit ClusterService(etcdserver::EtcdServer* server) : server_(server) {}

  grpc::Status MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                          etcdserverpb::MemberListResponse*) override;
  grpc::Status MemberAdd(grpc::ServerContext*, const etcdserverpb::MemberAddRequest*,
                         etcdserverpb::MemberAddResponse*) override;
  grpc::Status MemberRemove(grpc::ServerContext*, const etcdserverpb::MemberRemoveRequest*,
                            etcdserverpb::MemberRemoveResponse*) override;
  grpc::Status MemberUpdate(grpc::ServerContext*, const etcdserverpb::MemberUpdateRequest*,
                            etcdserverpb::MemberUpdateResponse*) override;
  grpc::Status MemberPromote(grpc::ServerContext*, const etcdserverpb::MemberPromoteRequest*,
                             etcdserverpb::MemberPromoteResponse*) override;

 private:
  // Checks the caller may change membership, has the leader carry out `request`, and
  // fills the response's header and member list (and `added`, for an add).
  template <typename Response>
  grpc::Status Change(const grpc::ServerContext& caller, const cairnpb::MemberChangeRequest& request,
                      Response* response, cairnpb::Member* added = nullptr);

  etcdserver::EtcdServer* server_;  // not owned
};

}  // namespace cairn::api
