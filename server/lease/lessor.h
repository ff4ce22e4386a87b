// Lessor: the member's leases — which exist, their TTLs, the keys attached to them,
// and (on the leader only) when they expire.
//
// Lease state changes only by applying Raft entries (Grant, Revoke, Checkpoint) and
// through the kv applier's Attach/Detach, so every member holds the same leases. Expiry
// is decided by the leader alone: Promote() starts the clocks (from the checkpointed
// remaining TTL when there is one, else the full TTL), Renew() restarts one, Expired()
// lists leases whose time is up so the leader can propose their revocation; a
// follower's leases never expire on their own (Demote()). CheckpointsDue() lists
// leases whose remaining TTL should be persisted so that a new leader or a restart
// neither expires them early nor keeps them alive for a whole fresh TTL.
// Thread-safety: all methods are safe to call concurrently; `mu_` guards all state.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/apply/lease_view.h"
#include "server/common/status.h"

namespace cairn::lease {

using Clock = std::chrono::steady_clock;

inline Status ErrLeaseNotFound() { return Status::NotFound("etcdserver: requested lease not found"); }
inline Status ErrLeaseExists() { return Status::FailedPrecondition("etcdserver: lease already exists"); }
inline Status ErrLeaseTtlTooLarge() { return Status::OutOfRange("etcdserver: too large lease TTL"); }

// etcd's upper bound on a lease TTL, in seconds.
inline constexpr int64_t kMaxLeaseTtl = 9000000000;

struct LeaseTimeToLive {
  int64_t granted_ttl = 0;
  int64_t remaining_ttl = 0;  // seconds, truncated as etcd reports them
  std::vector<std::string> keys;
};

struct LeaseCheckpoint {
  int64_t id;
  int64_t remaining_ttl;
};

class Lessor final : public apply::LeaseView {
 public:
  // min_ttl: the shortest TTL granted, in seconds (etcd: 1.5 election timeouts).
  Lessor(int64_t min_ttl, std::chrono::seconds checkpoint_interval, std::function<Clock::time_point()> now);

  // ---- Recovery: at start-up, or after installing a snapshot (Clear() first).
  void Restore(int64_t id, int64_t ttl, int64_t remaining_ttl);
  void Clear();

  // ---- Applying Raft entries (apply thread).
  bool Exists(int64_t id) const override;
  void Attach(int64_t id, const std::string& key) override;
  void Detach(int64_t id, const std::string& key) override;
  Status Grant(int64_t id, int64_t ttl);
  // Forgets the lease and returns the keys attached to it (the caller deletes them).
  Result<std::vector<std::string>> Revoke(int64_t id);
  void Checkpoint(int64_t id, int64_t remaining_ttl);

  // ---- Leader side.
  void Promote();
  void Demote();
  bool is_primary() const;
  // Restarts the lease's clock; returns its TTL. NotFound if it does not exist.
  Result<int64_t> Renew(int64_t id);
  // Leases past their expiry that were not handed out in the last `retry` (a revoke
  // that got lost is proposed again).
  std::vector<int64_t> Expired(std::chrono::milliseconds retry);
  std::vector<LeaseCheckpoint> CheckpointsDue();

  // ---- Queries.
  std::optional<LeaseTimeToLive> TimeToLive(int64_t id, bool with_keys) const;
  std::vector<int64_t> Ids() const;
  // The TTL a grant request for `requested` seconds actually gets.
  int64_t EffectiveTtl(int64_t requested) const;

 private:
  struct Lease {
    int64_t ttl = 0;
    int64_t remaining_ttl = 0;  // last checkpoint; 0 = none
    Clock::time_point expiry = Clock::time_point::max();
    Clock::time_point last_checkpoint;
    Clock::time_point revoke_requested;
    bool checkpoint_wanted = false;
    std::set<std::string> keys;
  };
  void StartClock(Lease& lease, Clock::time_point now) const;  // REQUIRES: mu_ held

  const int64_t min_ttl_;
  const std::chrono::seconds checkpoint_interval_;
  const std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::map<int64_t, Lease> leases_;  // guarded by mu_
  bool primary_ = false;             // guarded by mu_
};

}  // namespace cairn::lease
