#include "server/api/lock_service.h"

#include "server/api/caller.h"
#include "server/api/recipes.h"
#include "server/api/response_header.h"

namespace cairn::api {

etcdserver::ApplyResult LockService::DeleteKey(grpc::ServerContext* context, const std::string& key) {
  cairnpb::RaftRequest request;
  request.mutable_delete_range()->set_key(key);
  return ProposeAsCallerAndWait(*server_, *context, std::move(request));
}

grpc::Status LockService::Lock(grpc::ServerContext* context, const v3lockpb::LockRequest* request,
                               v3lockpb::LockResponse* response) {
  const std::string prefix = request->name() + "/";
  const std::string my_key = LeaseKey(prefix, request->lease());
  // Create our key unless this lease already waits for or holds the lock (locking twice
  // with one lease is one acquisition), and read the current owner in the same revision.
  cairnpb::RaftRequest raft_request;
  auto* txn = raft_request.mutable_txn();
  auto* absent = txn->add_compare();
  absent->set_key(my_key);
  absent->set_target(etcdserverpb::Compare::CREATE);
  absent->set_result(etcdserverpb::Compare::EQUAL);
  absent->set_create_revision(0);
  auto* put = txn->add_success()->mutable_request_put();
  put->set_key(my_key);
  put->set_lease(request->lease());
  *txn->add_success() = FirstCreatedOp(prefix);
  txn->add_failure()->mutable_request_range()->set_key(my_key);
  *txn->add_failure() = FirstCreatedOp(prefix);
  auto result = ProposeAsCallerAndWait(*server_, *context, std::move(raft_request));
  if (!result.ok()) return RecipeStatus(result.status());
  const auto& txn_response = std::get<etcdserverpb::TxnResponse>(result.value());
  const int64_t my_rev = txn_response.succeeded()
                             ? txn_response.header().revision()
                             : txn_response.responses(0).response_range().kvs(0).create_revision();
  const auto& owner = txn_response.responses(1).response_range();
  int64_t revision = txn_response.header().revision();
  if (owner.kvs_size() == 0 || owner.kvs(0).create_revision() != my_rev) {
    Status waited = WaitDeletes(server_, prefix, my_rev - 1, context, *calls_);
    if (!waited.ok()) {
      (void)DeleteKey(context, my_key);  // give up our place in line, as clientv3's Mutex does
      return RecipeStatus(waited);
    }
    revision = server_->CurrentRevision();
  }
  response->mutable_header()->set_revision(revision);
  FillHeader(*server_, response->mutable_header());
  response->set_key(my_key);
  return grpc::Status::OK;
}

grpc::Status LockService::Unlock(grpc::ServerContext* context, const v3lockpb::UnlockRequest* request,
                                 v3lockpb::UnlockResponse* response) {
  auto result = DeleteKey(context, request->key());
  if (!result.ok()) return RecipeStatus(result.status());
  response->mutable_header()->set_revision(std::get<etcdserverpb::DeleteRangeResponse>(result.value()).header().revision());
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

}  // namespace cairn::api
