#include "server/etcdserver/wait_registry.h"

#include <utility>
#include <vector>

namespace cairn::etcdserver {

std::optional<ApplyResult> WaitRegistry::Waiter::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_until(lock, deadline, [&] { return result_.has_value(); })) return std::nullopt;
  return std::move(*result_);
}

std::shared_ptr<WaitRegistry::Waiter> WaitRegistry::Register(uint64_t id) {
  auto waiter = std::make_shared<Waiter>();
  std::lock_guard lock(mu_);
  waiters_[id] = waiter;
  return waiter;
}

void WaitRegistry::Trigger(uint64_t id, ApplyResult result) {
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mu_);
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    waiter = std::move(it->second);
    waiters_.erase(it);
  }
  {
    std::lock_guard lock(waiter->mu_);
    waiter->result_.emplace(std::move(result));
  }
  waiter->cv_.notify_one();
}

void WaitRegistry::Cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  waiters_.erase(id);
}

void WaitRegistry::FailAll(const Status& status) {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, waiter] : waiters_) ids.push_back(id);
  }
  for (uint64_t id : ids) Trigger(id, ApplyResult(status));
}

}  // namespace cairn::etcdserver
