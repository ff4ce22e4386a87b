#include "server/api/maintenance_service.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <string>

#include "server/api/caller.h"
#include "server/api/grpc_status.h"
#include "server/api/response_header.h"
#include "server/auth/errors.h"

namespace cairn::api {

grpc::Status MaintenanceService::Snapshot(grpc::ServerContext* context, const etcdserverpb::SnapshotRequest*,
                                          grpc::ServerWriter<etcdserverpb::SnapshotResponse>* writer) {
  if (cairn::Status st = CheckAdmin(*server_, *context); !st.ok()) return ToGrpc(auth::AsMaintenanceError(st));
  // etcd's snapshotSendBufferSize.
  constexpr size_t kChunkBytes = 32 * 1024;
  auto snapshot = server_->SnapshotStore();
  if (!snapshot.ok()) return ToGrpc(snapshot.status());
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  CAIRN_CHECK(sha != nullptr && EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) == 1);
  etcdserverpb::SnapshotResponse response;
  // The snapshot's own revision, not the store's now (later, if writes came meanwhile):
  // a backup records it, and verifying a restore compares HashKV at exactly it.
  response.mutable_header()->set_revision(snapshot->revision);
  FillHeader(*server_, response.mutable_header());
  std::string chunk(kChunkBytes, '\0');
  uint64_t remaining = snapshot->size;
  while (remaining > 0) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
    const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining, kChunkBytes));
    if (!snapshot->data.read(chunk.data(), static_cast<std::streamsize>(n))) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "etcdserver: reading the store snapshot failed");
    }
    remaining -= n;
    CAIRN_CHECK(EVP_DigestUpdate(sha.get(), chunk.data(), n) == 1);
    response.set_remaining_bytes(remaining);
    response.set_blob(chunk.data(), n);
    if (!writer->Write(response)) return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
  }
  // The digest travels as one more message with remaining_bytes 0; clients that restore
  // the file check it, and a truncated stream never ends with a valid one.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  CAIRN_CHECK(EVP_DigestFinal_ex(sha.get(), digest, &digest_len) == 1);
  response.set_remaining_bytes(0);
  response.set_blob(digest, digest_len);
  if (!writer->Write(response)) return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::Alarm(grpc::ServerContext* context, const etcdserverpb::AlarmRequest* request,
                                       etcdserverpb::AlarmResponse* response) {
  cairnpb::RaftRequest raft_request;
  *raft_request.mutable_alarm() = *request;
  auto result = ProposeAsCallerAndWait(*server_, *context, std::move(raft_request));
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(std::get<etcdserverpb::AlarmResponse>(result.value()));
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::Defragment(grpc::ServerContext* context, const etcdserverpb::DefragmentRequest*,
                                            etcdserverpb::DefragmentResponse* response) {
  if (cairn::Status st = CheckAdmin(*server_, *context); !st.ok()) return ToGrpc(auth::AsMaintenanceError(st));
  if (cairn::Status st = server_->Defragment(); !st.ok()) return ToGrpc(st);
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::Status(grpc::ServerContext*, const etcdserverpb::StatusRequest*,
                                        etcdserverpb::StatusResponse* response) {
  const etcdserver::MemberStatus s = server_->GetStatus();
  FillHeader(*server_, response->mutable_header());
  response->set_version(kEtcdApiVersion);
  response->set_dbsize(s.db_size);
  response->set_dbsizeinuse(s.db_size_in_use);
  response->set_dbsizequota(s.quota_bytes);
  response->set_leader(s.leader);
  response->set_raftindex(s.commit_index);
  response->set_raftterm(s.term);
  response->set_raftappliedindex(s.applied_index);
  response->set_islearner(s.is_learner);
  for (const auto& alarm : server_->RaisedAlarms()) response->add_errors(etcdserver::Alarms::Describe(alarm));
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::HashKV(grpc::ServerContext* context, const etcdserverpb::HashKVRequest* request,
                                        etcdserverpb::HashKVResponse* response) {
  if (cairn::Status st = CheckAdmin(*server_, *context); !st.ok()) return ToGrpc(auth::AsMaintenanceError(st));
  auto hash = server_->HashKV(request->revision());
  if (!hash.ok()) return ToGrpc(hash.status());
  response->mutable_header()->set_revision(hash->hash_revision);
  FillHeader(*server_, response->mutable_header());
  response->set_hash(hash->hash);
  response->set_compact_revision(hash->compact_revision);
  response->set_hash_revision(hash->hash_revision);
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::MoveLeader(grpc::ServerContext*, const etcdserverpb::MoveLeaderRequest* request,
                                            etcdserverpb::MoveLeaderResponse* response) {
  if (cairn::Status st = server_->MoveLeader(request->targetid()); !st.ok()) return ToGrpc(st);
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

}  // namespace cairn::api
