// EtcdServer's member-local maintenance: the store snapshot streamed to clients
// (Maintenance.Snapshot) and defragmentation. Neither goes through Raft: like etcd's,
// they act on this member's database only.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <future>

#include "server/etcdserver/errors.h"
#include "server/etcdserver/server.h"

namespace cairn::etcdserver {

Result<EtcdServer::StoreSnapshot> EtcdServer::SnapshotStore() {
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

Status EtcdServer::Defragment() {
  auto done = std::make_shared<std::promise<Status>>();
  auto finished = done->get_future();
  {
    std::lock_guard lock(apply_mu_);
    if (apply_stopping_) return ErrStopped();
    apply_tasks_.push_back([this, done](bool stopping) {
      if (stopping) return done->set_value(ErrStopped());
      const int64_t before = store_->DbSizeBytes();
      Status st = store_->Defragment();
      db_size_ = store_->DbSizeBytes();
      if (st.ok()) spdlog::info("defragmented the store: {} -> {} bytes", before, db_size_.load());
      done->set_value(std::move(st));
    });
  }
  apply_cv_.notify_one();
  return finished.get();
}

}  // namespace cairn::etcdserver
