#include "server/transport/peer_service.h"

#include <cstdio>

#include "server/raft/codec.h"

namespace cairn::transport {
namespace {

grpc::Status ToGrpc(const Status& st) {
  return grpc::Status(static_cast<grpc::StatusCode>(st.code()), st.message());
}

std::string Hex(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace

grpc::Status PeerService::Stream(grpc::ServerContext*, grpc::ServerReader<cairnpb::PeerMessage>* reader,
                                 cairnpb::PeerStreamSummary* summary) {
  const uint64_t cluster_id = handler_->ClusterId();
  cairnpb::PeerMessage message;
  uint64_t received = 0;
  while (reader->Read(&message)) {
    if (message.cluster_id() != cluster_id) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "cluster ID mismatch: this member belongs to cluster " + Hex(cluster_id) +
                              ", the sender to cluster " + Hex(message.cluster_id()));
    }
    auto decoded = raft::DecodeMessage(message.raft_message());
    if (!decoded.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "undecodable raft message: " + decoded.status().message());
    }
    if (Status st = handler_->DeliverFromPeer(std::move(decoded.value())); !st.ok()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, st.message());
    }
    ++received;
  }
  summary->set_received(received);
  return grpc::Status::OK;
}

grpc::Status PeerService::GetClusterInfo(grpc::ServerContext*, const cairnpb::ClusterInfoRequest*,
                                         cairnpb::ClusterInfo* response) {
  *response = handler_->GetClusterInfo();
  return grpc::Status::OK;
}

grpc::Status PeerService::LeaseRenew(grpc::ServerContext*, const cairnpb::LeaseRenewRequest* request,
                                     cairnpb::LeaseRenewResponse* response) {
  auto ttl = handler_->RenewLeaseAsLeader(request->id());
  if (!ttl.ok()) return ToGrpc(ttl.status());
  response->set_ttl(ttl.value());
  return grpc::Status::OK;
}

grpc::Status PeerService::LeaseTimeToLive(grpc::ServerContext*, const etcdserverpb::LeaseTimeToLiveRequest* request,
                                          etcdserverpb::LeaseTimeToLiveResponse* response) {
  auto answer = handler_->LeaseTimeToLiveAsLeader(*request);
  if (!answer.ok()) return ToGrpc(answer.status());
  *response = std::move(answer.value());
  return grpc::Status::OK;
}

}  // namespace cairn::transport
