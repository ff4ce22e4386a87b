#include "server/api/kv_service.h"

#include <chrono>
#include <thread>

#include "server/api/caller.h"
#include "server/api/grpc_status.h"
#include "server/api/response_header.h"
#include "server/apply/validate.h"
#include "server/auth/request_permissions.h"
#include "server/etcdserver/errors.h"

namespace cairn::api {
namespace {

// etcd serves a read-only txn without a ReadIndex round only when every range in it
// is serializable.
bool IsSerializable(const etcdserverpb::TxnRequest& txn) {
  for (const auto* ops : {&txn.success(), &txn.failure()}) {
    for (const auto& op : *ops) {
      if (op.has_request_range() && !op.request_range().serializable()) return false;
      if (op.has_request_txn() && !IsSerializable(op.request_txn())) return false;
    }
  }
  return true;
}

grpc::ServerUnaryReactor* Finished(grpc::CallbackServerContext* context, const Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

}  // namespace

template <typename Response>
void KvService::ReplicateInto(grpc::CallbackServerContext* context, cairnpb::RaftRequest request, Response* response,
                              grpc::ServerUnaryReactor* reactor) {
  ProposeAsCaller(*server_, *context, std::move(request), [this, response, reactor](etcdserver::ApplyResult result) {
    if (result.ok()) {
      *response = std::move(std::get<Response>(result.value()));
      FillHeader(*server_, response->mutable_header());
    }
    reactor->Finish(ToGrpc(result.status()));
  });
}

void KvService::AfterReadPoint(bool serializable, grpc::ServerUnaryReactor* reactor, std::function<void()> read) {
  const auto caller = std::this_thread::get_id();
  auto run = [this, caller, reactor, read = std::move(read)](Status st) {
    if (!st.ok()) return reactor->Finish(ToGrpc(st));
    // Released later by the Raft or apply loop, which must not run reads.
    if (std::this_thread::get_id() != caller) return reads_->Submit(read);
    read();
  };
  if (serializable) {
    server_->LocalReadBarrierAsync(std::move(run));
  } else {
    server_->ReadBarrierAsync(std::move(run));
  }
}

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* context, const etcdserverpb::RangeRequest* request,
                                           etcdserverpb::RangeResponse* response) {
  if (Status st = apply::ValidateRange(*request); !st.ok()) return Finished(context, st);
  auto* reactor = context->DefaultReactor();
  AfterReadPoint(request->serializable(), reactor, [this, context, request, response, reactor] {
    if (Status st = CheckRead(*context, [&](const auth::AuthInfo& caller) {
          return auth::CheckRange(server_->auth_store(), caller, *request);
        });
        !st.ok()) {
      return reactor->Finish(ToGrpc(st));
    }
    auto result = server_->applier().Range(*request);
    if (result.ok()) {
      *response = std::move(result.value());
      FillHeader(*server_, response->mutable_header());
    }
    reactor->Finish(ToGrpc(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* context, const etcdserverpb::PutRequest* request,
                                         etcdserverpb::PutResponse* response) {
  if (Status st = apply::ValidatePut(*request); !st.ok()) return Finished(context, st);
  if (Status st = server_->CheckQuota(); !st.ok()) return Finished(context, st);
  cairnpb::RaftRequest raft_request;
  *raft_request.mutable_put() = *request;
  auto* reactor = context->DefaultReactor();
  ReplicateInto(context, std::move(raft_request), response, reactor);
  return reactor;
}

grpc::ServerUnaryReactor* KvService::DeleteRange(grpc::CallbackServerContext* context,
                                                 const etcdserverpb::DeleteRangeRequest* request,
                                                 etcdserverpb::DeleteRangeResponse* response) {
  if (Status st = apply::ValidateDeleteRange(*request); !st.ok()) return Finished(context, st);
  cairnpb::RaftRequest raft_request;
  *raft_request.mutable_delete_range() = *request;
  auto* reactor = context->DefaultReactor();
  ReplicateInto(context, std::move(raft_request), response, reactor);
  return reactor;
}

Status KvService::CheckRead(const grpc::CallbackServerContext& context,
                           const std::function<Status(const auth::AuthInfo&)>& check) const {
  auto caller = CallerOf(*server_, context);
  return caller.ok() ? check(*caller) : caller.status();
}

void KvService::ReadOnlyTxn(grpc::CallbackServerContext* context, const etcdserverpb::TxnRequest* request,
                            etcdserverpb::TxnResponse* response, grpc::ServerUnaryReactor* reactor) {
  if (Status st = CheckRead(*context, [&](const auth::AuthInfo& caller) {
        return auth::CheckTxn(server_->auth_store(), caller, *request, [](int64_t) { return std::vector<std::string>{}; });
      });
      !st.ok()) {
    return reactor->Finish(ToGrpc(st));
  }
  auto result = server_->applier().TxnReadOnly(*request);
  if (result.ok()) {
    *response = std::move(result.value());
    FillHeader(*server_, response->mutable_header());
  }
  reactor->Finish(ToGrpc(result.status()));
}

grpc::ServerUnaryReactor* KvService::Txn(grpc::CallbackServerContext* context, const etcdserverpb::TxnRequest* request,
                                         etcdserverpb::TxnResponse* response) {
  if (Status st = apply::ValidateTxn(*request, server_->options().max_txn_ops); !st.ok()) {
    return Finished(context, st);
  }
  auto* reactor = context->DefaultReactor();
  if (!apply::IsReadOnlyTxn(*request)) {
    if (Status st = server_->CheckQuota(); !st.ok()) return Finished(context, st);
    cairnpb::RaftRequest raft_request;
    *raft_request.mutable_txn() = *request;
    ReplicateInto(context, std::move(raft_request), response, reactor);
  } else {
    AfterReadPoint(IsSerializable(*request), reactor,
                   [this, context, request, response, reactor] { ReadOnlyTxn(context, request, response, reactor); });
  }
  return reactor;
}

grpc::Status KvService::Compact(grpc::ServerContext* context, const etcdserverpb::CompactionRequest* request,
                                etcdserverpb::CompactionResponse* response) {
  cairnpb::RaftRequest raft_request;
  *raft_request.mutable_compaction() = *request;
  auto result = ProposeAsCallerAndWait(*server_, *context, std::move(raft_request));
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(std::get<etcdserverpb::CompactionResponse>(result.value()));
  if (request->physical()) {
    // etcd answers a physical compaction only once the old revisions are gone from disk.
    while (server_->CompactionPending()) {
      if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  FillHeader(*server_, response->mutable_header());
  return grpc::Status::OK;
}

}  // namespace cairn::api
