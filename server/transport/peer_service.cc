#include "server/transport/peer_service.h"

#include <cstdio>

#include "server/raft/codec.h"
#include "server/transport/snapshot_file.h"

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

Status PeerService::Admit(const grpc::ServerContext& context) {
  return san_check_ == nullptr ? Status::Ok() : san_check_->CheckCall(context);
}

grpc::Status PeerService::Stream(grpc::ServerContext* context, grpc::ServerReader<cairnpb::PeerMessage>* reader,
                                 cairnpb::PeerStreamSummary* summary) {
  if (Status st = Admit(*context); !st.ok()) return ToGrpc(st);
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
    if (Status st = handler_->DeliverFromPeer(std::move(decoded.value())); !st.ok()) return ToGrpc(st);
    ++received;
  }
  summary->set_received(received);
  return grpc::Status::OK;
}

grpc::Status PeerService::GetClusterInfo(grpc::ServerContext* context, const cairnpb::ClusterInfoRequest*,
                                         cairnpb::ClusterInfo* response) {
  if (Status st = Admit(*context); !st.ok()) return ToGrpc(st);
  *response = handler_->GetClusterInfo();
  return grpc::Status::OK;
}

grpc::Status PeerService::LeaseRenew(grpc::ServerContext* context, const cairnpb::LeaseRenewRequest* request,
                                     cairnpb::LeaseRenewResponse* response) {
  if (Status st = Admit(*context); !st.ok()) return ToGrpc(st);
  auto ttl = handler_->RenewLeaseAsLeader(request->id());
  if (!ttl.ok()) return ToGrpc(ttl.status());
  response->set_ttl(ttl.value());
  return grpc::Status::OK;
}

grpc::Status PeerService::LeaseTimeToLive(grpc::ServerContext* context, const etcdserverpb::LeaseTimeToLiveRequest* request,
                                          etcdserverpb::LeaseTimeToLiveResponse* response) {
  if (Status st = Admit(*context); !st.ok()) return ToGrpc(st);
  auto answer = handler_->LeaseTimeToLiveAsLeader(*request);
  if (!answer.ok()) return ToGrpc(answer.status());
  *response = std::move(answer.value());
  return grpc::Status::OK;
}

grpc::Status PeerService::MemberChange(grpc::ServerContext* context, const cairnpb::MemberChangeRequest* request,
                                       cairnpb::MemberChangeResponse* response) {
  if (Status st = Admit(*context); !st.ok()) return ToGrpc(st);
  auto answer = handler_->ChangeMembershipAsLeader(*request);
  if (!answer.ok()) return ToGrpc(answer.status());
  *response = std::move(answer.value());
  return grpc::Status::OK;
}

grpc::Status PeerService::SendSnapshot(grpc::ServerContext* context, grpc::ServerReader<cairnpb::SnapshotChunk>* reader,
                                       cairnpb::SnapshotAck*) {
  if (Status st = Admit(*context); !st.ok()) return ToGrpc(st);
  std::unique_lock busy(snapshot_mu_, std::try_to_lock);
  if (!busy.owns_lock()) return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "already receiving a snapshot");
  cairnpb::SnapshotChunk chunk;
  if (!reader->Read(&chunk)) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "empty snapshot stream");
  if (chunk.cluster_id() != handler_->ClusterId()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "snapshot from another cluster (" +
                                                                    Hex(chunk.cluster_id()) + ")");
  }
  auto message = raft::DecodeMessage(chunk.raft_message());
  if (!message.ok() || message->type != raft::MessageType::MsgSnap) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "snapshot stream does not start with a MsgSnap");
  }
  const std::string path = handler_->SnapshotScratchPath();
  SnapshotFileWriter file(path);
  if (!file.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "cannot write " + path);
  std::string digest;
  do {
    if (!file.Append(chunk.data())) return grpc::Status(grpc::StatusCode::INTERNAL, "writing " + path + " failed");
    if (!chunk.sha256().empty()) digest = chunk.sha256();
  } while (reader->Read(&chunk));
  Status done = file.Finish(digest);
  if (!done.ok()) return grpc::Status(grpc::StatusCode::DATA_LOSS, done.message());
  if (Status st = handler_->InstallSnapshot(std::move(message.value()), path); !st.ok()) return ToGrpc(st);
  return grpc::Status::OK;
}

}  // namespace cairn::transport
