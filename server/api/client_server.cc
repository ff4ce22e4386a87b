#include "server/api/client_server.h"

#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <climits>

#include "server/transport/grpc_listener.h"

namespace cairn::api {
namespace {

constexpr uint64_t kGrpcOverheadBytes = 512 * 1024;

}  // namespace

WatchServiceOptions ClientServer::WatchOptionsFor(const etcdserver::EtcdServer& server) {
  WatchServiceOptions options;
  options.max_response_bytes = server.options().max_request_bytes;
  // etcd ends a "hasleader" watch after three election timeouts without a leader.
  options.leader_loss_grace = 3 * server.options().election_timeout;
  return options;
}

Result<std::unique_ptr<ClientServer>> ClientServer::Start(etcdserver::EtcdServer* server,
                                                          const std::vector<std::string>& listen_urls) {
  std::unique_ptr<ClientServer> cs(new ClientServer(server));
  grpc::ServerBuilder builder;
  const uint64_t max_recv = server->options().max_request_bytes + kGrpcOverheadBytes;
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<uint64_t>(max_recv, INT_MAX)));
  builder.SetMaxSendMessageSize(INT_MAX);
  builder.RegisterService(&cs->kv_);
  builder.RegisterService(&cs->maintenance_);
  builder.RegisterService(&cs->cluster_);
  builder.RegisterService(&cs->lease_);
  builder.RegisterService(&cs->lock_);
  builder.RegisterService(&cs->election_);
  builder.RegisterService(&cs->watch_);
  auto grpc_server = transport::StartGrpcServer(builder, listen_urls, "client requests", server->options().client_tls);
  if (!grpc_server.ok()) return grpc_server.status();
  cs->grpc_ = std::move(grpc_server.value());
  return cs;
}

void ClientServer::Shutdown() {
  if (grpc_) grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

}  // namespace cairn::api
