#include "server/etcdserver/entry_applier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "server/auth/auth_applier.h"
#include "server/auth/request_permissions.h"
#include "server/etcdserver/errors.h"
#include "server/etcdserver/identity.h"
#include "server/etcdserver/store_meta.h"
#include "server/lease/lease_applier.h"
#include "server/raft/codec.h"

namespace cairn::etcdserver {

EntryApplier::EntryApplier(ApplyTargets targets, ApplyListener* listener, uint64_t member_id,
                           uint64_t snapshot_count, uint64_t last_log_compaction)
    : targets_(targets),
      listener_(listener),
      member_id_(member_id),
      snapshot_count_(snapshot_count),
      last_log_compaction_(last_log_compaction) {
  applied_index_ = targets_.store->AppliedIndex();
  db_size_ = targets_.store->DbSizeBytes();
}

void EntryApplier::Apply(std::vector<raft::Entry> entries) {
  mvcc::Store& store = *targets_.store;
  const uint64_t already_applied = store.AppliedIndex();
  std::vector<std::pair<uint64_t, ApplyResult>> results;
  std::vector<raft::ConfChange> conf_changes;
  std::vector<uint64_t> changed_members;
  Changes changes;
  uint64_t last_index = already_applied;
  {
    // Closed before the checkpoint below, which needs the store without an open batch:
    // a batch of entries all applied before (a restart's replay) is rolled back, not committed.
    mvcc::ApplyBatch batch(store);
    // Events cost copies; collect them only while someone watches (the hub catches a
    // watcher created mid-batch up from storage).
    if (targets_.hub->WantsEvents()) batch.EnableEvents();
    uint64_t last_term = 0;
    for (auto& entry : entries) {
      if (entry.type == raft::EntryType::kConfChange) {
        ApplyConfChange(entry, already_applied, &changes, &conf_changes, &changed_members);
      } else if (entry.index > already_applied && !entry.data.empty()) {
        cairnpb::RaftRequest request;
        if (!request.ParseFromString(entry.data)) {
          Panic("undecodable request at raft index " + std::to_string(entry.index));
        }
        ApplyResult result = ApplyRequest(batch, request, entry.index, &changes);
        if (request.header().id() != 0) results.emplace_back(request.header().id(), std::move(result));
      }
      if (entry.index > last_index) {
        last_index = entry.index;
        last_term = entry.term;
      }
    }
    RecordChanges(batch, changes, already_applied, last_index, last_term);
    // Answered before the SQLite commit: see the header on why that is durable and why no
    // read observes an answered write missing. It keeps the commit off every write's latency.
    answered_index_ = last_index;
    if (!results.empty()) listener_->OnAnswered(std::move(results));
    if (last_index > already_applied) CommitBatch(batch, last_index);
  }
  applied_index_ = std::max(applied_index_.load(), last_index);
  // Conf changes reach the Raft node before any log compaction that covers them, so the
  // snapshot marker records the membership as of its index.
  if (!conf_changes.empty() || changes.peer_urls) {
    listener_->OnConfigurationChanged(std::move(conf_changes), changes.peer_urls);
  }
  for (uint64_t id : changed_members) listener_->OnMemberChangeApplied(id);
  CheckpointIfDue(last_index);
  listener_->OnApplied(applied_index_.load());
}

void EntryApplier::ApplyConfChange(const raft::Entry& entry, uint64_t already_applied, Changes* changes,
                                   std::vector<raft::ConfChange>* conf_changes,
                                   std::vector<uint64_t>* changed_members) {
  auto cc = raft::DecodeConfChange(entry.data);
  if (!cc.ok()) Panic("undecodable conf change at index " + std::to_string(entry.index));
  if (entry.index > already_applied) {
    if (Status st = targets_.membership->Apply(cc.value()); !st.ok()) {
      Panic("conf change at index " + std::to_string(entry.index) + ": " + st.ToString());
    }
    changes->membership = true;
    changed_members->push_back(cc->node_id);
    if (cc->type == raft::ConfChangeType::kRemoveNode && cc->node_id == member_id_) listener_->OnRemoved();
  }
  conf_changes->push_back(std::move(cc.value()));
}

ApplyResult EntryApplier::ApplyRequest(mvcc::ApplyBatch& batch, const cairnpb::RaftRequest& request, uint64_t index,
                                       Changes* changes) {
  if (GrowsDatabase(request) && targets_.alarms->Raised(etcdserverpb::NOSPACE)) return ErrNoSpace();
  if (request.has_alarm()) {
    etcdserverpb::AlarmResponse response;
    if (targets_.alarms->Apply(request.alarm(), &response)) {
      changes->alarms = true;
      spdlog::warn("alarm {} for member {} {}", etcdserverpb::AlarmType_Name(request.alarm().alarm()),
                   HexId(request.alarm().memberid()),
                   request.alarm().action() == etcdserverpb::AlarmRequest::ACTIVATE ? "raised" : "disarmed");
    }
    return apply::Response(std::move(response));
  }
  if (request.has_member_attributes()) {
    targets_.membership->SetAttributes(request.member_attributes());
    changes->membership = true;
    return apply::Response{};
  }
  if (request.has_member_update()) {
    const auto& update = request.member_update();
    targets_.membership->SetPeerUrls(update.id(), {update.peer_urls().begin(), update.peer_urls().end()});
    changes->membership = true;
    changes->peer_urls = true;
    return apply::Response{};
  }
  if (auth::IsAuthRequest(request)) {
    ApplyResult result = auth::ApplyAuthRequest(*targets_.auth, *targets_.tokens, request, index);
    changes->auth = changes->auth || (result.ok() && !request.has_authenticate());
    return result;
  }
  // Client requests are checked as etcd's auth applier does: against the auth store as
  // of this entry, with the revision they were authorized at (auth_applier.h).
  if (request.header().auth_revision() != 0) {
    auto lease_keys = [this](int64_t lease) {
      auto ttl = targets_.lessor->TimeToLive(lease, true);
      return ttl ? std::move(ttl->keys) : std::vector<std::string>{};
    };
    CAIRN_RETURN_IF_ERROR(auth::CheckWrite(*targets_.auth, auth::InfoOf(request.header()), request, lease_keys));
  }
  if (lease::IsLeaseRequest(request)) return lease::ApplyLeaseRequest(batch, *targets_.lessor, request);
  return targets_.kv->Apply(batch, request);
}

void EntryApplier::RecordChanges(mvcc::ApplyBatch& batch, const Changes& changes, uint64_t already_applied,
                                 uint64_t last_index, uint64_t last_term) {
  // Persisted with the batch that changed it, once however many entries did.
  if (changes.membership) batch.SetMeta(kMembershipMeta, targets_.membership->Encode());
  if (changes.alarms) batch.SetMeta(kAlarmsMeta, targets_.alarms->Encode());
  if (changes.auth) batch.SetMeta(kAuthMeta, targets_.auth->Encode());
  // A snapshot's metadata needs the term of its last entry; it changes once per election.
  if (last_index > already_applied && last_term != recorded_applied_term_) {
    batch.SetMeta(kAppliedTermMeta, std::to_string(last_term));
    recorded_applied_term_ = last_term;
  }
}

void EntryApplier::CommitBatch(mvcc::ApplyBatch& batch, uint64_t last_index) {
  const auto commit_started = std::chrono::steady_clock::now();
  batch.Commit(last_index);
  backend_commit_seconds_.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_started).count());
  db_size_ = targets_.store->DbSizeBytes();
  targets_.hub->OnCommitted(batch.TakeEvents(), targets_.store->CurrentRevision());
}

