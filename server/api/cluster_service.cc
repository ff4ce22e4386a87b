#include "server/api/cluster_service.h"

#include <chrono>
#include <future>
#include <memory>
#include <vector>

#include "server/api/caller.h"
#include "server/api/grpc_status.h"
#include "server/api/response_header.h"

namespace cairn::api {
namespace {

void FillMember(const cairnpb::Member& m, etcdserverpb::Member* out) {
  out->set_id(m.id());
  out->set_name(m.name());
  out->set_islearner(m.is_learner());
  for (const auto& url : m.peer_urls()) out->add_peerurls(url);
  for (const auto& url : m.client_urls()) out->add_clienturls(url);
}

}  // namespace

template <typename Response>
grpc::Status ClusterService::Change(const grpc::ServerContext& caller, const cairnpb::MemberChangeRequest& request,
                                    Response* response, cairnpb::Member* added) {
  if (cairn::Status st = CheckAdmin(*server_, caller); !st.ok()) return ToGrpc(st);
  auto changed = server_->ChangeMembership(request);
  if (!changed.ok()) return ToGrpc(changed.status());
  if (added != nullptr) *added = changed->added();
  FillHeaderWithoutRevision(*server_, response->mutable_header());
  // The change was applied on the leader; make it visible here too before answering, so
  // the caller's next MemberList on this member shows it (as etcd's member does). The
  // change may have removed this very member, which then never catches up, or this
  // member may lag: the leader's membership stands then.
  bool still_member = false;
  for (const auto& m : changed->members()) still_member = still_member || m.id() == server_->member_id();
  std::vector<cairnpb::Member> members(changed->members().begin(), changed->members().end());
  if (still_member) {
    auto caught_up = std::make_shared<std::promise<Status>>();
    auto done = caught_up->get_future();
    server_->ReadBarrierAsync([caught_up](Status st) { caught_up->set_value(std::move(st)); });
    if (done.wait_for(std::chrono::seconds(1)) == std::future_status::ready && done.get().ok()) {
      members = server_->Members();
    }
  }
  for (const auto& m : members) FillMember(m, response->add_members());
  return grpc::Status::OK;
}

grpc::Status ClusterService::MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                                        etcdserverpb::MemberListResponse* response) {
  FillHeaderWithoutRevision(*server_, response->mutable_header());
  for (const auto& m : server_->Members()) FillMember(m, response->add_members());
  return grpc::Status::OK;
}

grpc::Status ClusterService::MemberAdd(grpc::ServerContext* context, const etcdserverpb::MemberAddRequest* request,
                                       etcdserverpb::MemberAddResponse* response) {
  cairnpb::MemberChangeRequest change;
  *change.mutable_add() = *request;
  cairnpb::Member added;
  grpc::Status st = Change(*context, change, response, &added);
  if (st.ok()) FillMember(added, response->mutable_member());
  return st;
}

grpc::Status ClusterService::MemberRemove(grpc::ServerContext* context, const etcdserverpb::MemberRemoveRequest* request,
                                          etcdserverpb::MemberRemoveResponse* response) {
  cairnpb::MemberChangeRequest change;
  *change.mutable_remove() = *request;
  return Change(*context, change, response);
}

grpc::Status ClusterService::MemberUpdate(grpc::ServerContext* context, const etcdserverpb::MemberUpdateRequest* request,
                                          etcdserverpb::MemberUpdateResponse* response) {
  cairnpb::MemberChangeRequest change;
  *change.mutable_update() = *request;
  return Change(*context, change, response);
}

grpc::Status ClusterService::MemberPromote(grpc::ServerContext* context, const etcdserverpb::MemberPromoteRequest* request,
                                           etcdserverpb::MemberPromoteResponse* response) {
  cairnpb::MemberChangeRequest change;
  *change.mutable_promote() = *request;
  return Change(*context, change, response);
}

}  // namespace cairn::api
