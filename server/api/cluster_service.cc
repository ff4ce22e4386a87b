#include "server/api/cluster_service.h"

namespace cairn::api {

grpc::Status ClusterService::MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                                        etcdserverpb::MemberListResponse* response) {
  auto* header = response->mutable_header();
  header->set_cluster_id(server_->cluster_id());
  header->set_member_id(server_->member_id());
  header->set_raft_term(server_->term());
  const auto& options = server_->options();
  auto* self = response->add_members();
  self->set_id(server_->member_id());
  self->set_name(options.name);
  for (const auto& url : options.advertise_peer_urls) self->add_peerurls(url);
  for (const auto& url : options.advertise_client_urls) self->add_clienturls(url);
  return grpc::Status::OK;
}

}  // namespace cairn::api
