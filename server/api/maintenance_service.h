// The etcd v3 Maintenance service. Status reports what `etcdctl endpoint status`
// shows (version, db size, leader, raft index/term, applied index). Snapshot streams a
// consistent copy of this member's store (a SQLite database, not etcd's bbolt file) in
// 32 KiB chunks followed, as etcd does, by the SHA-256 of everything sent, so
// `etcdctl snapshot save` works. Defragment rewrites this member's database without
// its free pages. Alarm lists, raises and disarms the cluster's alarms through the log
// (etcd's NOSPACE workflow: compact, defrag, `etcdctl alarm disarm`); Status lists
// them as errors. Hash and Downgrade answer Unimplemented. With auth on, Snapshot,
// Defragment and HashKV need the root role, refused with etcd 3.4's untranslated
// errors (auth/errors.h); Status, Alarm and MoveLeader are open, as in etcd 3.4.
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
  grpc::Status Snapshot(grpc::ServerContext*, const etcdserverpb::SnapshotRequest*,
                        grpc::ServerWriter<etcdserverpb::SnapshotResponse>*) override;
  grpc::Status Defragment(grpc::ServerContext*, const etcdserverpb::DefragmentRequest*,
                          etcdserverpb::DefragmentResponse*) override;
  grpc::Status Alarm(grpc::ServerContext*, const etcdserverpb::AlarmRequest*, etcdserverpb::AlarmResponse*) override;
  // Leader only, like etcd (etcdctl move-leader finds the leader itself).
  grpc::Status MoveLeader(grpc::ServerContext*, const etcdserverpb::MoveLeaderRequest*,
                          etcdserverpb::MoveLeaderResponse*) override;

 private:

  etcdserver::EtcdServer* server_;  // not owned
};

}  // namespace cairn::api
