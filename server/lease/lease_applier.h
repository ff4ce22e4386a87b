// Applies the lease requests of committed Raft entries: grant, revoke (the lease's
// keys are deleted in one revision, like one DeleteRange per key in a single txn) and
// checkpoint (remaining TTLs persisted so a new leader or a restart continues them).
// Both the lessor and the store change in the same apply batch.
// Thread-safety: apply thread only.
#pragma once

#include "cairn/internal.pb.h"
#include "server/apply/applier.h"
#include "server/lease/lessor.h"
#include "server/mvcc/apply_batch.h"

namespace cairn::lease {

// REQUIRES: `request` carries a lease_grant, lease_revoke or lease_checkpoint.
Result<apply::Response> ApplyLeaseRequest(mvcc::ApplyBatch& batch, Lessor& lessor, const cairnpb::RaftRequest& request);

bool IsLeaseRequest(const cairnpb::RaftRequest& request);

}  // namespace cairn::lease
