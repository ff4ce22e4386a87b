#include <string>
#include <utility>

#include "server/mvcc/apply_batch.h"
#include "server/mvcc/key_span.h"
#include "server/mvcc/schema.h"

namespace cairn::mvcc {

WriteTxn::WriteTxn(ApplyBatch& batch)
    : batch_(batch), main_(batch.state_.current_rev + 1), events_mark_(batch.events_.size()) {
  CAIRN_CHECK(!batch_.done_ && !batch_.request_open_);
  batch_.request_open_ = true;
  Query(batch_.stmts_.savepoint).Run();
}

WriteTxn::~WriteTxn() {
  if (done_) return;
  Query(batch_.stmts_.rollback_to).Run();
  Query(batch_.stmts_.release).Run();
  batch_.events_.resize(events_mark_);
  batch_.request_open_ = false;
}

int64_t WriteTxn::Commit() {
  CAIRN_CHECK(!done_);
  Query(batch_.stmts_.release).Run();
  if (sub_ > 0) batch_.state_.current_rev = main_;
  batch_.request_open_ = false;
  done_ = true;
  return Revision();
}

Status WriteTxn::Range(const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* out) {
  return batch_.store_.writer_reader_->Range(req, Revision(), batch_.state_.compact_rev, out);
}

mvccpb::Event* WriteTxn::NewEvent() { return &batch_.events_.emplace_back(); }

void WriteTxn::WriteRow(const mvccpb::KeyValue& kv, bool tombstone) {
  WriteStmts& st = batch_.stmts_;
  {
    Query h(st.hist_put);
    h.BindBlob(1, kv.key())
        .Bind(2, main_)
        .Bind(3, sub_)
        .Bind(4, kv.create_revision())
        .Bind(5, kv.version())
        .Bind(6, kv.lease())
        .BindBlob(7, kv.value())
        .Run();
  }
  ++sub_;
  if (tombstone) {
    Query d(st.live_del);
    d.BindBlob(1, kv.key()).Run();
    return;
  }
  Query l(st.live_put);
  l.BindBlob(1, kv.key())
      .Bind(2, kv.create_revision())
      .Bind(3, main_)
      .Bind(4, kv.version())
      .Bind(5, kv.lease())
      .BindBlob(6, kv.value())
      .Run();
}

Result<PutResult> WriteTxn::Put(const etcdserverpb::PutRequest& req, mvccpb::KeyValue* prev_kv) {
  const bool want_prev = prev_kv != nullptr || batch_.events_enabled_;
  mvccpb::KeyValue prev;
  bool existed = false;
  {
    Query q(batch_.stmts_.live_get);
    q.BindBlob(1, req.key());
    existed = q.Next();
    if (existed) {
      prev.set_create_revision(q.Int(schema::kColCreate));
      prev.set_mod_revision(q.Int(schema::kColMod));
      prev.set_version(q.Int(schema::kColVersion));
      prev.set_lease(q.Int(schema::kColLease));
      if (want_prev || req.ignore_value()) prev.set_value(std::string(q.Blob(schema::kColValue)));
    }
  }
  if ((req.ignore_value() || req.ignore_lease()) && !existed) {
    return Status::InvalidArgument("etcdserver: key not found");
  }
  PutResult result;
  result.revision = main_;
  result.existed = existed;
  result.prev_lease = prev.lease();
  result.lease = req.ignore_lease() ? prev.lease() : req.lease();

  mvccpb::KeyValue kv;
  kv.set_key(req.key());
  kv.set_create_revision(existed ? prev.create_revision() : main_);
  kv.set_mod_revision(main_);
  kv.set_version(existed ? prev.version() + 1 : 1);
  kv.set_lease(result.lease);
  if (req.ignore_value()) {
    kv.set_value(prev.value());
  } else {
    kv.set_value(req.value());
  }
  WriteRow(kv, /*tombstone=*/false);

  if (existed && want_prev) prev.set_key(req.key());
  if (batch_.events_enabled_) {
    mvccpb::Event* ev = NewEvent();
    ev->set_type(mvccpb::Event::PUT);
    if (existed) *ev->mutable_prev_kv() = prev;
    *ev->mutable_kv() = std::move(kv);
  }
  if (existed && prev_kv != nullptr) *prev_kv = std::move(prev);
  return result;
}

DeleteResult WriteTxn::DeleteRange(std::string_view key, std::string_view range_end,
                                   google::protobuf::RepeatedPtrField<mvccpb::KeyValue>* prev_kvs) {
  const bool want_value = prev_kvs != nullptr || batch_.events_enabled_;
  const KeySpan span = KeySpan::Of(key, range_end);
  // Collect first: the live table must not change under an open scan of it.
  std::vector<mvccpb::KeyValue> victims;
  {
    Query q(batch_.stmts_.live_scan[span.bounded]);
    q.BindBlob(1, span.lo);
    if (span.bounded) q.BindBlob(2, span.hi);
    while (q.Next()) {
      mvccpb::KeyValue& kv = victims.emplace_back();
      const auto k = q.Blob(schema::kColKey);
      kv.set_key(k.data(), k.size());
      kv.set_create_revision(q.Int(schema::kColCreate));
      kv.set_mod_revision(q.Int(schema::kColMod));
      kv.set_version(q.Int(schema::kColVersion));
      kv.set_lease(q.Int(schema::kColLease));
      if (want_value) kv.set_value(std::string(q.Blob(schema::kColValue)));
    }
  }
  DeleteResult result;
  result.deleted = static_cast<int64_t>(victims.size());
  mvccpb::KeyValue tomb;
  for (mvccpb::KeyValue& kv : victims) {
    tomb.set_key(kv.key());
    WriteRow(tomb, /*tombstone=*/true);
    if (kv.lease() != 0) result.leased.emplace_back(kv.key(), kv.lease());
    if (batch_.events_enabled_) {
      mvccpb::Event* ev = NewEvent();
      ev->set_type(mvccpb::Event::DELETE);
      ev->mutable_kv()->set_key(kv.key());
      ev->mutable_kv()->set_mod_revision(main_);
      *ev->mutable_prev_kv() = kv;
    }
    if (prev_kvs != nullptr) *prev_kvs->Add() = std::move(kv);
  }
  result.revision = Revision();
  return result;
}

}  // namespace cairn::mvcc
