#include "server/etcdserver/apply_loop.h"

#include <future>
#include <iterator>
#include <utility>

#include "server/etcdserver/errors.h"

namespace cairn::etcdserver {

ApplyLoop::ApplyLoop(EntryApplier* applier, mvcc::Store* store) : applier_(applier), store_(store) {}

ApplyLoop::~ApplyLoop() { Stop(); }

void ApplyLoop::Start() { thread_ = std::thread([this] { Run(); }); }

void ApplyLoop::Enqueue(std::vector<raft::Entry> committed) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(committed));
  }
  cv_.notify_one();
}

Status ApplyLoop::Install(const std::string& path) {
  return RunBetweenBatches([this, path] {
    applier_->InstallStore(path);
    return Status::Ok();
  });
}

Status ApplyLoop::Defragment() {
  return RunBetweenBatches([this] { return applier_->Defragment(); });
}

Status ApplyLoop::RunBetweenBatches(std::function<Status()> task) {
  auto done = std::make_shared<std::promise<Status>>();
  auto finished = done->get_future();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return ErrStopped();
    tasks_.push_back([task = std::move(task), done](bool stopping) {
      done->set_value(stopping ? ErrStopped() : task());
    });
  }
  cv_.notify_one();
  return finished.get();
}

void ApplyLoop::Run() {
  while (true) {
    std::vector<raft::Entry> entries;
    std::vector<Task> tasks;
    {
      std::unique_lock lock(mu_);
      auto has_work = [&] { return stopping_ || !queue_.empty() || !tasks_.empty(); };
      if (store_->CompactionPending()) {
        cv_.wait_for(lock, std::chrono::milliseconds(5), has_work);
      } else {
        cv_.wait(lock, has_work);
      }
      if (stopping_ && queue_.empty()) {
        for (auto& task : tasks_) task(true);
        tasks_.clear();
        return;
      }
      while (!queue_.empty()) {
        auto& batch = queue_.front();
        if (entries.empty()) {
          entries = std::move(batch);
        } else {
          entries.insert(entries.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
        }
        queue_.pop_front();
      }
      tasks.swap(tasks_);
    }
    if (!entries.empty()) applier_->Apply(std::move(entries));
    for (auto& task : tasks) task(false);
    if (store_->CompactionPending()) applier_->StepCompaction();
  }
}

void ApplyLoop::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cairn::etcdserver
