#include "server/api/election_service.h"

#include "server/api/caller.h"
#include "server/api/recipes.h"
#include "server/api/response_header.h"
#include "server/auth/request_permissions.h"

namespace cairn::api {
namespace {

grpc::Status NotLeader() { return grpc::Status(grpc::StatusCode::UNKNOWN, "election: not leader"); }
grpc::Status NoLeader() { return grpc::Status(grpc::StatusCode::UNKNOWN, "election: no leader"); }
grpc::Status MissingLeaderKey() {
  return grpc::Status(grpc::StatusCode::UNKNOWN, "\"leader\" field must be provided");
}

etcdserverpb::RequestOp PutOp(const std::string& key, const std::string& value, int64_t lease, bool keep_lease) {
  etcdserverpb::RequestOp op;
  auto* put = op.mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  if (keep_lease) {
    put->set_ignore_lease(true);
  } else {
    put->set_lease(lease);
  }
  return op;
}

}  // namespace

Result<etcdserverpb::TxnResponse> ElectionService::IfStillOwner(grpc::ServerContext* context, const v3electionpb::LeaderKey& leader,
                                                                etcdserverpb::RequestOp op) {
  cairnpb::RaftRequest request;
  auto* txn = request.mutable_txn();
  auto* owner = txn->add_compare();
  owner->set_key(leader.key());
  owner->set_target(etcdserverpb::Compare::CREATE);
  owner->set_result(etcdserverpb::Compare::EQUAL);
  owner->set_create_revision(leader.rev());
  *txn->add_success() = std::move(op);
  auto result = ProposeAsCallerAndWait(*server_, *context, std::move(request));
  if (!result.ok()) return result.status();
  return std::get<etcdserverpb::TxnResponse>(std::move(result.value()));
}

Result<etcdserverpb::RangeResponse> ElectionService::CurrentLeader(grpc::ServerContext* context,
                                                                   const std::string& prefix) {
  CAIRN_RETURN_IF_ERROR(server_->ReadBarrier());
  const etcdserverpb::RangeRequest range = FirstCreatedOp(prefix).request_range();
  auto caller = CallerOf(*server_, *context);
  if (!caller.ok()) return caller.status();
  CAIRN_RETURN_IF_ERROR(auth::CheckRange(server_->auth_store(), *caller, range));
  return server_->applier().Range(range);
}

grpc::Status ElectionService::Campaign(grpc::ServerContext* context, const v3electionpb::CampaignRequest* request,
                                       v3electionpb::CampaignResponse* response) {
  const std::string prefix = request->name() + "/";
  const std::string key = LeaseKey(prefix, request->lease());
  cairnpb::RaftRequest raft_request;
  auto* txn = raft_request.mutable_txn();
  auto* absent = txn->add_compare();
  absent->set_key(key);
  absent->set_target(etcdserverpb::Compare::CREATE);
  absent->set_result(etcdserverpb::Compare::EQUAL);
  absent->set_create_revision(0);
  *txn->add_success() = PutOp(key, request->value(), request->lease(), /*keep_lease=*/false);
  txn->add_failure()->mutable_request_range()->set_key(key);
  auto result = ProposeAsCallerAndWait(*server_, *context, std::move(raft_request));
  if (!result.ok()) return RecipeStatus(result.status());
  const auto& created = std::get<etcdserverpb::TxnResponse>(result.value());
  v3electionpb::LeaderKey leader;
  leader.set_name(request->name());
  leader.set_key(key);
  leader.set_lease(request->lease());
  if (created.succeeded()) {
    leader.set_rev(created.header().revision());
  } else {
    // This lease already campaigns: continue that campaign, with the new value.
    const auto& existing = created.responses(0).response_range().kvs(0);
    leader.set_rev(existing.create_revision());
    if (existing.value() != request->value()) {
      auto proclaimed = IfStillOwner(context, leader, PutOp(key, request->value(), 0, /*keep_lease=*/true));
      if (!proclaimed.ok()) return RecipeStatus(proclaimed.status());
    }
  }
  Status waited = WaitDeletes(server_, prefix, leader.rev() - 1, context, *calls_);
  if (!waited.ok()) {
    etcdserverpb::RequestOp resign;
    resign.mutable_request_delete_range()->set_key(key);
    (void)IfStillOwner(context, leader, std::move(resign));  // leave the queue, as clientv3 does
    return RecipeStatus(waited);
  }
  FillHeader(*server_, response->mutable_header());
  *response->mutable_leader() = std::move(leader);
  return grpc::Status::OK;
}

grpc::Status ElectionService::Proclaim(grpc::ServerContext* context, const v3electionpb::ProclaimRequest* request,
                                       v3electionpb::ProclaimResponse* response) {
  if (!request->has_leader()) return MissingLeaderKey();
  auto result = IfStillOwner(context, request->leader(), PutOp(request->leader().key(), request->value(), 0, true));
  if (!result.ok()) return RecipeStatus(result.status());
  if (!result->succeeded()) return NotLeader();
  response->mutable_header()->set_revision(result->header().revision());
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status ElectionService::Leader(grpc::ServerContext* context, const v3electionpb::LeaderRequest* request,
                                     v3electionpb::LeaderResponse* response) {
  auto leader = CurrentLeader(context, request->name() + "/");
  if (!leader.ok()) return RecipeStatus(leader.status());
  if (leader->kvs_size() == 0) return NoLeader();
  response->mutable_header()->set_revision(leader->header().revision());
  FillHeader(*server_, response->mutable_header());
  *response->mutable_kv() = leader->kvs(0);
  return grpc::Status::OK;
}

// As etcd's Election.Observe: every proclamation of the current leader is sent, in
// order; when the leader's key goes, the next leader is read and followed.
grpc::Status ElectionService::Observe(grpc::ServerContext* context, const v3electionpb::LeaderRequest* request,
                                      grpc::ServerWriter<v3electionpb::LeaderResponse>* writer) {
  const std::string prefix = request->name() + "/";
  std::string last_key;
  int64_t last_mod = 0;
  auto send = [&](const mvccpb::KeyValue& kv, int64_t revision) {
    if (kv.key() == last_key && kv.mod_revision() == last_mod) return true;
    v3electionpb::LeaderResponse response;
    response.mutable_header()->set_revision(revision);
    FillHeader(*server_, response.mutable_header());
    *response.mutable_kv() = kv;
    last_key = kv.key();
    last_mod = kv.mod_revision();
    return writer->Write(response);
  };
  while (!context->IsCancelled()) {
    auto leader = CurrentLeader(context, prefix);
    if (!leader.ok()) return RecipeStatus(leader.status());
    watch::WatchSpec next_change;
    next_change.start_revision = leader->header().revision() + 1;
    if (leader->kvs_size() == 0) {
      next_change.key = prefix;  // wait for the first campaigner
      next_change.range_end = PrefixRangeEnd(prefix);
      auto first = WaitForEvents(server_->watch_hub(), next_change, context, *calls_);
      if (!first.ok()) return RecipeStatus(first.status());
      continue;
    }
    const mvccpb::KeyValue& kv = leader->kvs(0);
    if (!send(kv, leader->header().revision())) break;
    next_change.key = kv.key();
    for (bool deleted = false; !deleted;) {
      auto events = WaitForEvents(server_->watch_hub(), next_change, context, *calls_);
      if (!events.ok()) return RecipeStatus(events.status());
      if (events->empty()) break;  // compacted: read the leader again
      for (const auto& e : *events) {
        if (e->type() == mvccpb::Event::DELETE) {
          deleted = true;
          break;
        }
        if (!send(e->kv(), e->kv().mod_revision())) return grpc::Status::OK;
        next_change.start_revision = e->kv().mod_revision() + 1;
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status ElectionService::Resign(grpc::ServerContext* context, const v3electionpb::ResignRequest* request,
                                     v3electionpb::ResignResponse* response) {
  if (!request->has_leader()) return MissingLeaderKey();
  etcdserverpb::RequestOp del;
  del.mutable_request_delete_range()->set_key(request->leader().key());
  auto result = IfStillOwner(context, request->leader(), std::move(del));
  if (!result.ok()) return RecipeStatus(result.status());
  response->mutable_header()->set_revision(result->header().revision());
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

}  // namespace cairn::api
