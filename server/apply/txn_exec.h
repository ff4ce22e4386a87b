// Txn evaluation shared by the write path (on an mvcc::WriteTxn) and the read-only path
// (on an mvcc::ReadTxn). Internal to the applier; not thread-safe (a view is
// single-threaded).
//
// Like etcd, the branch path of the whole (nested) txn is decided first, against the
// state before the txn writes anything; then every op on the path is checked; then the
// ops run in order, reads seeing the txn's earlier writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/apply/lease_view.h"
#include "server/common/status.h"
#include "server/mvcc/apply_batch.h"
#include "server/mvcc/read_view.h"

namespace cairn::apply {

// A lease change a committed request causes: attach (true) or detach (false).
struct LeaseOp {
  bool attach;
  int64_t lease;
  std::string key;
};

// Branches taken, in pre-order over the nested txns that run.
using TxnPath = std::vector<bool>;

bool EvalCompare(mvcc::ReadView& view, const etcdserverpb::Compare& c);
void ComputePath(mvcc::ReadView& view, const etcdserverpb::TxnRequest& req, TxnPath* path);

// Checks every op on the path: ranges' revisions; puts' ignore_* preconditions and
// leases (leases == nullptr skips the lease check, for read-only txns).
Status CheckPath(mvcc::ReadView& view, const etcdserverpb::TxnRequest& req, const TxnPath& path,
                 const LeaseView* leases);

// Runs the ops on the path. `w` is null for a read-only txn (which has no writes).
Status ExecPath(mvcc::ReadView& view, mvcc::WriteTxn* w, const etcdserverpb::TxnRequest& req,
                const TxnPath& path, size_t* pos, etcdserverpb::TxnResponse* out,
                std::vector<LeaseOp>* lease_ops);

// The lease changes a put or delete implies.
void PutLeaseOps(const std::string& key, const mvcc::PutResult& r, std::vector<LeaseOp>* ops);
void DeleteLeaseOps(const mvcc::DeleteResult& r, std::vector<LeaseOp>* ops);

}  // namespace cairn::apply
