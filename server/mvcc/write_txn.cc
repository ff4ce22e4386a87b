#include <string>
#include <utility>

#include "server/mvcc/apply_batch.h"
#include "server/mvcc/key_span.h"

namespace cairn::mvcc {

WriteTxn::WriteTxn(ApplyBatch& batch)
    : batch_(batch),
      main_(batch.state_.current_rev + 1),
      events_mark_(batch.events_.size()),
      appended_mark_(batch.appended_.size()) {
  CAIRN_CHECK(!batch_.done_ && !batch_.request_open_);
  batch_.request_open_ = true;
  Query(batch_.stmts_.savepoint).Run();
}

WriteTxn::~WriteTxn() {
  if (done_) return;
  Query(batch_.stmts_.rollback_to).Run();
  Query(batch_.stmts_.release).Run();
  batch_.UndoAppendedAfter(appended_mark_);
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

// A tombstone is a kv with only its key set.
void WriteTxn::WriteRow(const mvccpb::KeyValue& kv) {
  Query h(batch_.stmts_.row_put);
  h.Bind(1, main_)
      .Bind(2, sub_)
      .BindBlob(3, kv.key())
      .Bind(4, kv.create_revision())
      .Bind(5, kv.version())
      .Bind(6, kv.lease())
      .BindBlob(7, kv.value())
      .Run();
  batch_.store_.index_.Append(kv.key(), {main_, sub_, kv.create_revision(), kv.version(), kv.lease()});
  batch_.appended_.push_back({kv.key(), main_, sub_});
  ++sub_;
}

Result<PutResult> WriteTxn::Put(const etcdserverpb::PutRequest& req, mvccpb::KeyValue* prev_kv) {
  const bool want_prev = prev_kv != nullptr || batch_.events_enabled_;
  // Own earlier writes of this request are at main_, so they are visible to it.
  auto found = batch_.store_.index_.Get(req.key(), main_);
  CAIRN_CHECK(found.ok());  // main_ is above any compaction
  const std::optional<IndexedRevision>& before = *found;
  const bool existed = before.has_value();
  if ((req.ignore_value() || req.ignore_lease()) && !existed) {
    return Status::InvalidArgument("etcdserver: key not found");
  }
  mvccpb::KeyValue prev;
  if (existed) {
    prev.set_create_revision(before->create_rev);
    prev.set_mod_revision(before->main);
    prev.set_version(before->version);
    prev.set_lease(before->lease);
    if (want_prev || req.ignore_value()) prev.set_value(batch_.store_.writer_reader_->ValueAt(before->main, before->sub));
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
  WriteRow(kv);

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
  // Collect first: the index is locked while it is visited.
  std::vector<std::pair<std::string, IndexedRevision>> live;
  const Status visited = batch_.store_.index_.Visit(span, main_, [&](std::string_view k, const IndexedRevision& r) {
    live.emplace_back(std::string(k), r);
    return true;
  });
  CAIRN_CHECK(visited.ok());
  DeleteResult result;
  result.deleted = static_cast<int64_t>(live.size());
  mvccpb::KeyValue tomb;
  for (auto& [k, rev] : live) {
    mvccpb::KeyValue kv;
    kv.set_key(k);
    kv.set_create_revision(rev.create_rev);
    kv.set_mod_revision(rev.main);
    kv.set_version(rev.version);
    kv.set_lease(rev.lease);
    if (want_value) kv.set_value(batch_.store_.writer_reader_->ValueAt(rev.main, rev.sub));
    tomb.set_key(std::move(k));
    WriteRow(tomb);
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
