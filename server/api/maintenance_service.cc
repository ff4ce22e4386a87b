#include "server/api/maintenance_service.h"

#include "server/api/grpc_status.h"

namespace cairn::api {

grpc::Status MaintenanceService::Status(grpc::ServerContext*, const etcdserverpb::StatusRequest*,
                                        etcdserverpb::StatusResponse* response) {
  const etcdserver::MemberStatus s = server_->GetStatus();
  auto* header = response->mutable_header();
  header->set_cluster_id(s.cluster_id);
  header->set_member_id(s.member_id);
  header->set_raft_term(s.term);
  header->set_revision(server_->CurrentRevision());
  response->set_version(kEtcdApiVersion);
  response->set_dbsize(s.db_size);
  response->set_dbsizeinuse(s.db_size_in_use);
  response->set_dbsizequota(s.quota_bytes);
  response->set_leader(s.leader);
  response->set_raftindex(s.commit_index);
  response->set_raftterm(s.term);
  response->set_raftappliedindex(s.applied_index);
  response->set_islearner(s.is_learner);
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::HashKV(grpc::ServerContext*, const etcdserverpb::HashKVRequest* request,
                                        etcdserverpb::HashKVResponse* response) {
  auto hash = server_->HashKV(request->revision());
  if (!hash.ok()) return ToGrpc(hash.status());
  auto* header = response->mutable_header();
  header->set_cluster_id(server_->cluster_id());
  header->set_member_id(server_->member_id());
  header->set_raft_term(server_->term());
  header->set_revision(hash->hash_revision);
  response->set_hash(hash->hash);
  response->set_compact_revision(hash->compact_revision);
  response->set_hash_revision(hash->hash_revision);
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::MoveLeader(grpc::ServerContext*, const etcdserverpb::MoveLeaderRequest* request,
                                            etcdserverpb::MoveLeaderResponse* response) {
  if (cairn::Status st = server_->MoveLeader(request->targetid()); !st.ok()) return ToGrpc(st);
  auto* header = response->mutable_header();
  header->set_cluster_id(server_->cluster_id());
  header->set_member_id(server_->member_id());
  header->set_raft_term(server_->term());
  header->set_revision(server_->CurrentRevision());
  return grpc::Status::OK;
}

}  // namespace cairn::api
