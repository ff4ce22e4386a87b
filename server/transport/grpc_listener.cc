#include "server/transport/grpc_listener.h"

#include <grpcpp/security/server_credentials.h>
#include <spdlog/spdlog.h>

#include "server/transport/grpc_address.h"

namespace cairn::transport {

Result<std::unique_ptr<grpc::Server>> StartGrpcServer(grpc::ServerBuilder& builder,
                                                      const std::vector<std::string>& listen_urls,
                                                      const std::string& what, const TlsFiles& tls) {
  std::vector<std::pair<std::string, std::unique_ptr<int>>> bound;
  std::shared_ptr<grpc::ServerCredentials> secure;
  for (const auto& url : listen_urls) {
    auto addr = ListenAddress(url);
    if (!addr.ok()) return addr.status();
    std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
    if (IsSecureUrl(url)) {
      if (!tls.Enabled()) return Status::InvalidArgument("TLS URL " + url + " needs a certificate and key file");
      if (!secure) secure = ServerTlsCredentials(tls);
      credentials = secure;
    }
    bound.emplace_back(url, std::make_unique<int>(0));
    builder.AddListeningPort(addr.value(), credentials, bound.back().second.get());
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return Status::Unavailable("could not start the gRPC server for " + what);
  for (const auto& [url, port] : bound) {
    // gRPC reports no port for unix sockets even when they are bound.
    if (*port == 0 && url.rfind("unix", 0) != 0) {
      server->Shutdown();
      return Status::Unavailable("could not listen for " + what + " on " + url +
                                 " (address in use or not assignable)");
    }
    spdlog::info("serving {} on {}", what, url);
  }
  return server;
}

}  // namespace cairn::transport
