// The etcd v3 Cluster service. MemberList reports the members Raft knows with their
// names and URLs (clients such as python-etcd3 use it to find the leader). Member
// changes (add, remove, update, promote) arrive with multi-member clusters and answer
// Unimplemented until then.
// Thread-safety: called concurrently by gRPC worker threads; stateless.
#pragma once

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

class ClusterService final : public etcdserverpb::Cluster::Service {
 public:
  explicit ClusterService(etcdserver::EtcdServer* server) : server_(server) {}

  grpc::Status MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                          etcdserverpb::MemberListResponse*) override;

 private:
  etcdserver::EtcdServer* server_;  // not owned
};

}  // namespace cairn::api
