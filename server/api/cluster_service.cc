#include "server/api/cluster_service.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <future>

#include "server/api/caller.h"
#include "server/api/grpc_status.h"
#include "server/api/response_header.h"
#include "server/etcdserver/errors.h"
#include "server/transport/grpc_address.h"
#include "server/transport/tls.h"

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
void ClusterService::Finish(Response* response) {
  FillHeaderWithoutRevision(*server_, response->mutable_header());
  for (const auto& m : server_->Members()) FillMember(m, response->add_members());
}

template <typename Response, typename Local, typename Remote>
grpc::Status ClusterService::OnLeader(const grpc::ServerContext& caller, Response* response, Local local,
                                      Remote remote) {
  const uint64_t leader = server_->Leader();
  if (leader == server_->member_id()) {
    Status st = local();
    if (!st.ok()) return ToGrpc(st);
    Finish(response);
    return grpc::Status::OK;
  }
  if (leader == 0) return ToGrpc(etcdserver::ErrNoLeader());
  std::string url;
  for (const auto& m : server_->Members()) {
    if (m.id() == leader && m.client_urls_size() > 0) url = m.client_urls(0);
  }
  if (url.empty()) return ToGrpc(etcdserver::ErrNoLeader());
  std::shared_ptr<grpc::Channel> channel;
  {
    std::lock_guard lock(mu_);
    auto& cached = leader_channels_[url];
    if (!cached) {
      auto target = transport::DialTarget(url);
      if (!target.ok()) return ToGrpc(target.status());
      cached = grpc::CreateChannel(target.value(),
                                   transport::ChannelCredentialsFor(url, server_->options().client_tls));
    }
    channel = cached;
  }
  auto stub = etcdserverpb::Cluster::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  // The leader checks the caller again: it must see the same token.
  for (const char* name : {"token", "authorization"}) {
    auto it = caller.client_metadata().find(name);
    if (it != caller.client_metadata().end()) context.AddMetadata(name, std::string(it->second.data(), it->second.size()));
  }
  grpc::Status status = remote(*stub, context);
  if (!status.ok()) return status;
  // The change is applied on the leader; make it visible here too before answering, so
  // the caller's next MemberList on this member shows it (as etcd's member does). The
  // change may have removed this very member, which then never catches up: the
  // leader's answer stands.
  bool still_member = false;
  for (const auto& m : response->members()) still_member = still_member || m.id() == server_->member_id();
  if (!still_member) return grpc::Status::OK;
  auto caught_up = std::make_shared<std::promise<Status>>();
  auto done = caught_up->get_future();
  server_->ReadBarrierAsync([caught_up](Status st) { caught_up->set_value(std::move(st)); });
  if (done.wait_for(std::chrono::seconds(1)) == std::future_status::ready && done.get().ok()) {
    response->clear_members();
    for (const auto& m : server_->Members()) FillMember(m, response->add_members());
  }
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
  if (cairn::Status st = CheckAdmin(*server_, *context); !st.ok()) return ToGrpc(st);
  return OnLeader(
      *context, response,
      [&]() -> Status {
        auto added = server_->AddMember({request->peerurls().begin(), request->peerurls().end()},
                                        request->islearner());
        if (!added.ok()) return added.status();
        FillMember(added.value(), response->mutable_member());
        return Status::Ok();
      },
      [&](etcdserverpb::Cluster::Stub& stub, grpc::ClientContext& ctx) { return stub.MemberAdd(&ctx, *request, response); });
}

grpc::Status ClusterService::MemberRemove(grpc::ServerContext* context, const etcdserverpb::MemberRemoveRequest* request,
                                          etcdserverpb::MemberRemoveResponse* response) {
  if (cairn::Status st = CheckAdmin(*server_, *context); !st.ok()) return ToGrpc(st);
  return OnLeader(
      *context, response, [&] { return server_->RemoveMember(request->id()); },
      [&](etcdserverpb::Cluster::Stub& stub, grpc::ClientContext& ctx) {
        return stub.MemberRemove(&ctx, *request, response);
      });
}

grpc::Status ClusterService::MemberUpdate(grpc::ServerContext* context, const etcdserverpb::MemberUpdateRequest* request,
                                          etcdserverpb::MemberUpdateResponse* response) {
  if (cairn::Status st = CheckAdmin(*server_, *context); !st.ok()) return ToGrpc(st);
  return OnLeader(
      *context, response,
      [&] { return server_->UpdateMember(request->id(), {request->peerurls().begin(), request->peerurls().end()}); },
      [&](etcdserverpb::Cluster::Stub& stub, grpc::ClientContext& ctx) {
        return stub.MemberUpdate(&ctx, *request, response);
      });
}

grpc::Status ClusterService::MemberPromote(grpc::ServerContext* context, const etcdserverpb::MemberPromoteRequest* request,
                                           etcdserverpb::MemberPromoteResponse* response) {
  if (cairn::Status st = CheckAdmin(*server_, *context); !st.ok()) return ToGrpc(st);
  return OnLeader(
      *context, response, [&] { return server_->PromoteMember(request->id()); },
      [&](etcdserverpb::Cluster::Stub& stub, grpc::ClientContext& ctx) {
        return stub.MemberPromote(&ctx, *request, response);
      });
}

}  // namespace cairn::api
