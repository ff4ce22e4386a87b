#include "server/api/client_server.h"

#include <grpcpp/server_builder.h>
#include <grpcpp/server_posix.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <climits>

#include <unistd.h>

#include "server/common/etcd_limits.h"
#include "server/transport/grpc_address.h"
#include "server/transport/grpc_listener.h"

namespace cairn::api {
namespace {

int MillisOrNever(std::chrono::milliseconds d) {
  return d.count() <= 0 ? INT_MAX : static_cast<int>(std::min<int64_t>(d.count(), INT_MAX));
}

std::string JoinUrls(const std::vector<std::string>& urls) {
  std::string out;
  for (const auto& u : urls) out += (out.empty() ? "" : ",") + u;
  return out;
}

}  // namespace

WatchServiceOptions ClientServer::WatchOptionsFor(const etcdserver::EtcdServer& server) {
  WatchServiceOptions options;
  options.max_response_bytes = server.options().max_request_bytes;
  // etcd ends a "hasleader" watch after three election timeouts without a leader.
  options.leader_loss_grace = 3 * server.options().election_timeout;
  return options;
}

Result<std::unique_ptr<ClientServer>> ClientServer::Start(etcdserver::EtcdServer* server,
                                                          const std::vector<std::string>& listen_urls,
                                                          const std::vector<std::string>& metrics_urls) {
  std::unique_ptr<ClientServer> cs(new ClientServer(server));
  grpc::ServerBuilder builder;
  const uint64_t max_recv = server->options().max_request_bytes + kGrpcOverheadBytes;
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<uint64_t>(max_recv, INT_MAX)));
  builder.SetMaxSendMessageSize(INT_MAX);
  // etcd's --grpc-keepalive-interval/--grpc-keepalive-timeout (0 disables): find dead
  // clients.
  const auto& o = server->options();
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, MillisOrNever(o.grpc_keepalive_interval));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, MillisOrNever(o.grpc_keepalive_timeout));
  // etcd's enforcement policy: pings no more often than --grpc-keepalive-min-time, and
  // only while a call is open (PermitWithoutStream false, gRPC's default too). gRPC's
  // own minimum is 5 minutes: Go clients, etcdctl among them, ping an idle watch every
  // 10 s and got GOAWAY "too_many_pings" after 30 s. 0 leaves that default, as in etcd.
  if (o.grpc_keepalive_min_time.count() > 0) {
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                               MillisOrNever(o.grpc_keepalive_min_time));
  }
  builder.RegisterService(&cs->kv_);
  builder.RegisterService(&cs->auth_);
  builder.RegisterService(&cs->maintenance_);
  builder.RegisterService(&cs->cluster_);
  builder.RegisterService(&cs->lease_);
  builder.RegisterService(&cs->lock_);
  builder.RegisterService(&cs->election_);
  cs->watch_.AddTo(builder);
  // Plaintext http URLs carry gRPC and HTTP/1.1 (the gateway) on one port, so they are
  // bound by a PortMux that hands gRPC connections to the server; the others by gRPC.
  std::vector<std::string> grpc_urls;
  std::vector<std::string> mux_urls;
  std::vector<std::string> mux_addresses;
  for (const auto& url : listen_urls) {
    if (!url.starts_with("http://")) {
      grpc_urls.push_back(url);
      continue;
    }
    auto address = transport::ListenAddress(url);
    if (!address.ok()) return address.status();
    mux_urls.push_back(url);
    mux_addresses.push_back(*address);
  }
  auto grpc_server = transport::StartGrpcServer(builder, grpc_urls, "client requests", server->options().client_tls);
  if (!grpc_server.ok()) return grpc_server.status();
  cs->grpc_ = std::move(grpc_server.value());
  cs->watch_.Start();
  if (mux_urls.empty() && metrics_urls.empty()) return cs;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  cs->gateway_ = std::make_unique<gateway::Gateway>(cs->grpc_->InProcessChannel(args), server, kEtcdApiVersion);
  if (!metrics_urls.empty()) {
    std::vector<std::string> addresses;
    for (const auto& url : metrics_urls) {
      if (!url.starts_with("http://")) {
        cs->Shutdown();
        return Status::InvalidArgument("--listen-metrics-urls: " + url + ": only http:// is supported yet");
      }
      auto address = transport::ListenAddress(url);
      if (!address.ok()) {
        cs->Shutdown();
        return address.status();
      }
      addresses.push_back(*address);
    }
    // A monitoring port speaks HTTP/1.1 only: a gRPC connection is closed.
    auto metrics = transport::PortMux::Start(
        addresses, [](int fd) { ::close(fd); }, [gw = cs->gateway_.get()](int fd) { gw->ServeMonitoring(fd); });
    if (!metrics.ok()) {
      cs->Shutdown();
      return Status::Unavailable("could not listen for metrics on " + JoinUrls(metrics_urls) + ": " +
                                 metrics.status().message());
    }
    cs->metrics_mux_ = std::move(metrics.value());
    for (const auto& url : metrics_urls) spdlog::info("serving /metrics and health checks on {}", url);
  }
  if (mux_urls.empty()) return cs;
  auto mux = transport::PortMux::Start(
      mux_addresses, [g = cs->grpc_.get()](int fd) { grpc::AddInsecureChannelFromFd(g, fd); },
      [gw = cs->gateway_.get()](int fd) { gw->Serve(fd); });
  if (!mux.ok()) {
    cs->Shutdown();
    return Status::Unavailable("could not listen for client requests on " + JoinUrls(mux_urls) +
                               " (address in use or not assignable: " + mux.status().message() + ")");
  }
  cs->mux_ = std::move(mux.value());
  for (const auto& url : mux_urls) spdlog::info("serving client requests (gRPC and HTTP) on {}", url);
  return cs;
}

void ClientServer::Shutdown() {
  // The HTTP side first: open gateway watches end, and no new gRPC connection arrives.
  if (metrics_mux_) metrics_mux_->Stop();
  if (mux_) mux_->Stop();
  watch_.EndStreams();
  long_calls_.EndAll();
  // The member stopped first, so every request already has its answer; what remains are
  // responses on their way out. A client that stopped reading would hold the stop until
  // this deadline, after which gRPC cancels its call.
  if (grpc_) grpc_->Shutdown(std::chrono::system_clock::now() + kDrainDeadline);
  watch_.Stop();
}

}  // namespace cairn::api
