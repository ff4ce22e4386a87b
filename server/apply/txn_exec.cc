#include "server/apply/txn_exec.h"

#include "server/apply/errors.h"
#include "server/mvcc/errors.h"

namespace cairn::apply {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RequestOp;
using etcdserverpb::TxnRequest;

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

bool CompareKv(const Compare& c, const mvccpb::KeyValue& kv) {
  int r = 0;
  switch (c.target()) {
    case Compare::VALUE: r = Cmp<std::string>(kv.value(), c.value()); break;
    case Compare::CREATE: r = Cmp(kv.create_revision(), c.create_revision()); break;
    case Compare::MOD: r = Cmp(kv.mod_revision(), c.mod_revision()); break;
    case Compare::VERSION: r = Cmp(kv.version(), c.version()); break;
    case Compare::LEASE: r = Cmp(kv.lease(), c.lease()); break;
    default: return false;
  }
  switch (c.result()) {
    case Compare::EQUAL: return r == 0;
    case Compare::NOT_EQUAL: return r != 0;
    case Compare::GREATER: return r > 0;
    case Compare::LESS: return r < 0;
    default: return false;
  }
}

const google::protobuf::RepeatedPtrField<RequestOp>& Branch(const TxnRequest& req, bool ok) {
  return ok ? req.success() : req.failure();
}

Status CheckRangeRev(const mvcc::ReadView& view, const etcdserverpb::RangeRequest& r) {
  if (r.revision() <= 0) return Status::Ok();
  if (r.revision() > view.Revision()) return mvcc::ErrFutureRev();
  if (r.revision() < view.CompactRevision()) return mvcc::ErrCompacted();
  return Status::Ok();
}

Status CheckPut(mvcc::ReadView& view, const etcdserverpb::PutRequest& p, const LeaseView* leases) {
  if (p.ignore_value() || p.ignore_lease()) {
    etcdserverpb::RangeRequest r;
    r.set_key(p.key());
    r.set_count_only(true);
    etcdserverpb::RangeResponse resp;
    CAIRN_RETURN_IF_ERROR(view.Range(r, &resp));
    if (resp.count() == 0) return ErrKeyNotFound();
  }
  if (p.lease() != 0 && leases != nullptr && !leases->Exists(p.lease())) return ErrLeaseNotFound();
  return Status::Ok();
}

Status CheckAt(mvcc::ReadView& view, const TxnRequest& req, const TxnPath& path, size_t* pos,
               const LeaseView* leases) {
  CAIRN_CHECK(*pos < path.size());
  const bool ok = path[(*pos)++];
  for (const RequestOp& op : Branch(req, ok)) {
    switch (op.request_case()) {
      case RequestOp::kRequestRange:
        CAIRN_RETURN_IF_ERROR(CheckRangeRev(view, op.request_range()));
        break;
      case RequestOp::kRequestPut:
        CAIRN_RETURN_IF_ERROR(CheckPut(view, op.request_put(), leases));
        break;
      case RequestOp::kRequestTxn:
        CAIRN_RETURN_IF_ERROR(CheckAt(view, op.request_txn(), path, pos, leases));
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

}  // namespace

bool EvalCompare(mvcc::ReadView& view, const Compare& c) {
  etcdserverpb::RangeRequest r;
  r.set_key(c.key());
  r.set_range_end(c.range_end());
  r.set_keys_only(c.target() != Compare::VALUE);
  etcdserverpb::RangeResponse resp;
  if (!view.Range(r, &resp).ok()) return false;
  if (resp.kvs_size() == 0) {
    // A missing key has version/create/mod/lease 0, but no value: a value compare
    // against a missing key always fails (etcd: "" cannot mean "absent").
    if (c.target() == Compare::VALUE) return false;
    return CompareKv(c, mvccpb::KeyValue());
  }
  for (const auto& kv : resp.kvs()) {
    if (!CompareKv(c, kv)) return false;
  }
  return true;
}

void ComputePath(mvcc::ReadView& view, const TxnRequest& req, TxnPath* path) {
  bool ok = true;
  for (const Compare& c : req.compare()) {
    if (!EvalCompare(view, c)) {
      ok = false;
      break;
    }
  }
  path->push_back(ok);
  for (const RequestOp& op : Branch(req, ok)) {
    if (op.request_case() == RequestOp::kRequestTxn) ComputePath(view, op.request_txn(), path);
  }
}

Status CheckPath(mvcc::ReadView& view, const TxnRequest& req, const TxnPath& path,
                 const LeaseView* leases) {
  size_t pos = 0;
  return CheckAt(view, req, path, &pos, leases);
}

void PutLeaseOps(const std::string& key, const mvcc::PutResult& r, std::vector<LeaseOp>* ops) {
  const int64_t before = r.existed ? r.prev_lease : 0;
  if (before == r.lease) return;
  if (before != 0) ops->push_back({false, before, key});
  if (r.lease != 0) ops->push_back({true, r.lease, key});
}

void DeleteLeaseOps(const mvcc::DeleteResult& r, std::vector<LeaseOp>* ops) {
  for (const auto& [key, lease] : r.leased) ops->push_back({false, lease, key});
}

Status ExecPath(mvcc::ReadView& view, mvcc::WriteTxn* w, const TxnRequest& req,
                const TxnPath& path, size_t* pos, etcdserverpb::TxnResponse* out,
                std::vector<LeaseOp>* lease_ops) {
  CAIRN_CHECK(*pos < path.size());
  const bool ok = path[(*pos)++];
  out->set_succeeded(ok);
  out->mutable_header();
  for (const RequestOp& op : Branch(req, ok)) {
    etcdserverpb::ResponseOp* r = out->add_responses();
    switch (op.request_case()) {
      case RequestOp::kRequestRange:
        CAIRN_RETURN_IF_ERROR(view.Range(op.request_range(), r->mutable_response_range()));
        break;
      case RequestOp::kRequestPut: {
        CAIRN_CHECK(w != nullptr);
        const auto& p = op.request_put();
        etcdserverpb::PutResponse* pr = r->mutable_response_put();
        mvccpb::KeyValue prev;
        auto res = w->Put(p, p.prev_kv() ? &prev : nullptr);
        if (!res.ok()) return res.status();
        pr->mutable_header()->set_revision(res->revision);
        if (p.prev_kv() && res->existed) *pr->mutable_prev_kv() = std::move(prev);
        PutLeaseOps(p.key(), *res, lease_ops);
        break;
      }
      case RequestOp::kRequestDeleteRange: {
        CAIRN_CHECK(w != nullptr);
        const auto& d = op.request_delete_range();
        etcdserverpb::DeleteRangeResponse* dr = r->mutable_response_delete_range();
        const mvcc::DeleteResult res =
            w->DeleteRange(d.key(), d.range_end(), d.prev_kv() ? dr->mutable_prev_kvs() : nullptr);
        dr->set_deleted(res.deleted);
        dr->mutable_header()->set_revision(res.revision);
        DeleteLeaseOps(res, lease_ops);
        break;
      }
      case RequestOp::kRequestTxn:
        CAIRN_RETURN_IF_ERROR(
            ExecPath(view, w, op.request_txn(), path, pos, r->mutable_response_txn(), lease_ops));
        break;
      case RequestOp::REQUEST_NOT_SET:
        break;
    }
  }
  return Status::Ok();
}

}  // namespace cairn::apply
