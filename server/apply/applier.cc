#include "server/apply/applier.h"

#include <vector>

#include "server/apply/errors.h"
#include "server/apply/txn_exec.h"

namespace cairn::apply {
namespace {

using etcdserverpb::RequestOp;

bool OpsReadOnly(const google::protobuf::RepeatedPtrField<RequestOp>& ops) {
  for (const RequestOp& op : ops) {
    switch (op.request_case()) {
      case RequestOp::kRequestPut:
      case RequestOp::kRequestDeleteRange:
        return false;
      case RequestOp::kRequestTxn:
        if (!IsReadOnlyTxn(op.request_txn())) return false;
        break;
      default:
        break;
    }
  }
  return true;
}

void ApplyLeaseOps(const std::vector<LeaseOp>& ops, LeaseView& leases) {
  for (const LeaseOp& op : ops) {
    if (op.attach) {
      leases.Attach(op.lease, op.key);
    } else {
      leases.Detach(op.lease, op.key);
    }
  }
}

}  // namespace

bool IsReadOnlyTxn(const etcdserverpb::TxnRequest& req) {
  return OpsReadOnly(req.success()) && OpsReadOnly(req.failure());
}

Result<Response> Applier::Apply(mvcc::ApplyBatch& batch, const cairnpb::RaftRequest& req) {
  switch (req.request_case()) {
    case cairnpb::RaftRequest::kPut: {
      auto r = Put(batch, req.put());
      if (!r.ok()) return r.status();
      return Response(std::move(*r));
    }
    case cairnpb::RaftRequest::kDeleteRange: {
      auto r = DeleteRange(batch, req.delete_range());
      if (!r.ok()) return r.status();
      return Response(std::move(*r));
    }
    case cairnpb::RaftRequest::kTxn: {
      auto r = Txn(batch, req.txn());
      if (!r.ok()) return r.status();
      return Response(std::move(*r));
    }
    case cairnpb::RaftRequest::kCompaction: {
      CAIRN_RETURN_IF_ERROR(batch.Compact(req.compaction().revision()));
      etcdserverpb::CompactionResponse resp;
      resp.mutable_header()->set_revision(batch.CurrentRevision());
      return Response(std::move(resp));
    }
    case cairnpb::RaftRequest::kLeaseGrant:
    case cairnpb::RaftRequest::kLeaseRevoke:
    case cairnpb::RaftRequest::kLeaseCheckpoint:
      return Status::Unimplemented("lease requests are not applied by the kv applier");
    case cairnpb::RaftRequest::kMemberAttributes:
    case cairnpb::RaftRequest::kMemberUpdate:
    case cairnpb::RaftRequest::kAlarm:
      return Status::Unimplemented("membership and alarm requests are applied by the server");
    case cairnpb::RaftRequest::kAuthEnable:
    case cairnpb::RaftRequest::kAuthDisable:
    case cairnpb::RaftRequest::kAuthUserAdd:
    case cairnpb::RaftRequest::kAuthUserDelete:
    case cairnpb::RaftRequest::kAuthUserChangePassword:
    case cairnpb::RaftRequest::kAuthUserGrantRole:
    case cairnpb::RaftRequest::kAuthUserRevokeRole:
    case cairnpb::RaftRequest::kAuthRoleAdd:
    case cairnpb::RaftRequest::kAuthRoleDelete:
    case cairnpb::RaftRequest::kAuthRoleGrantPermission:
    case cairnpb::RaftRequest::kAuthRoleRevokePermission:
    case cairnpb::RaftRequest::kAuthenticate:
      return Status::Unimplemented("auth requests are applied by the auth module");
    case cairnpb::RaftRequest::REQUEST_NOT_SET:
      break;
  }
  return Status::InvalidArgument("raft request carries no request");
}

Result<etcdserverpb::PutResponse> Applier::Put(mvcc::ApplyBatch& batch,
                                                const etcdserverpb::PutRequest& req) {
  if (req.lease() != 0 && !leases_.Exists(req.lease())) return ErrLeaseNotFound();
  mvcc::WriteTxn w(batch);
  mvccpb::KeyValue prev;
  auto r = w.Put(req, req.prev_kv() ? &prev : nullptr);
  if (!r.ok()) return r.status();
  etcdserverpb::PutResponse resp;
  resp.mutable_header()->set_revision(w.Commit());
  if (req.prev_kv() && r->existed) *resp.mutable_prev_kv() = std::move(prev);
  std::vector<LeaseOp> ops;
  PutLeaseOps(req.key(), *r, &ops);
  ApplyLeaseOps(ops, leases_);
  return resp;
}

Result<etcdserverpb::DeleteRangeResponse> Applier::DeleteRange(
    mvcc::ApplyBatch& batch, const etcdserverpb::DeleteRangeRequest& req) {
  mvcc::WriteTxn w(batch);
  etcdserverpb::DeleteRangeResponse resp;
  const mvcc::DeleteResult r =
      w.DeleteRange(req.key(), req.range_end(), req.prev_kv() ? resp.mutable_prev_kvs() : nullptr);
  resp.set_deleted(r.deleted);
  resp.mutable_header()->set_revision(w.Commit());
  std::vector<LeaseOp> ops;
  DeleteLeaseOps(r, &ops);
  ApplyLeaseOps(ops, leases_);
  return resp;
}

Result<etcdserverpb::TxnResponse> Applier::Txn(mvcc::ApplyBatch& batch,
                                                const etcdserverpb::TxnRequest& req) {
  mvcc::WriteTxn w(batch);
  TxnPath path;
  ComputePath(w, req, &path);
  CAIRN_RETURN_IF_ERROR(CheckPath(w, req, path, &leases_));
  etcdserverpb::TxnResponse resp;
  std::vector<LeaseOp> ops;
  size_t pos = 0;
  CAIRN_RETURN_IF_ERROR(ExecPath(w, &w, req, path, &pos, &resp, &ops));
  resp.mutable_header()->set_revision(w.Commit());
  ApplyLeaseOps(ops, leases_);
  return resp;
}

Result<etcdserverpb::RangeResponse> Applier::Range(const etcdserverpb::RangeRequest& req) {
  etcdserverpb::RangeResponse resp;
  CAIRN_RETURN_IF_ERROR(store_.Range(req, &resp));
  return resp;
}

Result<etcdserverpb::TxnResponse> Applier::TxnReadOnly(const etcdserverpb::TxnRequest& req) {
  if (!IsReadOnlyTxn(req)) return Status::InvalidArgument("txn writes: it must go through raft");
  mvcc::ReadTxn view = store_.BeginRead();
  TxnPath path;
  ComputePath(view, req, &path);
  CAIRN_RETURN_IF_ERROR(CheckPath(view, req, path, nullptr));
  etcdserverpb::TxnResponse resp;
  size_t pos = 0;
  CAIRN_RETURN_IF_ERROR(ExecPath(view, nullptr, req, path, &pos, &resp, nullptr));
  resp.mutable_header()->set_revision(view.Revision());
  return resp;
}

}  // namespace cairn::apply
