#include "server/lease/lessor.h"

#include <algorithm>
#include <utility>

namespace cairn::lease {

Lessor::Lessor(int64_t min_ttl, std::chrono::seconds checkpoint_interval, std::function<Clock::time_point()> now)
    : min_ttl_(min_ttl), checkpoint_interval_(checkpoint_interval), now_(std::move(now)) {}

void Lessor::StartClock(Lease& lease, Clock::time_point now) const {
  const int64_t seconds = lease.remaining_ttl > 0 ? lease.remaining_ttl : lease.ttl;
  lease.expiry = now + std::chrono::seconds(seconds);
  lease.last_checkpoint = now;
}

void Lessor::Restore(int64_t id, int64_t ttl, int64_t remaining_ttl) {
  std::lock_guard lock(mu_);
  Lease& lease = leases_[id];
  lease.ttl = ttl;
  lease.remaining_ttl = remaining_ttl;
}

bool Lessor::Exists(int64_t id) const {
  std::lock_guard lock(mu_);
  return leases_.count(id) != 0;
}

void Lessor::Attach(int64_t id, const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it != leases_.end()) it->second.keys.insert(key);
}

void Lessor::Detach(int64_t id, const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it != leases_.end()) it->second.keys.erase(key);
}

Status Lessor::Grant(int64_t id, int64_t ttl) {
  std::lock_guard lock(mu_);
  if (leases_.count(id) != 0) return ErrLeaseExists();
  Lease& lease = leases_[id];
  lease.ttl = ttl;
  if (primary_) StartClock(lease, now_());
  return Status::Ok();
}

Result<std::vector<std::string>> Lessor::Revoke(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return ErrLeaseNotFound();
  std::vector<std::string> keys(it->second.keys.begin(), it->second.keys.end());
  leases_.erase(it);
  return keys;
}

void Lessor::Checkpoint(int64_t id, int64_t remaining_ttl) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it != leases_.end()) it->second.remaining_ttl = remaining_ttl;
}

void Lessor::Promote() {
  std::lock_guard lock(mu_);
  primary_ = true;
  const auto now = now_();
  for (auto& [id, lease] : leases_) StartClock(lease, now);
}

void Lessor::Demote() {
  std::lock_guard lock(mu_);
  primary_ = false;
  for (auto& [id, lease] : leases_) lease.expiry = Clock::time_point::max();
}

bool Lessor::is_primary() const {
  std::lock_guard lock(mu_);
  return primary_;
}

void Lessor::Clear() {
  std::lock_guard lock(mu_);
  leases_.clear();
}

Result<int64_t> Lessor::Renew(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return ErrLeaseNotFound();
  Lease& lease = it->second;
  const auto now = now_();
  lease.expiry = now + std::chrono::seconds(lease.ttl);
  // A persisted remaining TTL is now stale; a restart must not revive it.
  if (lease.remaining_ttl > 0) lease.checkpoint_wanted = true;
  return lease.ttl;
}

std::vector<int64_t> Lessor::Expired(std::chrono::milliseconds retry) {
  std::lock_guard lock(mu_);
  std::vector<int64_t> expired;
  if (!primary_) return expired;
  const auto now = now_();
  for (auto& [id, lease] : leases_) {
    if (lease.expiry <= now && now - lease.revoke_requested >= retry) {
      lease.revoke_requested = now;
      expired.push_back(id);
    }
  }
  return expired;
}

std::vector<LeaseCheckpoint> Lessor::CheckpointsDue() {
  std::lock_guard lock(mu_);
  std::vector<LeaseCheckpoint> due;
  if (!primary_) return due;
  const auto now = now_();
  for (auto& [id, lease] : leases_) {
    if (lease.expiry <= now) continue;  // being revoked
    const bool interval_passed = lease.ttl > checkpoint_interval_.count() && now - lease.last_checkpoint >= checkpoint_interval_;
    if (!interval_passed && !lease.checkpoint_wanted) continue;
    const auto remaining = std::chrono::duration_cast<std::chrono::seconds>(lease.expiry - now).count();
    due.push_back({id, std::max<int64_t>(remaining, 1)});
    lease.last_checkpoint = now;
    lease.checkpoint_wanted = false;
  }
  return due;
}

std::optional<LeaseTimeToLive> Lessor::TimeToLive(int64_t id, bool with_keys) const {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  const Lease& lease = it->second;
  LeaseTimeToLive ttl;
  ttl.granted_ttl = lease.ttl;
  if (lease.expiry == Clock::time_point::max()) {
    ttl.remaining_ttl = lease.remaining_ttl > 0 ? lease.remaining_ttl : lease.ttl;
  } else {
    ttl.remaining_ttl =
        std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(lease.expiry - now_()).count());
  }
  if (with_keys) ttl.keys.assign(lease.keys.begin(), lease.keys.end());
  return ttl;
}

std::vector<int64_t> Lessor::Ids() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> ids;
  for (const auto& [id, lease] : leases_) ids.push_back(id);
  return ids;
}

int64_t Lessor::EffectiveTtl(int64_t requested) const { return std::max(requested, min_ttl_); }

}  // namespace cairn::lease
