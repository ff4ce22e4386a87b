// The etcd v3 Cluster service: MemberList from the applied membership; MemberAdd,
// MemberRemove, MemberUpdate and MemberPromote executed by the leader (which alone
// knows which members are started and how far a learner has got). A follower
// forwards those four to the leader's client URL, as etcd does for promote, with the
// caller's token. With auth on, the four need the root role; MemberList does not.
// Thread-safety: called concurrently by gRPC worker threads; the channel cache is
// guarded by its own mutex.
#pragma once

#include <grpcpp/channel.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

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
  // Runs `local` on the leader; elsewhere sends the request to the leader with `remote`.
  template <typename Response, typename Local, typename Remote>
  grpc::Status OnLeader(const grpc::ServerContext& caller, Response* response, Local local, Remote remote);
  // Fills the header and the member list of a membership-change response.
  template <typename Response>
  void Finish(Response* response);

  etcdserver::EtcdServer* server_;  // not owned
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> leader_channels_;  // guarded by mu_
};

}  // namespace cairn::api