void EntryApplier::CheckpointIfDue(uint64_t last_index) {
  if (last_index - last_log_compaction_ < snapshot_count_) return;
  // The WAL may drop entries only once the store holding their effects is durable.
  Status st = targets_.store->Checkpoint();
  if (!st.ok()) Panic("mvcc checkpoint failed: " + st.ToString());
  last_log_compaction_ = last_index;
  listener_->OnStoreCheckpointed(last_index);
}

// Everything derived from the store is rebuilt from the new one.
void EntryApplier::InstallStore(const std::string& path) {
  mvcc::Store& store = *targets_.store;
  Status st = store.ReplaceWith(path);
  if (!st.ok()) Panic("installing snapshot " + path + ": " + st.ToString());
  const uint64_t applied = store.AppliedIndex();
  {
    mvcc::ApplyBatch batch(store);
    batch.SetMeta(kInstalledSnapshotMeta, std::to_string(applied));
    batch.Commit(applied);
  }
  {
    mvcc::ReadTxn read = store.BeginRead();
    st = targets_.membership->Restore(read.GetMeta(kMembershipMeta).value_or(""));
    if (st.ok()) st = targets_.alarms->Restore(read.GetMeta(kAlarmsMeta).value_or(""));
    if (st.ok()) st = targets_.auth->Restore(read.GetMeta(kAuthMeta).value_or(""));
    if (!st.ok()) Panic("installed snapshot: " + st.ToString());
    recorded_applied_term_ = std::stoull(read.GetMeta(kAppliedTermMeta).value_or("0"));
  }
  targets_.lessor->Clear();
  const mvcc::Store::LeaseState leases = store.LoadLeaseState();
  for (const auto& l : leases.leases) targets_.lessor->Restore(l.id, l.ttl, l.remaining_ttl);
  for (const auto& [key, id] : leases.leased_keys) targets_.lessor->Attach(id, key);
  // Watchers cannot be fed the jump from memory: they catch up from the new store.
  targets_.hub->OnCommitted({}, store.CurrentRevision());
  db_size_ = store.DbSizeBytes();
  answered_index_ = applied;
  applied_index_ = applied;
  last_log_compaction_ = applied;
  listener_->OnConfigurationChanged({}, /*peer_urls_changed=*/true);
  listener_->OnApplied(applied);
  spdlog::info("installed a snapshot of the store at index {} (revision {})", applied, store.CurrentRevision());
}

void EntryApplier::StepCompaction() {
  // Small steps keep each batch short, so compaction never stalls writes for long.
  constexpr int64_t kCompactionRowsPerStep = 10000;
  mvcc::ApplyBatch batch(*targets_.store);
  batch.CompactStep(kCompactionRowsPerStep);
  batch.Commit(targets_.store->AppliedIndex());
}

Status EntryApplier::Defragment() {
  const int64_t before = targets_.store->DbSizeBytes();
  Status st = targets_.store->Defragment();
  db_size_ = targets_.store->DbSizeBytes();
  if (st.ok()) spdlog::info("defragmented the store: {} -> {} bytes", before, db_size_.load());
  return st;
}

}  // namespace cairn::etcdserver
