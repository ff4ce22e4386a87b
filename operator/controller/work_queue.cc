#include "operator/controller/work_queue.h"

#include <algorithm>

namespace cairn::op {

WorkQueue::WorkQueue(std::chrono::milliseconds backoff_initial, std::chrono::milliseconds backoff_max)
    : backoff_initial_(backoff_initial), backoff_max_(backoff_max) {}

void WorkQueue::ScheduleLocked(const std::string& key, SteadyClock::time_point due) {
  auto& target = processing_.count(key) ? deferred_ : due_;
  auto it = target.find(key);
  if (it == target.end() || due < it->second) target[key] = due;
  ++generation_;
  cv_.notify_all();
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  ScheduleLocked(key, SteadyClock::now() + delay);
}

std::optional<std::string> WorkQueue::Get(std::stop_token stop) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop.stop_requested()) {
    auto next = std::min_element(due_.begin(), due_.end(), [](auto& a, auto& b) { return a.second < b.second; });
    if (next != due_.end() && next->second <= SteadyClock::now()) {
      std::string key = next->first;
      due_.erase(next);
      processing_.insert(key);
      return key;
    }
    auto until = next == due_.end() ? SteadyClock::now() + std::chrono::seconds(1) : next->second;
    const uint64_t seen = generation_;
    cv_.wait_until(lock, stop, until, [&] { return generation_ != seen; });
  }
  return std::nullopt;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  auto it = deferred_.find(key);
  if (it != deferred_.end()) {
    auto due = it->second;
    deferred_.erase(it);
    ScheduleLocked(key, due);
  }
}

std::chrono::milliseconds WorkQueue::Failure(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = failures_[key]++;
  auto delay = backoff_initial_ * (int64_t{1} << std::min(n, 20));
  delay = std::min<std::chrono::milliseconds>(delay, backoff_max_);
  ScheduleLocked(key, SteadyClock::now() + delay);
  return delay;
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

size_t WorkQueue::Length() const {
  std::lock_guard<std::mutex> lock(mu_);
  return due_.size() + deferred_.size();
}

}  // namespace cairn::op
