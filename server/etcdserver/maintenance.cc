// EtcdServer's maintenance: the store snapshot streamed to clients
// (Maintenance.Snapshot) and defragmentation, which act on this member's database only
// (like etcd's, they do not go through Raft); the quota check that raises the NOSPACE
// alarm; and the auto-compaction driver, which proposes what auto_compactor.h decides.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <future>

#include "server/etcdserver/errors.h"
#include "server/etcdserver/server.h"
#include "server/mvcc/errors.h"

namespace cairn::etcdserver {

Result<mvcc::KvHash> EtcdServer::HashKV(int64_t rev) {
  // Without the barrier HashKV right after a put could hash the store without it.
  CAIRN_RETURN_IF_ERROR(LocalReadBarrier());
  return store_->HashKV(rev);
}

Result<EtcdServer::StoreSnapshot> EtcdServer::SnapshotStore() {
  // Writes are answered before their batch is visible to readers; without the barrier a
  // snapshot taken right after a put (a backup after a write) could miss it.
  CAIRN_RETURN_IF_ERROR(LocalReadBarrier());
  // Removed at start-up if a crash leaves one behind (see Open).
  const std::string path = SnapshotDir() + "/client-" + std::to_string(next_client_snapshot_.fetch_add(1)) + ".db";
  std::remove(path.c_str());
  auto copy = store_->CopyTo(path);
  if (!copy.ok()) {
    std::remove(path.c_str());
    return copy.status();
  }
  StoreSnapshot snapshot;
  std::error_code ec;
  snapshot.size = std::filesystem::file_size(path, ec);
  snapshot.revision = copy->revision;
  snapshot.data.open(path, std::ios::binary);
  std::remove(path.c_str());
  if (ec || !snapshot.data) return Status::IoError("cannot read the store copy " + path);
  return snapshot;
}

Status EtcdServer::CheckQuota() {
  if (alarms_.Raised(etcdserverpb::NOSPACE)) return ErrNoSpace();
  const int64_t quota = QuotaBytes();
  if (quota <= 0 || DbSizeBytes() < quota) return Status::Ok();
  if (!raising_nospace_.exchange(true)) {
    spdlog::warn("database size {} reached the quota {}: raising the NOSPACE alarm", DbSizeBytes(), quota);
    cairnpb::RaftRequest request;
    auto* alarm = request.mutable_alarm();
    alarm->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
    alarm->set_memberid(member_id());
    alarm->set_alarm(etcdserverpb::NOSPACE);
    ProposeAsync(std::move(request), [this](const ApplyResult& result) {
      if (!result.ok()) spdlog::warn("raising the NOSPACE alarm failed: {}", result.status().message());
      raising_nospace_ = false;
    });
  }
  return ErrNoSpace();
}

Status EtcdServer::Defragment() { return apply_loop_->Defragment(); }

void EtcdServer::AutoCompactLoop() {
  AutoCompactor policy(options_.auto_compaction_mode, options_.auto_compaction_period,
                       options_.auto_compaction_revisions, AutoCompactor::Clock::now());
  if (!policy.Enabled()) return;
  std::unique_lock lock(compactor_mu_);
  while (!compactor_stopping_) {
    compactor_cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (compactor_stopping_) break;
    const auto now = AutoCompactor::Clock::now();
    if (compaction_done_) {
      policy.Compacted(now, *compaction_done_);
      compaction_done_.reset();
    }
    if (compaction_in_flight_) continue;
    const auto revision = policy.Due(now, CurrentRevision(), IsLeader());
    if (!revision) continue;
    compaction_in_flight_ = true;
    lock.unlock();
    spdlog::info("auto-compacting to revision {}", *revision);
    cairnpb::RaftRequest request;
    request.mutable_compaction()->set_revision(*revision);
    // Asynchronous, so that Stop() never waits for a proposal on this thread.
    ProposeAsync(std::move(request), [this, rev = *revision](const ApplyResult& result) {
      const bool done = result.ok() || result.status().message() == mvcc::ErrCompacted().message();
      if (!done) spdlog::warn("auto-compaction to revision {} failed: {}", rev, result.status().message());
      std::lock_guard l(compactor_mu_);
      compaction_in_flight_ = false;
      if (done) compaction_done_ = rev;
    });
    lock.lock();
  }
}

}  // namespace cairn::etcdserver
