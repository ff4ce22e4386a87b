#include "server/auth/request_permissions.h"

namespace cairn::auth {
namespace {

Status CheckPut(const AuthStore& store, const AuthInfo& info, const etcdserverpb::PutRequest& put,
                const LeaseKeys& lease_keys) {
  CAIRN_RETURN_IF_ERROR(store.IsPutPermitted(info, put.key()));
  if (put.lease() != 0) CAIRN_RETURN_IF_ERROR(CheckLeaseKeys(store, info, put.lease(), lease_keys, true));
  if (put.prev_kv()) CAIRN_RETURN_IF_ERROR(store.IsRangePermitted(info, put.key(), ""));
  return Status::Ok();
}

Status CheckDeleteRange(const AuthStore& store, const AuthInfo& info, const etcdserverpb::DeleteRangeRequest& del) {
  CAIRN_RETURN_IF_ERROR(store.IsDeleteRangePermitted(info, del.key(), del.range_end()));
  if (del.prev_kv()) CAIRN_RETURN_IF_ERROR(store.IsRangePermitted(info, del.key(), del.range_end()));
  return Status::Ok();
}

Status CheckOps(const AuthStore& store, const AuthInfo& info,
                const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops, const LeaseKeys& lease_keys) {
  for (const auto& op : ops) {
    if (op.has_request_range()) {
      CAIRN_RETURN_IF_ERROR(CheckRange(store, info, op.request_range()));
    } else if (op.has_request_put()) {
      CAIRN_RETURN_IF_ERROR(CheckPut(store, info, op.request_put(), lease_keys));
    } else if (op.has_request_delete_range()) {
      CAIRN_RETURN_IF_ERROR(CheckDeleteRange(store, info, op.request_delete_range()));
    } else if (op.has_request_txn()) {
      CAIRN_RETURN_IF_ERROR(CheckTxn(store, info, op.request_txn(), lease_keys));
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckRange(const AuthStore& store, const AuthInfo& info, const etcdserverpb::RangeRequest& request) {
  return store.IsRangePermitted(info, request.key(), request.range_end());
}

Status CheckTxn(const AuthStore& store, const AuthInfo& info, const etcdserverpb::TxnRequest& request,
                const LeaseKeys& lease_keys) {
  for (const auto& c : request.compare()) CAIRN_RETURN_IF_ERROR(store.IsRangePermitted(info, c.key(), c.range_end()));
  CAIRN_RETURN_IF_ERROR(CheckOps(store, info, request.success(), lease_keys));
  return CheckOps(store, info, request.failure(), lease_keys);
}

Status CheckLeaseKeys(const AuthStore& store, const AuthInfo& info, int64_t lease, const LeaseKeys& lease_keys,
                      bool write) {
  for (const auto& key : lease_keys(lease)) {
    CAIRN_RETURN_IF_ERROR(write ? store.IsPutPermitted(info, key) : store.IsRangePermitted(info, key, ""));
  }
  return Status::Ok();
}

Status CheckWrite(const AuthStore& store, const AuthInfo& info, const cairnpb::RaftRequest& request,
                  const LeaseKeys& lease_keys) {
  switch (request.request_case()) {
    case cairnpb::RaftRequest::kPut:
      return CheckPut(store, info, request.put(), lease_keys);
    case cairnpb::RaftRequest::kDeleteRange:
      return CheckDeleteRange(store, info, request.delete_range());
    case cairnpb::RaftRequest::kTxn:
      return CheckTxn(store, info, request.txn(), lease_keys);
    case cairnpb::RaftRequest::kLeaseRevoke:
      return CheckLeaseKeys(store, info, request.lease_revoke().id(), lease_keys, true);
    default:
      return Status::Ok();
  }
}

}  // namespace cairn::auth
