#include "server/apply/validate.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "server/apply/errors.h"
#include "server/mvcc/key_span.h"

namespace cairn::apply {
namespace {

using etcdserverpb::RequestOp;
using etcdserverpb::TxnRequest;
using google::protobuf::RepeatedPtrField;

Status ValidateOp(const RequestOp& op, int max_txn_ops) {
  switch (op.request_case()) {
    case RequestOp::kRequestRange: return ValidateRange(op.request_range());
    case RequestOp::kRequestPut: return ValidatePut(op.request_put());
    case RequestOp::kRequestDeleteRange: return ValidateDeleteRange(op.request_delete_range());
    case RequestOp::kRequestTxn: return ValidateTxn(op.request_txn(), max_txn_ops);
    case RequestOp::REQUEST_NOT_SET: return Status::Ok();
  }
  return Status::Ok();
}

Status CheckOps(const TxnRequest& req, int max_txn_ops) {
  const int opc = std::max({req.compare_size(), req.success_size(), req.failure_size()});
  if (opc > max_txn_ops) return ErrTooManyOps();
  for (const auto& c : req.compare()) {
    if (c.key().empty()) return ErrEmptyKey();
  }
  for (const auto& op : req.success()) CAIRN_RETURN_IF_ERROR(ValidateOp(op, max_txn_ops - opc));
  for (const auto& op : req.failure()) CAIRN_RETURN_IF_ERROR(ValidateOp(op, max_txn_ops - opc));
  return Status::Ok();
}

// The keys a list of ops (and its nested txns) may put, and the ranges it may delete.
struct Writes {
  std::unordered_set<std::string_view> puts;
  std::vector<mvcc::KeySpan> dels;

  bool Deleted(std::string_view k) const {
    return std::any_of(dels.begin(), dels.end(), [&](const mvcc::KeySpan& s) {
      return k >= s.lo && (!s.bounded || k < s.hi);
    });
  }
};

// Mirrors etcd's checkIntervals, including the order in which overlaps are detected.
Status CheckIntervals(const RepeatedPtrField<RequestOp>& ops, Writes* out) {
  Writes& w = *out;
  for (const auto& op : ops) {
    if (op.request_case() != RequestOp::kRequestDeleteRange) continue;
    const auto& d = op.request_delete_range();
    w.dels.push_back(mvcc::KeySpan::Of(d.key(), d.range_end()));
  }
  for (const auto& op : ops) {
    if (op.request_case() != RequestOp::kRequestTxn) continue;
    Writes then_w;
    Writes else_w;
    CAIRN_RETURN_IF_ERROR(CheckIntervals(op.request_txn().success(), &then_w));
    CAIRN_RETURN_IF_ERROR(CheckIntervals(op.request_txn().failure(), &else_w));
    for (std::string_view k : then_w.puts) {
      if (w.puts.count(k) != 0 || w.Deleted(k)) return ErrDuplicateKey();
      w.puts.insert(k);
    }
    for (std::string_view k : else_w.puts) {
      // A key from the success branch is fine: the branches are mutually exclusive.
      if (w.puts.count(k) != 0 && then_w.puts.count(k) == 0) return ErrDuplicateKey();
      if (w.Deleted(k)) return ErrDuplicateKey();
      w.puts.insert(k);
    }
    w.dels.insert(w.dels.end(), then_w.dels.begin(), then_w.dels.end());
    w.dels.insert(w.dels.end(), else_w.dels.begin(), else_w.dels.end());
  }
  for (const auto& op : ops) {
    if (op.request_case() != RequestOp::kRequestPut) continue;
    std::string_view k = op.request_put().key();
    if (w.puts.count(k) != 0 || w.Deleted(k)) return ErrDuplicateKey();
    w.puts.insert(k);
  }
  return Status::Ok();
}

}  // namespace

Status ValidateRange(const etcdserverpb::RangeRequest& req) {
  if (req.key().empty()) return ErrEmptyKey();
  if (!etcdserverpb::RangeRequest::SortOrder_IsValid(req.sort_order()) ||
      !etcdserverpb::RangeRequest::SortTarget_IsValid(req.sort_target())) {
    return Status::InvalidArgument("etcdserver: invalid sort option");
  }
  return Status::Ok();
}

Status ValidatePut(const etcdserverpb::PutRequest& req) {
  if (req.key().empty()) return ErrEmptyKey();
  if (req.ignore_value() && !req.value().empty()) {
    return Status::InvalidArgument("etcdserver: value is provided");
  }
  if (req.ignore_lease() && req.lease() != 0) {
    return Status::InvalidArgument("etcdserver: lease is provided");
  }
  return Status::Ok();
}

Status ValidateDeleteRange(const etcdserverpb::DeleteRangeRequest& req) {
  if (req.key().empty()) return ErrEmptyKey();
  return Status::Ok();
}

Status ValidateTxn(const TxnRequest& req, int max_txn_ops) {
  CAIRN_RETURN_IF_ERROR(CheckOps(req, max_txn_ops));
  Writes then_w;
  Writes else_w;
  CAIRN_RETURN_IF_ERROR(CheckIntervals(req.success(), &then_w));
  return CheckIntervals(req.failure(), &else_w);
}

}  // namespace cairn::apply
