#include "server/api/cluster_service.h"

namespace cairn::api {

grpc::Status ClusterService::MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                                        etcdserverpb::MemberListResponse* response) {
  auto* header = response->mutable_header();
  header->set_cluster_id(server_->cluster_id());
  header->set_member_id(server_->member_id());
  header->set_raft_term(server_->term());
  for (const auto& m : server_->Members()) {
    auto* member = response->add_members();
    member->set_id(m.id());
    member->set_name(m.name());
    member->set_islearner(m.is_learner());
    for (const auto& url : m.peer_urls()) member->add_peerurls(url);
    for (const auto& url : m.client_urls()) member->add_clienturls(url);
  }
  return grpc::Status::OK;
}

}  // namespace cairn::api
