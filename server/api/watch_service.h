// The etcd v3 Watch service: one bidirectional stream per client call, any number of
// watchers per stream, all fed by a watch::WatchHub.
//
// Streams run on gRPC's async API over the service's own completion queues, each
// served by one thread (no thread is pinned per stream). Not the callback API: every
// callback operation of a process completes through one shared queue, and Debian's
// gRPC (built with its debug checks) scans all of a queue's outstanding operations on
// each completion. Every open watch stream keeps a read outstanding, so with 1,000
// streams that scan was half of the server's work in a watch fan-out. Spreading the
// streams over several queues divides it.
//
// Per stream: reads turn WatchRequests into hub calls (create / cancel / progress); the
// hub queues deliveries on the stream's StreamQueue and wakes the stream, which turns
// each delivery into WatchResponses (several when watchers share it, or when a watcher
// asked for fragments and the response exceeds max_response_bytes — etcd's
// sendFragments) with a full header (watch_response_encoder.h). At most one write is in
// flight per stream (the queue's single-writer handshake).
// A watcher is created only if the stream's caller may read its range (checked at
// creation, as etcd does); otherwise the stream gets a created+canceled response with
// etcd's reason and stays open.
// Streams whose call carries the "hasleader" metadata are refused with "etcdserver: no
// leader" when the member has none, and are ended with it when the member has had no
// leader for leader_loss_grace (etcd's monitorLeader).
//
// Life cycle: AddTo(builder) before the grpc::Server is built, Start() once it runs,
// EndStreams() when the member stops (streams never end by themselves, so the server's
// shutdown would otherwise wait its whole deadline for them), Stop() after the server
// has shut down.
// Thread-safety: mu_ guards stopping_, ending_, streams_ and live_; the monitor thread
// and each stream's constructor and destructor take it. Per-stream locking is described in
// watch_service.cc.
#pragma once

#include <grpcpp/server_builder.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/api/watch_response_encoder.h"
#include "server/common/etcd_limits.h"
#include "server/etcdserver/server.h"
#include "server/watch/watch_hub.h"

namespace cairn::api {

// What the Watch service needs to know about its member. Implementations must be
// thread-safe and cheap.
class WatchContext {
 public:
  virtual ~WatchContext() = default;
  virtual uint64_t ClusterId() const = 0;
  virtual uint64_t MemberId() const = 0;
  virtual uint64_t RaftTerm() const = 0;
  virtual bool HasLeader() const = 0;
  // Whether the stream's caller may watch the range (etcd's forms): Ok, or why not.
  virtual Status CheckWatch(const grpc::ServerContext& context, const std::string& key,
                            const std::string& range_end) const = 0;
  // Returns once the store shows every write this member has answered (answers may
  // leave before their batch is visible): a watch "from now" starts after them.
  // Usually immediate; at most one batch commit.
  virtual Status LocalReadBarrier() const = 0;
};

// WatchContext of an EtcdServer (not owned; must outlive the adapter).
class ServerWatchContext final : public WatchContext {
 public:
  explicit ServerWatchContext(etcdserver::EtcdServer* server) : server_(server) {}
  uint64_t ClusterId() const override { return server_->cluster_id(); }
  uint64_t MemberId() const override { return server_->member_id(); }
  uint64_t RaftTerm() const override { return server_->term(); }
  bool HasLeader() const override { return server_->Leader() != 0; }
  Status CheckWatch(const grpc::ServerContext& context, const std::string& key,
                    const std::string& range_end) const override;
  Status LocalReadBarrier() const override { return server_->LocalReadBarrier(); }

 private:
  etcdserver::EtcdServer* server_;
};

struct WatchServiceOptions {
  // etcd fragments a response of a watcher that asked for it once it reaches
  // --max-request-bytes.
  size_t max_response_bytes = kDefaultMaxRequestBytes;
  // Events a stream may have queued before its watchers fall back to catching up.
  size_t stream_buffer_events = 4096;
  // How long a "hasleader" stream survives without a leader (etcd: 3 election timeouts).
  std::chrono::milliseconds leader_loss_grace{3000};
  std::chrono::milliseconds leader_check_interval{100};
  // Completion queues (and threads) the streams are spread over. Callgrind, 10,000
  // watchers over 1,000 streams: 117M server instructions per put with 4, 100M with 8,
  // 91M with 16; wall-clock runs could not tell 4 from 8, and 16 looked slower.
  int completion_queues = 8;
};

class WatchStream;

// Responses are written as OutgoingWatchResponse, which gRPC serializes without a
// protobuf message per watcher (watch_response_encoder.h).
class WatchService final : public etcdserverpb::Watch::Service {
 public:
  // `member` and `hub` are not owned and must outlive the service.
  WatchService(const WatchContext* member, watch::WatchHub* hub, WatchServiceOptions options);
  // REQUIRES: Stop() has returned, or Start() was never called.
  ~WatchService() override;

  // Registers the service and its completion queues. REQUIRES: called once, before
  // builder.BuildAndStart().
  void AddTo(grpc::ServerBuilder& builder);
  // Starts accepting streams. REQUIRES: the server built with AddTo's builder started.
  void Start();
  // Ends every stream, and any accepted later, with "etcdserver: server stopped" (what
  // etcd's clients take as a cue to fail over).
  void EndStreams();
  // Drains and joins the queue threads. REQUIRES: that server's Shutdown() returned.
  void Stop();

 private:
  friend class WatchStream;
  // Asks gRPC for the next stream on `cq`.
  void AcceptOn(grpc::ServerCompletionQueue* cq);
  // Registers a started stream; false if the service is ending its streams.
  bool Track(WatchStream* s);
  // Every WatchStream object, from its accept request to its deletion.
  void Born();
  void Died(WatchStream* s, bool tracked);
  // Ends the tracked streams that `pick` selects with `status`. REQUIRES: mu_ is held
  // through `lock`; it is released while the streams are ended and held again after.
  void EndTracked(std::unique_lock<std::mutex>& lock, bool (*pick)(const WatchStream&), const grpc::Status& status);
  void MonitorLeader();

  const WatchContext* const member_;
  watch::WatchHub* const hub_;
  const WatchServiceOptions options_;

  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> queue_threads_;
  std::atomic<size_t> next_queue_{0};  // where the next stream's operations go

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;            // guarded by mu_
  bool ending_ = false;              // guarded by mu_
  std::set<WatchStream*> streams_;  // guarded by mu_: started, not yet destroyed
  int live_ = 0;                    // guarded by mu_: WatchStream objects alive
  std::thread monitor_;
};

}  // namespace cairn::api
