#include "server/transport/peer_server.h"

#include <grpcpp/server_builder.h>

#include <chrono>
#include <climits>

#include "server/transport/grpc_listener.h"
#include "server/transport/peer_keepalive.h"

namespace cairn::transport {

Result<std::unique_ptr<PeerServer>> PeerServer::Start(PeerHandler* handler, const std::vector<std::string>& listen_urls,
                                                     const TlsFiles& tls) {
  std::unique_ptr<PeerServer> ps(new PeerServer(handler, !tls.skip_client_san_verification));
  grpc::ServerBuilder builder;
  // Entry batches are bounded by Raft's max bytes per message, not by gRPC.
  builder.SetMaxReceiveMessageSize(INT_MAX);
  builder.SetMaxSendMessageSize(INT_MAX);
  AcceptPeerKeepalive(builder);
  builder.RegisterService(&ps->service_);
  auto grpc_server = StartGrpcServer(builder, listen_urls, "peer traffic", tls);
  if (!grpc_server.ok()) return grpc_server.status();
  ps->grpc_ = std::move(grpc_server.value());
  return ps;
}

void PeerServer::Shutdown() {
  // Peer streams never end on their own: cancel them rather than wait.
  if (grpc_) grpc_->Shutdown(std::chrono::system_clock::now());
}

}  // namespace cairn::transport
