#include "server/api/lease_service.h"

#include <chrono>

#include "server/api/caller.h"
#include "server/api/grpc_status.h"
#include "server/api/response_header.h"
#include "server/auth/request_permissions.h"

namespace cairn::api {

LeaseService::LeaseService(etcdserver::EtcdServer* server, LongCalls* calls)
    : server_(server),
      calls_(calls),
      next_id_(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count())) {}

int64_t LeaseService::NextLeaseId() {
  constexpr uint64_t kCounterBits = 40;
  while (true) {
    const uint64_t counter = next_id_.fetch_add(1) & ((uint64_t{1} << kCounterBits) - 1);
    const auto id = static_cast<int64_t>(((server_->member_id() << kCounterBits) | counter) & INT64_MAX);
    if (id != 0 && !server_->lessor().Exists(id)) return id;
  }
}

grpc::Status LeaseService::LeaseGrant(grpc::ServerContext* context, const etcdserverpb::LeaseGrantRequest* request,
                                      etcdserverpb::LeaseGrantResponse* response) {
  if (request->ttl() > lease::kMaxLeaseTtl) return ToGrpc(lease::ErrLeaseTtlTooLarge());
  if (cairn::Status st = server_->CheckQuota(); !st.ok()) return ToGrpc(st);
  cairnpb::RaftRequest raft_request;
  auto* grant = raft_request.mutable_lease_grant();
  grant->set_id(request->id() != 0 ? request->id() : NextLeaseId());
  grant->set_ttl(server_->lessor().EffectiveTtl(request->ttl()));
  auto result = ProposeAsCallerAndWait(*server_, *context, std::move(raft_request));
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(std::get<etcdserverpb::LeaseGrantResponse>(result.value()));
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status LeaseService::LeaseRevoke(grpc::ServerContext* context, const etcdserverpb::LeaseRevokeRequest* request,
                                       etcdserverpb::LeaseRevokeResponse* response) {
  cairnpb::RaftRequest raft_request;
  raft_request.mutable_lease_revoke()->set_id(request->id());
  auto result = ProposeAsCallerAndWait(*server_, *context, std::move(raft_request));
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(std::get<etcdserverpb::LeaseRevokeResponse>(result.value()));
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status LeaseService::LeaseKeepAlive(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<etcdserverpb::LeaseKeepAliveResponse, etcdserverpb::LeaseKeepAliveRequest>* stream) {
  // Blocked reading its client between keep-alives, so only a cancel ends it when the
  // member stops. clientv3 retries a keep-alive stream that ends with any error.
  const LongCalls::Registration registration(calls_, context);
  etcdserverpb::LeaseKeepAliveRequest request;
  while (stream->Read(&request)) {
    etcdserverpb::LeaseKeepAliveResponse response;
    response.set_id(request.id());
    // etcd answers a keep-alive for an unknown (e.g. expired) lease with TTL 0, and
    // ends the stream with any other error (no leader, leader changed) for the client
    // to retry.
    auto ttl = server_->RenewLease(request.id());
    if (!ttl.ok() && ttl.status().code() != StatusCode::kNotFound) return ToGrpc(ttl.status());
    response.set_ttl(ttl.ok() ? ttl.value() : 0);
    FillHeader(*server_, response.mutable_header());
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

grpc::Status LeaseService::LeaseTimeToLive(grpc::ServerContext* context,
                                           const etcdserverpb::LeaseTimeToLiveRequest* request,
                                           etcdserverpb::LeaseTimeToLiveResponse* response) {
  // Its keys are the lease's secret: the caller must be able to read each of them.
  if (server_->auth_store().enabled()) {
    auto caller = CallerOf(*server_, *context);
    if (!caller.ok()) return ToGrpc(caller.status());
    auto lease_keys = [this](int64_t id) {
      auto ttl = server_->lessor().TimeToLive(id, true);
      return ttl ? std::move(ttl->keys) : std::vector<std::string>{};
    };
    Status st = auth::CheckLeaseKeys(server_->auth_store(), *caller, request->id(), lease_keys, /*write=*/false);
    if (!st.ok()) return ToGrpc(st);
  }
  auto answer = server_->LeaseTimeToLive(*request);
  if (!answer.ok()) return ToGrpc(answer.status());
  *response = std::move(answer.value());
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status LeaseService::LeaseLeases(grpc::ServerContext*, const etcdserverpb::LeaseLeasesRequest*,
                                       etcdserverpb::LeaseLeasesResponse* response) {
  if (Status st = server_->ReadBarrier(); !st.ok()) return ToGrpc(st);
  for (int64_t id : server_->lessor().Ids()) response->add_leases()->set_id(id);
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

}  // namespace cairn::api
