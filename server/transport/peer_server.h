// PeerServer: the gRPC listener on --listen-peer-urls serving the peer API.
// Thread-safety: Start/Shutdown from one thread.
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "server/transport/peer_service.h"
#include "server/transport/tls.h"

namespace cairn::transport {

class PeerServer {
 public:
  static Result<std::unique_ptr<PeerServer>> Start(PeerHandler* handler, const std::vector<std::string>& listen_urls,
                                                   const TlsFiles& tls);
  void Shutdown();

 private:
  PeerServer(PeerHandler* handler, bool check_sans) : service_(handler, check_sans ? &san_check_ : nullptr) {}

  PeerSanCheck san_check_;  // before service_, which uses it
  PeerService service_;
  std::unique_ptr<grpc::Server> grpc_;
};

}  // namespace cairn::transport
