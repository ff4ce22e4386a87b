#include "server/api/client_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <climits>

namespace cairn::api {
namespace {

constexpr uint64_t kGrpcOverheadBytes = 512 * 1024;

}  // namespace

Result<std::string> ListenAddress(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("URL " + url + " has no scheme");
  const std::string scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  if (scheme == "unix" || scheme == "unixs") {
    if (scheme == "unixs") return Status::Unimplemented("TLS listeners (" + url + ") are not supported yet");
    return "unix:" + rest;
  }
  if (scheme == "https") return Status::Unimplemented("TLS listeners (" + url + ") are not supported yet");
  if (scheme != "http") return Status::InvalidArgument("URL scheme must be http, https, unix, or unixs: " + url);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  if (rest.empty() || rest.find(':') == std::string::npos) {
    return Status::InvalidArgument("listen URL " + url + " must be host:port");
  }
  return rest;
}

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
  std::vector<std::pair<std::string, std::unique_ptr<int>>> bound;
  for (const auto& url : listen_urls) {
    auto addr = ListenAddress(url);
    if (!addr.ok()) return addr.status();
    bound.emplace_back(url, std::make_unique<int>(0));
    builder.AddListeningPort(addr.value(), grpc::InsecureServerCredentials(), bound.back().second.get());
  }
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
  cs->grpc_ = builder.BuildAndStart();
  if (!cs->grpc_) return Status::Unavailable("could not start the client gRPC server");
  for (const auto& [url, port] : bound) {
    if (*port == 0 && url.rfind("unix", 0) != 0) {
      cs->grpc_->Shutdown();
      return Status::Unavailable("could not listen on " + url + " (address in use or not assignable)");
    }
    spdlog::info("serving client requests on {}", url);
  }
  return cs;
}

void ClientServer::Shutdown() {
  if (grpc_) grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

}  // namespace cairn::api
