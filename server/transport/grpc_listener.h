// Starting a gRPC server on etcd-style listen URLs, shared by the client and peer
// listeners: every URL is bound or the start fails with a message naming it. https and
// unixs URLs are served with TLS (tls.h), the others in plaintext.
// Thread-safety: pure function over the caller's builder.
#pragma once

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <memory>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "server/transport/tls.h"

namespace cairn::transport {

// REQUIRES: services and message limits are already set on `builder`.
// `what` names the traffic in logs and errors ("client requests", "peer traffic").
// A TLS URL without `tls` files is refused.
Result<std::unique_ptr<grpc::Server>> StartGrpcServer(grpc::ServerBuilder& builder,
                                                      const std::vector<std::string>& listen_urls,
                                                      const std::string& what, const TlsFiles& tls);

}  // namespace cairn::transport
