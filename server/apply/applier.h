// Applier: executes etcd requests against the MVCC store.
//
// Apply() runs on the apply thread, for each committed Raft entry, inside the driver's
// open ApplyBatch: each request runs in its own mvcc::WriteTxn (savepoint), so a request
// that fails leaves no write and no revision behind. Before writing, a put's lease
// (NotFound "requested lease not found") and ignore_value/ignore_lease preconditions
// are checked; for a txn they are checked for every put of the branches that will run,
// and every range's revision, before any op executes (etcd's order). Lease
// attach/detach reaches the LeaseView only after the request commits.
//
// Range() and TxnReadOnly() may be called from any thread concurrently: they run on a
// read snapshot of the store (Store::BeginRead).
//
// Response headers carry revision only; cluster_id/member_id/raft_term are the caller's.
// Thread-safety: Apply is apply-thread only; the LeaseView is touched only by Apply.
#pragma once

#include <variant>

#include "cairn/internal.pb.h"
#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/apply/lease_view.h"
#include "server/common/status.h"
#include "server/mvcc/apply_batch.h"
#include "server/mvcc/store.h"

namespace cairn::apply {

// The applied result of any Raft request. Lease requests are applied by the lease
// module (server/lease/lease_applier.h) but answer through the same type.
using Response = std::variant<etcdserverpb::PutResponse, etcdserverpb::DeleteRangeResponse,
                              etcdserverpb::TxnResponse, etcdserverpb::CompactionResponse,
                              etcdserverpb::LeaseGrantResponse, etcdserverpb::LeaseRevokeResponse,
                              etcdserverpb::LeaseCheckpointResponse, etcdserverpb::AlarmResponse,
                              // auth: Authenticate's token; every other auth change
                              // answers with the auth store's status after it.
                              etcdserverpb::AuthenticateResponse, etcdserverpb::AuthStatusResponse>;

// True when no op anywhere in the txn (either branch, nested) writes.
bool IsReadOnlyTxn(const etcdserverpb::TxnRequest& req);

class Applier {
 public:
  // REQUIRES: store and leases outlive the applier.
  Applier(mvcc::Store& store, LeaseView& leases) : store_(store), leases_(leases) {}

  // REQUIRES: apply thread; batch is open on this applier's store.
  Result<Response> Apply(mvcc::ApplyBatch& batch, const cairnpb::RaftRequest& req);

  // Any thread.
  Result<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& req);
  // Any thread. A txn that writes is rejected (InvalidArgument); see IsReadOnlyTxn.
  Result<etcdserverpb::TxnResponse> TxnReadOnly(const etcdserverpb::TxnRequest& req);

 private:
  Result<etcdserverpb::PutResponse> Put(mvcc::ApplyBatch& batch,
                                        const etcdserverpb::PutRequest& req);
  Result<etcdserverpb::DeleteRangeResponse> DeleteRange(
      mvcc::ApplyBatch& batch, const etcdserverpb::DeleteRangeRequest& req);
  Result<etcdserverpb::TxnResponse> Txn(mvcc::ApplyBatch& batch,
                                        const etcdserverpb::TxnRequest& req);

  mvcc::Store& store_;
  LeaseView& leases_;
};

}  // namespace cairn::apply
