// WorkQueue: keys ("namespace/name") waiting to be reconciled, as client-go's
// rate-limited delaying queue:
//   * a key is queued at most once; adding it again keeps the earliest due time;
//   * a key handed out by Get() is not handed out again until Done(); adds meanwhile are
//     remembered and honoured after Done() (so no event is lost, and no two workers ever
//     reconcile the same cluster at once);
//   * Failure(key) schedules a retry after a per-key capped exponential backoff;
//     Forget(key) resets it after a success.
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>

namespace cairn::op {

class WorkQueue {
 public:
  using SteadyClock = std::chrono::steady_clock;
  WorkQueue(std::chrono::milliseconds backoff_initial = std::chrono::milliseconds(100),
            std::chrono::milliseconds backoff_max = std::chrono::seconds(60));

  void Add(const std::string& key) { AddAfter(key, std::chrono::milliseconds(0)); }
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // Blocks until a key is due (returns it) or stop is requested (nullopt).
  std::optional<std::string> Get(std::stop_token stop);
  void Done(const std::string& key);
  std::chrono::milliseconds Failure(const std::string& key);  // requeues; returns the delay
  void Forget(const std::string& key);
  size_t Length() const;

 private:
  void ScheduleLocked(const std::string& key, SteadyClock::time_point due);

  const std::chrono::milliseconds backoff_initial_, backoff_max_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<std::string, SteadyClock::time_point> due_;       // queued keys
  std::set<std::string> processing_;
  std::map<std::string, SteadyClock::time_point> deferred_;  // added while processing
  std::map<std::string, int> failures_;
  uint64_t generation_ = 0;  // bumped on every schedule, to wake Get() early
};

}  // namespace cairn::op
