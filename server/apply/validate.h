// Request validation the API layer runs BEFORE proposing a request to Raft. Pure
// functions of the request (no store access), so they are thread-safe. Each returns
// etcd's exact (code, message) for the first problem found, or OK.
#pragma once

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/common/status.h"

namespace cairn::apply {

// etcd's default --max-txn-ops.
inline constexpr int kDefaultMaxTxnOps = 128;

Status ValidateRange(const etcdserverpb::RangeRequest& req);
Status ValidatePut(const etcdserverpb::PutRequest& req);
Status ValidateDeleteRange(const etcdserverpb::DeleteRangeRequest& req);

// etcd's rules: no branch list (compare, success, failure) longer than max_txn_ops, a
// nested txn gets the budget left after its parent's longest list; every op valid; and
// no key written twice: a put may not overlap another put or a delete range of the same
// level or of a nested txn, except that puts in the success and failure branches of one
// nested txn may share keys (only one branch runs). Deletes may overlap each other.
Status ValidateTxn(const etcdserverpb::TxnRequest& req, int max_txn_ops = kDefaultMaxTxnOps);

}  // namespace cairn::apply
