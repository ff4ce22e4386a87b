// The etcd v3 Watch service: one bidirectional stream per client call, any number of
// watchers per stream, all fed by a watch::WatchHub.
//
// Each stream is a gRPC callback reactor (no thread is pinned per stream): reads turn
// WatchRequests into hub calls (create / cancel / progress); the hub queues deliveries
// on the stream's StreamQueue and wakes the reactor, which turns each delivery into one
// WatchResponse (or several, when the watcher asked for fragments and the response
// exceeds max_response_bytes — etcd's sendFragments) with a full header
// (watch_response_encoder.h). At most one
// write is in flight per stream (the queue's single-writer handshake).
// Streams whose call carries the "hasleader" metadata are refused with "etcdserver: no
// leader" when the member has none, and are ended with it when the member has had no
// leader for leader_loss_grace (etcd's monitorLeader).
//
// Thread-safety: Watch() is called by gRPC threads concurrently. mu_ guards stopping_
// and leader_streams_; the monitor thread and each stream's OnDone take it.
// Per-stream locking is described in watch_service.cc.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>

#include "etcd/api/etcdserverpb/rpc.grpc.pb.h"
#include "server/api/watch_response_encoder.h"
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
};

// WatchContext of an EtcdServer (not owned; must outlive the adapter).
class ServerWatchContext final : public WatchContext {
 public:
  explicit ServerWatchContext(etcdserver::EtcdServer* server) : server_(server) {}
  uint64_t ClusterId() const override { return server_->cluster_id(); }
  uint64_t MemberId() const override { return server_->member_id(); }
  uint64_t RaftTerm() const override { return server_->term(); }
  bool HasLeader() const override { return server_->GetStatus().leader != 0; }

 private:
  etcdserver::EtcdServer* server_;
};

struct WatchServiceOptions {
  // etcd fragments a response of a watcher that asked for it once it reaches
  // --max-request-bytes.
  size_t max_response_bytes = 1572864;
  // Events a stream may have queued before its watchers fall back to catching up.
  size_t stream_buffer_events = 4096;
  // How long a "hasleader" stream survives without a leader (etcd: 3 election timeouts).
  std::chrono::milliseconds leader_loss_grace{3000};
  std::chrono::milliseconds leader_check_interval{100};
};

class WatchReactor;

// Responses are written as OutgoingWatchResponse, which gRPC serializes without a
// protobuf message per watcher (watch_response_encoder.h).
class WatchService final : public etcdserverpb::Watch::Service {
 public:
  // `member` and `hub` are not owned and must outlive the service; the service must be
  // destroyed after the grpc::Server that runs it has shut down.
  WatchService(const WatchContext* member, watch::WatchHub* hub, WatchServiceOptions options);
  ~WatchService() override;

 private:
  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, OutgoingWatchResponse>* NewStream(
      grpc::CallbackServerContext* context);

  friend class WatchReactor;
  void Forget(WatchReactor* r);
  void MonitorLeader();

  const WatchContext* const member_;
  watch::WatchHub* const hub_;
  const WatchServiceOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                 // guarded by mu_
  std::set<WatchReactor*> leader_streams_;  // guarded by mu_: live "hasleader" streams
  std::thread monitor_;
};

}  // namespace cairn::api
