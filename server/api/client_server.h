// ClientServer: the gRPC endpoint clients talk to, bound to --listen-client-urls.
//
// Registers every etcd v3 service Cairn implements over one EtcdServer and applies
// the request-size limits: gRPC accepts messages up to max-request-bytes plus
// etcd's 512 KiB of framing headroom, so an oversized request reaches the server and
// gets etcd's "request is too large" error instead of a transport-level failure.
// Plaintext http:// URLs also serve etcd's HTTP/JSON gateway, /version and /health on
// the same port (gateway/gateway.h, transport/port_mux.h).
// Thread-safety: Start/Shutdown from one thread; services run on gRPC's threads.
#pragma once

#include <grpcpp/server.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "server/api/auth_service.h"
#include "server/api/cluster_service.h"
#include "server/api/election_service.h"
#include "server/api/kv_service.h"
#include "server/api/lease_service.h"
#include "server/api/lock_service.h"
#include "server/api/long_calls.h"
#include "server/api/maintenance_service.h"
#include "server/api/read_executor.h"
#include "server/api/watch_service.h"
#include "server/etcdserver/server.h"
#include "server/gateway/gateway.h"
#include "server/transport/port_mux.h"

namespace cairn::api {

class ClientServer {
 public:
  // `metrics_urls` (--listen-metrics-urls, http only) serve /metrics, /health, /livez,
  // /readyz and /version, and nothing else.
  static Result<std::unique_ptr<ClientServer>> Start(etcdserver::EtcdServer* server,
                                                     const std::vector<std::string>& listen_urls,
                                                     const std::vector<std::string>& metrics_urls = {});
  // Ends the calls that would never end by themselves (watch and keep-alive streams,
  // Lock, Campaign and Observe waits), stops accepting, and lets the responses on their
  // way out leave for at most kDrainDeadline. REQUIRES: the member has stopped.
  void Shutdown();

 private:
  explicit ClientServer(etcdserver::EtcdServer* server) : reads_(kReadThreads),
        kv_(server, &reads_),
        auth_(server),
        maintenance_(server),
        cluster_(server),
        lease_(server, &long_calls_),
        lock_(server, &long_calls_),
        election_(server, &long_calls_),
        watch_context_(server),
        watch_(&watch_context_, &server->watch_hub(), WatchOptionsFor(*server)) {}

  static WatchServiceOptions WatchOptionsFor(const etcdserver::EtcdServer& server);

  static constexpr int kReadThreads = 2;
  // How long Shutdown lets responses already on their way reach their clients.
  static constexpr std::chrono::milliseconds kDrainDeadline{1000};

  ReadExecutor reads_;
  LongCalls long_calls_;
  KvService kv_;
  AuthService auth_;
  MaintenanceService maintenance_;
  ClusterService cluster_;
  LeaseService lease_;
  LockService lock_;
  ElectionService election_;
  ServerWatchContext watch_context_;
  WatchService watch_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<gateway::Gateway> gateway_;  // with mux_ or metrics_mux_
  std::unique_ptr<transport::PortMux> mux_;    // http:// listen URLs
  std::unique_ptr<transport::PortMux> metrics_mux_;
};

}  // namespace cairn::api
