// LeaderElector: one active operator replica at a time, through a coordination.k8s.io/v1
// Lease, with client-go's leaderelection semantics:
//   * a candidate may take the Lease when it is unheld (empty holderIdentity) or when the
//     record has not changed for leaseDurationSeconds as measured on the candidate's OWN
//     clock since it last saw a change (never by comparing renewTime with local time, so
//     clock offsets between nodes do not matter);
//   * taking it sets acquireTime and increments leaseTransitions; renewing only moves
//     renewTime; every write carries the resourceVersion read, so of two racing
//     candidates exactly one succeeds (the other gets 409 and stays a follower);
//   * the leader renews every retry_period; IsLeader() turns false as soon as no renewal
//     succeeded for renew_deadline (< lease_duration), so a partitioned leader stops
//     acting before anyone else may take over;
//   * Release() (clean shutdown) clears holderIdentity so a successor need not wait.
// The clock is injected. Thread-safety: TryAcquireOrRenew/Release/Run from one thread;
// IsLeader() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/kube/client.h"
#include "operator/reconcile/observed.h"

namespace cairn::op {

struct LeaderElectionConfig {
  std::string ns;
  std::string name;
  std::string identity;
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

class LeaderElector {
 public:
  using ClockFn = std::function<TimePoint()>;
  LeaderElector(kube::Client& client, LeaderElectionConfig config, ClockFn clock);

  // One attempt (client-go's tryAcquireOrRenew). True if this replica holds the Lease now.
  bool TryAcquireOrRenew();
  bool IsLeader() const;
  // Whether the last attempt could read the Lease: a follower that can is standing by
  // cleanly (ready); one that cannot is cut off from the API server.
  bool Reachable() const { return reachable_; }
  // Gives the Lease up if held (holderIdentity cleared, leaseDurationSeconds 1).
  Status Release();

  // Campaigns until leading, then renews. Calls on_started once leadership is gained and
  // on_stopped when it is lost (renewal failed past renew_deadline) and then returns;
  // also returns when stop is requested (on_stopped, then the Lease is released).
  void Run(std::stop_token stop, const std::function<void()>& on_started, const std::function<void()>& on_stopped);

  const LeaderElectionConfig& config() const { return config_; }

 private:
  nlohmann::json Record(const nlohmann::json& lease) const;

  kube::Client& client_;
  const LeaderElectionConfig config_;
  const ClockFn clock_;

  mutable std::mutex mu_;
  nlohmann::json observed_record_;  // the Lease spec as last seen
  TimePoint observed_time_{};       // local time it was last seen to change
  std::string observed_rv_;
  bool holding_ = false;
  TimePoint last_renew_{};
  std::atomic<bool> reachable_{false};
};

// metav1.MicroTime: RFC 3339 with microseconds, UTC.
std::string FormatMicroTime(TimePoint t);

}  // namespace cairn::op
