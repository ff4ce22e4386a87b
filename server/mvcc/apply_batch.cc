#include "server/mvcc/apply_batch.h"

#include "server/mvcc/errors.h"

namespace cairn::mvcc {

ApplyBatch::ApplyBatch(Store& store) : store_(store), stmts_(*store.stmts_) {
  CAIRN_CHECK(!store_.batch_open_);
  store_.batch_open_ = true;
  Query(stmts_.begin).Run();
  state_ = store_.state_;
}

ApplyBatch::~ApplyBatch() {
  CAIRN_CHECK(!request_open_);
  if (!done_) {
    if (index_compacted_) Panic("an apply batch that compacted the key index was abandoned");
    Query(stmts_.rollback).Run();
    UndoAppendedAfter(0);
    store_.batch_open_ = false;
  }
}

void ApplyBatch::UndoAppendedAfter(size_t mark) {
  while (appended_.size() > mark) {
    const Appended& a = appended_.back();
    store_.index_.RemoveNewest(a.key, a.main, a.sub);
    appended_.pop_back();
  }
}

Status ApplyBatch::Compact(int64_t rev) {
  CAIRN_CHECK(!request_open_);
  if (rev <= state_.compact_rev) return ErrCompacted();
  if (rev > state_.current_rev) return ErrFutureRev();
  state_.compact_rev = rev;
  // A newer compaction subsumes a pending one: restart the scan with the new target.
  state_.compact_pending_rev = rev;
  state_.cursor_main = 0;
  state_.cursor_sub = 0;
  return Status::Ok();
}

void ApplyBatch::PutLease(int64_t id, int64_t ttl, int64_t remaining_ttl) {
  CAIRN_CHECK(!request_open_);
  Query q(stmts_.lease_put);
  q.Bind(1, id).Bind(2, ttl).Bind(3, remaining_ttl).Run();
}

void ApplyBatch::DeleteLease(int64_t id) {
  CAIRN_CHECK(!request_open_);
  Query q(stmts_.lease_del);
  q.Bind(1, id).Run();
}

void ApplyBatch::SetMeta(std::string_view name, std::string_view value) {
  CAIRN_CHECK(!request_open_);
  Query q(stmts_.meta_put);
  q.BindBlob(1, name).BindBlob(2, value).Run();
}

void ApplyBatch::Commit(uint64_t applied_index) {
  CAIRN_CHECK(!done_ && !request_open_);
  CAIRN_CHECK(static_cast<int64_t>(applied_index) >= state_.applied_index);
  state_.applied_index = static_cast<int64_t>(applied_index);
  {
    Query q(stmts_.state_put);
    q.Bind(1, state_.applied_index)
        .Bind(2, state_.current_rev)
        .Bind(3, state_.compact_rev)
        .Bind(4, state_.compact_pending_rev)
        .Bind(5, state_.cursor_main)
        .Bind(6, state_.cursor_sub)
        .Run();
  }
  Query(stmts_.commit).Run();
  // Only now (unless CompactStep needed it earlier): an abandoned batch must leave the
  // index as it found it.
  if (state_.compact_rev > store_.index_.CompactedRevision()) store_.index_.Compact(state_.compact_rev);
  done_ = true;
  store_.state_ = state_;
  store_.Publish(state_);
  store_.batch_open_ = false;
}

}  // namespace cairn::mvcc
