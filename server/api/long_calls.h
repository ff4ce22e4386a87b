// LongCalls: the calls that last as long as their client wants (lease keep-alive
// streams) or until somebody else acts (Lock and Campaign waiting their turn, election
// observers). A stopping member ends them at once, as etcd does, instead of holding its
// shutdown for gRPC's deadline: waiters poll stopping() and answer etcd's "server
// stopped" (UNAVAILABLE, which clients retry elsewhere); streams blocked reading their
// client are registered and canceled.
// Thread-safety: thread-safe. A Registration must end before its context is destroyed
// (it lives in the handler, which the context outlives).
#pragma once

#include <grpcpp/server_context.h>

#include <atomic>
#include <mutex>
#include <set>

namespace cairn::api {

class LongCalls {
 public:
  // Keeps `context` registered, so that EndAll() cancels its call, for as long as the
  // Registration lives; a call registered after EndAll() is canceled at once.
  class Registration {
   public:
    Registration(LongCalls* calls, grpc::ServerContext* context);
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

   private:
    LongCalls* const calls_;
    grpc::ServerContext* const context_;
  };

  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // From now on stopping() is true; cancels every registered call.
  void EndAll();

 private:
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<grpc::ServerContext*> registered_;  // guarded by mu_
};

}  // namespace cairn::api
