// ApplyBatch: one SQLite write transaction covering a batch of committed Raft entries,
// and WriteTxn: one write request (put / delete / txn) inside it.
//
// Usage (apply thread only):
//   ApplyBatch batch(store);
//   for each entry: { WriteTxn w(batch); ...w.Put(...)...; w.Commit(); }  // or Compact()
//   batch.Commit(last_applied_index);
// Destroying a batch without Commit() rolls everything back; destroying a WriteTxn
// without Commit() rolls back just that request (SAVEPOINT), so a request that fails
// part-way leaves no partial write and does not consume a revision. Both undo their
// key-index updates too. A compaction reaches the key index when its batch commits, or
// at the batch's first CompactStep(); from then on abandoning the batch aborts.
//
// Revisions: a WriteTxn that writes anything gets main = batch revision + 1 and its
// writes get subs 0, 1, 2, ...; one that writes nothing leaves the revision unchanged.
//
// Events: after EnableEvents(), each committed request appends its mvccpb::Events
// (kv and prev_kv) in revision order; the driver takes them after Commit() and hands
// them to the watch service. Disabled (the default) it costs nothing.
//
// Thread-safety: none; both objects belong to the apply thread. Invariant: at most one
// batch per store and one WriteTxn per batch are open at a time (checked).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "etcd/api/mvccpb/kv.pb.h"
#include "server/common/status.h"
#include "server/mvcc/read_view.h"
#include "server/mvcc/store.h"

namespace cairn::mvcc {

class ApplyBatch {
 public:
  explicit ApplyBatch(Store& store);  // BEGIN IMMEDIATE
  ApplyBatch(const ApplyBatch&) = delete;
  ApplyBatch& operator=(const ApplyBatch&) = delete;
  ~ApplyBatch();

  void EnableEvents() { events_enabled_ = true; }
  bool events_enabled() const { return events_enabled_; }

  // Revision after the last committed request of this batch.
  int64_t CurrentRevision() const { return state_.current_rev; }
  int64_t CompactRevision() const { return state_.compact_rev; }

  // Logical compaction at rev: reads below rev fail from now on (once the key index has
  // it, even for readers of older snapshots); the rows it makes unreachable are deleted
  // later, in bounded chunks, by CompactStep(). Errors: rev <=
  // compacted revision -> compacted; rev > current -> future revision.
  // REQUIRES: no WriteTxn open.
  Status Compact(int64_t rev);

  // Physically deletes what the pending compaction made unreachable, examining at most
  // max_rows history rows, and returns whether work remains. The driver calls it once
  // per batch while Store::CompactionPending(), which bounds the time any batch spends
  // on compaction; progress is a cursor in store_state, committed with the batch.
  // REQUIRES: no WriteTxn open; max_rows >= 1.
  bool CompactStep(int64_t max_rows);

  // Records a lease (granted, or its remaining TTL checkpointed) / forgets it. The
  // lease's keys are deleted by the caller through a WriteTxn.
  // REQUIRES: no WriteTxn open.
  void PutLease(int64_t id, int64_t ttl, int64_t remaining_ttl);
  void DeleteLease(int64_t id);

  // Stores a free-form setting (cluster/member ids, ...) in the meta table.
  void SetMeta(std::string_view name, std::string_view value);

  // Records applied_index and commits. Panics on storage failure (see sqlite.h).
  // REQUIRES: no WriteTxn open; applied_index >= the store's current applied index.
  void Commit(uint64_t applied_index);

  // Events of the committed requests so far, in revision order; clears them.
  std::vector<mvccpb::Event> TakeEvents() { return std::move(events_); }

 private:
  friend class WriteTxn;

  struct Appended {  // a key-index revision this batch added, for rollback
    std::string key;
    int64_t main;
    int64_t sub;
  };
  void UndoAppendedAfter(size_t mark);

  Store& store_;
  WriteStmts& stmts_;
  StoreState state_;
  bool done_ = false;
  bool request_open_ = false;
  bool events_enabled_ = false;
  bool index_compacted_ = false;  // by CompactStep, before Commit
  std::vector<mvccpb::Event> events_;
  std::vector<Appended> appended_;
};

// What a put found and did (for the response, lease bookkeeping and prev_kv).
struct PutResult {
  int64_t revision = 0;
  bool existed = false;
  int64_t prev_lease = 0;
  int64_t lease = 0;  // the key's lease after the put
};

// What a delete range removed.
struct DeleteResult {
  int64_t revision = 0;
  int64_t deleted = 0;
  // (key, lease) of each deleted key that had a lease, for lease bookkeeping.
  std::vector<std::pair<std::string, int64_t>> leased;
};

class WriteTxn final : public ReadView {
 public:
  explicit WriteTxn(ApplyBatch& batch);  // SAVEPOINT
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  ~WriteTxn() override;                  // ROLLBACK TO the savepoint unless committed

  // The revision reads observe: this request's revision once it has written, else the
  // batch's (etcd: a txn's reads see its own earlier writes).
  int64_t Revision() const override { return sub_ > 0 ? main_ : main_ - 1; }
  int64_t CompactRevision() const override { return batch_.state_.compact_rev; }
  Status Range(const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* out) override;

  // Put with etcd's ignore_value / ignore_lease (InvalidArgument "key not found" when
  // the key is missing). Lease existence is the caller's concern. Fills *prev_kv with
  // the previous kv when the key existed and prev_kv != nullptr.
  Result<PutResult> Put(const etcdserverpb::PutRequest& req, mvccpb::KeyValue* prev_kv);

  // Deletes every live key of the range (etcd range_end forms). Appends the deleted kvs
  // to *prev_kvs when it is not null. Deleting nothing writes nothing.
  DeleteResult DeleteRange(std::string_view key, std::string_view range_end,
                           google::protobuf::RepeatedPtrField<mvccpb::KeyValue>* prev_kvs);

  // Releases the savepoint and publishes the revision to the batch; returns it.
  int64_t Commit();

 private:
  void WriteRow(const mvccpb::KeyValue& kv);
  mvccpb::Event* NewEvent();

  ApplyBatch& batch_;
  int64_t main_;
  int64_t sub_ = 0;
  size_t events_mark_;
  size_t appended_mark_;
  bool done_ = false;
};

}  // namespace cairn::mvcc
