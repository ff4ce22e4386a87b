// etcd's server-side Lock service (v3lockpb.Lock), the same recipe as clientv3's
// concurrency.Mutex: the caller's lease owns key "<name>/<lease hex>"; the lock is held
// once every key under "<name>/" created before it is gone. Unlock deletes the key; a
// revoked or expired lease releases the lock with its key.
// Thread-safety: called concurrently by gRPC threads (Lock blocks its thread while
// waiting, bounded by the client's deadline or cancellation, or the member stopping);
// stateless.
#pragma once

#include "etcd/server/v3lock/v3lock.grpc.pb.h"
#include "server/api/long_calls.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

class LockService final : public v3lockpb::Lock::Service {
 public:
  // `server` and `calls` are not owned and must outlive the service.
  LockService(etcdserver::EtcdServer* server, const LongCalls* calls) : server_(server), calls_(calls) {}

  grpc::Status Lock(grpc::ServerContext*, const v3lockpb::LockRequest*, v3lockpb::LockResponse*) override;
  grpc::Status Unlock(grpc::ServerContext*, const v3lockpb::UnlockRequest*, v3lockpb::UnlockResponse*) override;

 private:
  etcdserver::ApplyResult DeleteKey(grpc::ServerContext* context, const std::string& key);

  etcdserver::EtcdServer* server_;
  const LongCalls* calls_;
};

}  // namespace cairn::api
