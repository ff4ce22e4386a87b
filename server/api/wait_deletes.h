// WaitDeletes: etcd's waitDeletes for the server-side concurrency recipes (Lock,
// Election). Blocks until no key under `prefix` was created at or before
// `max_create_revision` — i.e. every earlier waiter has released — by watching each
// such key for its deletion through the member's watch hub (no polling).
// Thread-safety: callable from any number of gRPC threads at once.
#pragma once

#include <grpcpp/server_context.h>

#include <string>

#include "server/etcdserver/server.h"

namespace cairn::api {

// The key range of every key starting with `prefix` (etcd's GetPrefixRangeEnd).
std::string PrefixRangeEnd(const std::string& prefix);

// Errors: the RPC was cancelled (Cancelled), or a read failed.
Status WaitDeletes(etcdserver::EtcdServer* server, const std::string& prefix, int64_t max_create_revision,
                   grpc::ServerContext* context);

}  // namespace cairn::api
