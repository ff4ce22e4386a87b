// WaitRegistry: matches applied results to the RPCs that proposed them.
//
// A proposer Register()s a fresh id with a deadline and a completion callback before
// proposing; the apply loop Trigger()s the id with the request's result once the entry
// is applied, and ExpireUntil() completes the overdue ones with a timeout. Every
// registered callback runs exactly once. Results for ids nobody waits for (entries
// replayed after restart, requests that already timed out) are dropped.
// Callbacks run on the triggering thread, outside the registry's lock: keep them short.
// Thread-safety: all methods are safe to call concurrently; `mu_` guards `waiters_`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "server/apply/applier.h"

namespace cairn::etcdserver {

using ApplyResult = Result<apply::Response>;
using ApplyCallback = std::function<void(ApplyResult)>;

class WaitRegistry {
 public:
  using Clock = std::chrono::steady_clock;

  void Register(uint64_t id, Clock::time_point deadline, ApplyCallback done);
  void Trigger(uint64_t id, ApplyResult result);
  // Completes every waiter whose deadline is at or before `now` with `status`.
  void ExpireUntil(Clock::time_point now, const Status& status);
  // Completes every outstanding waiter with `status` (server shutdown).
  void FailAll(const Status& status);

 private:
  struct Waiter {
    Clock::time_point deadline;
    ApplyCallback done;
  };
  std::mutex mu_;
  std::unordered_map<uint64_t, Waiter> waiters_;  // guarded by mu_
};

}  // namespace cairn::etcdserver
