#include "server/lease/lease_applier.h"

namespace cairn::lease {
namespace {

Result<apply::Response> Grant(mvcc::ApplyBatch& batch, Lessor& lessor, const etcdserverpb::LeaseGrantRequest& req) {
  CAIRN_RETURN_IF_ERROR(lessor.Grant(req.id(), req.ttl()));
  batch.PutLease(req.id(), req.ttl(), 0);
  etcdserverpb::LeaseGrantResponse resp;
  resp.mutable_header()->set_revision(batch.CurrentRevision());
  resp.set_id(req.id());
  resp.set_ttl(req.ttl());
  return apply::Response(std::move(resp));
}

Result<apply::Response> Revoke(mvcc::ApplyBatch& batch, Lessor& lessor, const etcdserverpb::LeaseRevokeRequest& req) {
  auto keys = lessor.Revoke(req.id());
  if (!keys.ok()) return keys.status();
  etcdserverpb::LeaseRevokeResponse resp;
  {
    mvcc::WriteTxn w(batch);
    for (const auto& key : keys.value()) w.DeleteRange(key, "", nullptr);
    resp.mutable_header()->set_revision(w.Commit());
  }
  batch.DeleteLease(req.id());
  return apply::Response(std::move(resp));
}

Result<apply::Response> Checkpoint(mvcc::ApplyBatch& batch, Lessor& lessor,
                                   const etcdserverpb::LeaseCheckpointRequest& req) {
  for (const auto& cp : req.checkpoints()) {
    auto ttl = lessor.TimeToLive(cp.id(), /*with_keys=*/false);
    if (!ttl) continue;  // revoked since the checkpoint was proposed
    lessor.Checkpoint(cp.id(), cp.remaining_ttl());
    batch.PutLease(cp.id(), ttl->granted_ttl, cp.remaining_ttl());
  }
  etcdserverpb::LeaseCheckpointResponse resp;
  resp.mutable_header()->set_revision(batch.CurrentRevision());
  return apply::Response(std::move(resp));
}

}  // namespace

bool IsLeaseRequest(const cairnpb::RaftRequest& request) {
  return request.has_lease_grant() || request.has_lease_revoke() || request.has_lease_checkpoint();
}

Result<apply::Response> ApplyLeaseRequest(mvcc::ApplyBatch& batch, Lessor& lessor, const cairnpb::RaftRequest& request) {
  if (request.has_lease_grant()) return Grant(batch, lessor, request.lease_grant());
  if (request.has_lease_revoke()) return Revoke(batch, lessor, request.lease_revoke());
  CAIRN_CHECK(request.has_lease_checkpoint());
  return Checkpoint(batch, lessor, request.lease_checkpoint());
}

}  // namespace cairn::lease
