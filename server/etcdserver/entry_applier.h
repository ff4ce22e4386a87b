// EntryApplier: applies committed log entries to this member's state (etcd's apply.go).
// Each entry goes to what it changes: key space and leases (the MVCC store and the
// lessor), membership (conf changes, published attributes, peer URL updates), alarms,
// or the auth store; client writes are first checked against the auth store as of
// their entry. One call applies a batch of entries in one SQLite transaction that also
// records the applied index, so a restart resumes after the last committed batch and
// skips entries at or below it (they are re-delivered from the WAL).
//
// When an RPC is answered: results go to ApplyListener::OnAnswered after the batch is
// applied but before its SQLite commit. That is durable because every entry handed here
// is committed, and so already fsync'ed in this member's WAL (the Raft loop hands on
// committed entries only after persisting the Ready they came with; server.h): a crash
// before the SQLite commit replays them from the WAL. And no read can miss an answered
// write: linearizable and local reads wait for the applied index, which moves only
// after the commit (answered_index() may lead it).
//
// Thread-safety: Apply, InstallStore, StepCompaction and Defragment are called by one
// thread at a time (the apply loop). The indexes, the database size and the commit
// histogram may be read from any thread. The listener is called on the applying thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cairn/internal.pb.h"
#include "server/apply/applier.h"
#include "server/auth/auth_store.h"
#include "server/auth/token_provider.h"
#include "server/common/histogram.h"
#include "server/etcdserver/alarms.h"
#include "server/etcdserver/membership.h"
#include "server/etcdserver/wait_registry.h"
#include "server/lease/lessor.h"
#include "server/mvcc/store.h"
#include "server/raft/types.h"
#include "server/watch/watch_hub.h"

namespace cairn::etcdserver {

// What applying tells the rest of the member, in this order for one batch.
class ApplyListener {
 public:
  virtual ~ApplyListener() = default;
  // The results of the batch's client requests, by request ID, before the SQLite commit.
  virtual void OnAnswered(std::vector<std::pair<uint64_t, ApplyResult>> results) = 0;
  // After the commit: the batch's conf changes (also those the store already had: Raft
  // rebuilds its configuration from them after a restart), and whether peer URLs
  // changed. Called when either is non-empty, and with ({}, true) after InstallStore.
  virtual void OnConfigurationChanged(std::vector<raft::ConfChange> changes, bool peer_urls_changed) = 0;
  // A member added, removed, updated or promoted by a conf change is now applied.
  virtual void OnMemberChangeApplied(uint64_t member_id) = 0;
  // This member's own removal was applied.
  virtual void OnRemoved() = 0;
  // The store is durable (checkpointed) up to `index`: the log up to it may be compacted.
  virtual void OnStoreCheckpointed(uint64_t index) = 0;
  // Everything up to `index` is committed to the store and visible to readers.
  virtual void OnApplied(uint64_t index) = 0;
};

// The state entries are applied to; not owned, all outliving the EntryApplier.
struct ApplyTargets {
  mvcc::Store* store = nullptr;
  lease::Lessor* lessor = nullptr;
  apply::Applier* kv = nullptr;
  watch::WatchHub* hub = nullptr;  // fed the events of each committed batch
  Membership* membership = nullptr;
  Alarms* alarms = nullptr;
  auth::AuthStore* auth = nullptr;
  auth::TokenProvider* tokens = nullptr;
};

class EntryApplier {
 public:
  // `last_log_compaction`: the index of the WAL's latest snapshot marker; the store is
  // checkpointed (OnStoreCheckpointed) each time `snapshot_count` entries pass it.
  EntryApplier(ApplyTargets targets, ApplyListener* listener, uint64_t member_id, uint64_t snapshot_count,
               uint64_t last_log_compaction);
  EntryApplier(const EntryApplier&) = delete;
  EntryApplier& operator=(const EntryApplier&) = delete;

  // Applies committed entries in log order (REQUIRES: ascending indexes). Entries at or
  // below the store's applied index are skipped, except that conf changes are still
  // reported. An undecodable entry or a conf change the membership refuses aborts: every
  // member applies the same log, so neither can happen unless the log is corrupt.
  void Apply(std::vector<raft::Entry> entries);
  // Replaces the store with the snapshot at `path` (verified by the transport) and
  // rebuilds everything derived from it: membership, alarms, auth, leases, watchers.
  void InstallStore(const std::string& path);
  // Advances a pending physical compaction by one small step.
  void StepCompaction();
  // Rewrites the database without its free pages.
  Status Defragment();

  uint64_t applied_index() const { return applied_index_.load(); }
  // The applied index as an atomic, for waiters that re-check it (ReadLoop).
  const std::atomic<uint64_t>& applied_index_atomic() const { return applied_index_; }
  uint64_t answered_index() const { return answered_index_.load(); }
  int64_t db_size() const { return db_size_.load(std::memory_order_relaxed); }
  const Histogram& backend_commit_seconds() const { return backend_commit_seconds_; }

 private:
  // What applied entries changed besides the key space, to persist once per batch.
  struct Changes {
    bool membership = false;
    bool alarms = false;
    bool peer_urls = false;
    bool auth = false;
  };
  // Applies one committed client or member request (not a conf change) to the batch.
  ApplyResult ApplyRequest(mvcc::ApplyBatch& batch, const cairnpb::RaftRequest& request, uint64_t index,
                           Changes* changes);
  void ApplyConfChange(const raft::Entry& entry, uint64_t already_applied, Changes* changes,
                       std::vector<raft::ConfChange>* conf_changes, std::vector<uint64_t>* changed_members);
  // Persists with `batch` what the batch changed besides the key space.
  void RecordChanges(mvcc::ApplyBatch& batch, const Changes& changes, uint64_t already_applied, uint64_t last_index,
                     uint64_t last_term);
  void CommitBatch(mvcc::ApplyBatch& batch, uint64_t last_index);
  void CheckpointIfDue(uint64_t last_index);

  const ApplyTargets targets_;
  ApplyListener* const listener_;
  const uint64_t member_id_;
  const uint64_t snapshot_count_;

  uint64_t last_log_compaction_;      // applying thread only
  uint64_t recorded_applied_term_ = 0;  // applying thread only
  std::atomic<uint64_t> applied_index_{0};   // committed to the store
  std::atomic<uint64_t> answered_index_{0};  // results handed to OnAnswered; may lead applied_index_
  std::atomic<int64_t> db_size_{0};
  // etcd's buckets: 1 ms to 8 s.
  Histogram backend_commit_seconds_{Histogram::ExponentialBounds(0.001, 2, 14)};
};

}  // namespace cairn::etcdserver
