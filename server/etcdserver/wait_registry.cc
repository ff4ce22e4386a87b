#include "server/etcdserver/wait_registry.h"

#include <utility>
#include <vector>

namespace cairn::etcdserver {

void WaitRegistry::Register(uint64_t id, Clock::time_point deadline, ApplyCallback done) {
  std::lock_guard lock(mu_);
  waiters_[id] = Waiter{deadline, std::move(done)};
}

void WaitRegistry::Trigger(uint64_t id, ApplyResult result) {
  ApplyCallback done;
  {
    std::lock_guard lock(mu_);
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    done = std::move(it->second.done);
    waiters_.erase(it);
  }
  done(std::move(result));
}

void WaitRegistry::ExpireUntil(Clock::time_point now, const Status& status) {
  std::vector<ApplyCallback> expired;
  {
    std::lock_guard lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second.done));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& done : expired) done(ApplyResult(status));
}

void WaitRegistry::FailAll(const Status& status) { ExpireUntil(Clock::time_point::max(), status); }

}  // namespace cairn::etcdserver
