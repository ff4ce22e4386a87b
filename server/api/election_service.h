// etcd's server-side Election service (v3electionpb.Election), the same recipe as
// clientv3's concurrency.Election: each campaigner's lease owns "<name>/<lease hex>"
// holding its value; the leader is the first-created key under "<name>/". Campaign
// waits for every earlier campaigner to go; Proclaim and Resign act only while the
// caller's key still has the create revision it won with; Observe streams the
// leader's value after each change (new leaders and proclamations), in order; values
// proclaimed faster than one member read apart may be coalesced into the latest.
// Errors are etcd's: "election: not leader", "election: no leader",
// "\"leader\" field must be provided".
// Thread-safety: called concurrently by gRPC threads (Campaign and Observe block their
// thread, bounded by the client's deadline or cancellation, or the member stopping);
// stateless.
#pragma once

#include "etcd/server/v3election/v3election.grpc.pb.h"
#include "server/api/long_calls.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

class ElectionService final : public v3electionpb::Election::Service {
 public:
  // `server` and `calls` are not owned and must outlive the service.
  ElectionService(etcdserver::EtcdServer* server, const LongCalls* calls) : server_(server), calls_(calls) {}

  grpc::Status Campaign(grpc::ServerContext*, const v3electionpb::CampaignRequest*,
                        v3electionpb::CampaignResponse*) override;
  grpc::Status Proclaim(grpc::ServerContext*, const v3electionpb::ProclaimRequest*,
                        v3electionpb::ProclaimResponse*) override;
  grpc::Status Leader(grpc::ServerContext*, const v3electionpb::LeaderRequest*, v3electionpb::LeaderResponse*) override;
  grpc::Status Observe(grpc::ServerContext*, const v3electionpb::LeaderRequest*,
                       grpc::ServerWriter<v3electionpb::LeaderResponse>*) override;
  grpc::Status Resign(grpc::ServerContext*, const v3electionpb::ResignRequest*,
                      v3electionpb::ResignResponse*) override;

 private:
  // Txn on the leader key guarded by "its create revision is still leader.rev()".
  Result<etcdserverpb::TxnResponse> IfStillOwner(grpc::ServerContext* context, const v3electionpb::LeaderKey& leader,
                                                 etcdserverpb::RequestOp op);
  // The first-created kv under `prefix` (none: empty), read linearizably.
  Result<etcdserverpb::RangeResponse> CurrentLeader(grpc::ServerContext* context, const std::string& prefix);

  etcdserver::EtcdServer* server_;
  const LongCalls* calls_;
};

}  // namespace cairn::api
