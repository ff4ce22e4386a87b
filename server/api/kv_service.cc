#include "server/api/kv_service.h"

#include <chrono>
#include <thread>

#include "server/api/grpc_status.h"
#include "server/apply/validate.h"
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

}  // namespace

void KvService::FillHeader(etcdserverpb::ResponseHeader* header) const {
  header->set_cluster_id(server_->cluster_id());
  header->set_member_id(server_->member_id());
  header->set_raft_term(server_->term());
}

Status KvService::CheckQuota() const {
  if (server_->GetStatus().db_size >= server_->QuotaBytes()) return etcdserver::ErrNoSpace();
  return Status::Ok();
}

template <typename Response>
grpc::Status KvService::ReplicateInto(cairnpb::RaftRequest request, Response* response) {
  auto result = server_->Propose(std::move(request));
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(std::get<Response>(result.value()));
  FillHeader(response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status KvService::Range(grpc::ServerContext*, const etcdserverpb::RangeRequest* request,
                              etcdserverpb::RangeResponse* response) {
  if (Status st = apply::ValidateRange(*request); !st.ok()) return ToGrpc(st);
  if (!request->serializable()) {
    if (Status st = server_->ReadBarrier(); !st.ok()) return ToGrpc(st);
  }
  auto result = server_->applier().Range(*request);
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(result.value());
  FillHeader(response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status KvService::Put(grpc::ServerContext*, const etcdserverpb::PutRequest* request,
                            etcdserverpb::PutResponse* response) {
  if (Status st = apply::ValidatePut(*request); !st.ok()) return ToGrpc(st);
  if (Status st = CheckQuota(); !st.ok()) return ToGrpc(st);
  cairnpb::RaftRequest raft_request;
  *raft_request.mutable_put() = *request;
  return ReplicateInto(std::move(raft_request), response);
}

grpc::Status KvService::DeleteRange(grpc::ServerContext*, const etcdserverpb::DeleteRangeRequest* request,
                                    etcdserverpb::DeleteRangeResponse* response) {
  if (Status st = apply::ValidateDeleteRange(*request); !st.ok()) return ToGrpc(st);
  cairnpb::RaftRequest raft_request;
  *raft_request.mutable_delete_range() = *request;
  return ReplicateInto(std::move(raft_request), response);
}

grpc::Status KvService::Txn(grpc::ServerContext*, const etcdserverpb::TxnRequest* request,
                            etcdserverpb::TxnResponse* response) {
  const int max_ops = server_->options().max_txn_ops;
  if (Status st = apply::ValidateTxn(*request, max_ops); !st.ok()) return ToGrpc(st);
  if (!apply::IsReadOnlyTxn(*request)) {
    if (Status st = CheckQuota(); !st.ok()) return ToGrpc(st);
    cairnpb::RaftRequest raft_request;
    *raft_request.mutable_txn() = *request;
    return ReplicateInto(std::move(raft_request), response);
  }
  if (!IsSerializable(*request)) {
    if (Status st = server_->ReadBarrier(); !st.ok()) return ToGrpc(st);
  }
  auto result = server_->applier().TxnReadOnly(*request);
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(result.value());
  FillHeader(response->mutable_header());
  return grpc::Status::OK;
}

grpc::Status KvService::Compact(grpc::ServerContext* context, const etcdserverpb::CompactionRequest* request,
                                etcdserverpb::CompactionResponse* response) {
  cairnpb::RaftRequest raft_request;
  *raft_request.mutable_compaction() = *request;
  grpc::Status status = ReplicateInto(std::move(raft_request), response);
  if (status.ok() && request->physical()) {
    // etcd answers a physical compaction only once the old revisions are gone from disk.
    while (server_->CompactionPending()) {
      if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return status;
}

}  // namespace cairn::api
