// The etcd v3 Maintenance service. Status reports what `etcdctl endpoint status`
// shows (version, db size, leader, raft index/term, applied index). The remaining
// methods (alarms, defragment, hash, snapshot stream, leader move, downgrade) belong
// to the maintenance milestone and answer Unimplemented until then.
// Thread-safety: called concurrently by gRPC worker threads; stateless.
#pragma once

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

// The etcd API version Cairn implements. Clients gate features on it (e.g. clientv3
// requires >= 3.4 for watch progress requests), so it is the etcd version whose
// behaviour we match, not Cairn's own release number.
inline constexpr char kEtcdApiVersion[] = "3.5.0";

class MaintenanceService final : public etcdserverpb::Maintenance::Service {
 public:
  explicit MaintenanceService(etcdserver::EtcdServer* server) : server_(server) {}

  grpc::Status Status(grpc::ServerContext*, const etcdserverpb::StatusRequest*,
                      etcdserverpb::StatusResponse*) override;
  grpc::Status HashKV(grpc::ServerContext*, const etcdserverpb::HashKVRequest*,
                      etcdserverpb::HashKVResponse*) override;
  // Leader only, like etcd (etcdctl move-leader finds the leader itself).
  grpc::Status MoveLeader(grpc::ServerContext*, const etcdserverpb::MoveLeaderRequest*,
                          etcdserverpb::MoveLeaderResponse*) override;

 private:
  etcdserver::EtcdServer* server_;  // not owned
};

}  // namespace cairn::api
