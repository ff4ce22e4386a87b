// The etcd v3 Lease service: grant and revoke go through the Raft log; keep-alives
// renew on the leader (a follower forwards them to it over the peer connection);
// time-to-live and the lease list are answered from the lessor.
// Thread-safety: called concurrently by gRPC threads; `next_id_` is atomic.
#pragma once

#include <atomic>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/api/long_calls.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

class LeaseService final : public etcdserverpb::Lease::Service {
 public:
  // `server` and `calls` are not owned and must outlive the service. Keep-alive streams
  // are registered with `calls`, which cancels them when the member stops.
  LeaseService(etcdserver::EtcdServer* server, LongCalls* calls);

  grpc::Status LeaseGrant(grpc::ServerContext*, const etcdserverpb::LeaseGrantRequest*,
                          etcdserverpb::LeaseGrantResponse*) override;
  grpc::Status LeaseRevoke(grpc::ServerContext*, const etcdserverpb::LeaseRevokeRequest*,
                           etcdserverpb::LeaseRevokeResponse*) override;
  grpc::Status LeaseKeepAlive(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<etcdserverpb::LeaseKeepAliveResponse, etcdserverpb::LeaseKeepAliveRequest>*) override;
  grpc::Status LeaseTimeToLive(grpc::ServerContext*, const etcdserverpb::LeaseTimeToLiveRequest*,
                               etcdserverpb::LeaseTimeToLiveResponse*) override;
  grpc::Status LeaseLeases(grpc::ServerContext*, const etcdserverpb::LeaseLeasesRequest*,
                           etcdserverpb::LeaseLeasesResponse*) override;

 private:
  // A fresh positive lease ID: this member's ID in the high bits keeps IDs chosen by
  // different members apart; the low bits count up from the start time.
  int64_t NextLeaseId();

  etcdserver::EtcdServer* server_;
  LongCalls* calls_;
  std::atomic<uint64_t> next_id_;
};

}  // namespace cairn::api
