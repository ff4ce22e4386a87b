// WaitRegistry: matches applied results to the RPCs that proposed them.
//
// A proposer Register()s a fresh id before proposing, then Wait()s; the apply loop
// Trigger()s the id with the request's result once the entry is applied. Results for
// ids nobody waits for (entries replayed after restart, proposals whose RPC already
// timed out) are dropped. Thread-safety: all methods are safe to call concurrently;
// `mu_` guards `waiters_`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "server/apply/applier.h"

namespace cairn::etcdserver {

using ApplyResult = Result<apply::Response>;

class WaitRegistry {
 public:
  class Waiter {
   public:
    // Blocks until the result arrives or `deadline` passes (then returns nullopt).
    std::optional<ApplyResult> WaitUntil(std::chrono::steady_clock::time_point deadline);

   private:
    friend class WaitRegistry;
    std::mutex mu_;
    std::condition_variable cv_;
    std::optional<ApplyResult> result_;  // guarded by mu_
  };

  std::shared_ptr<Waiter> Register(uint64_t id);
  void Trigger(uint64_t id, ApplyResult result);
  void Cancel(uint64_t id);
  // Fails every outstanding waiter with `status` (server shutdown).
  void FailAll(const Status& status);

 private:
  std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Waiter>> waiters_;  // guarded by mu_
};

}  // namespace cairn::etcdserver
