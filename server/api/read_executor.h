// ReadExecutor: a small fixed pool of threads that runs reads whose linearizable read
// point was reached asynchronously, so they never run on the Raft or apply loops.
// Thread-safety: Submit may be called from any thread. Destruction drains the queue.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cairn::api {

class ReadExecutor {
 public:
  explicit ReadExecutor(int threads);
  ~ReadExecutor();
  ReadExecutor(const ReadExecutor&) = delete;
  ReadExecutor& operator=(const ReadExecutor&) = delete;

  void Submit(std::function<void()> task);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace cairn::api
