// Building blocks of etcd's concurrency recipes, shared by the server-side Lock and
// Election services: prefix ranges, the "<prefix><lease hex>" ownership key, the
// first-created-key query, and waiting on the watch hub (no polling) for an event or
// for every earlier contender to go.
// Thread-safety: callable from any number of gRPC threads at once.
#pragma once

#include <grpcpp/server_context.h>

#include <string>

#include "server/api/long_calls.h"
#include "server/etcdserver/server.h"
#include "server/watch/watch_types.h"

namespace cairn::api {

// The gRPC status of a Lock or Election call: auth errors as etcd 3.4 answers them there
// (auth::AsRecipeError), everything else as usual.
grpc::Status RecipeStatus(const Status& st);

// The key range of every key starting with `prefix` (etcd's GetPrefixRangeEnd).
std::string PrefixRangeEnd(const std::string& prefix);

// "<prefix><lease in lowercase hex>", the key a lease owns in a lock or election.
std::string LeaseKey(const std::string& prefix, int64_t lease);

// A range op for the first-created key under `prefix` (the lock owner / leader).
etcdserverpb::RequestOp FirstCreatedOp(const std::string& prefix);

// Blocks until the watch `spec` sees events and returns those of the first response
// (whole revisions, in order); empty when the history is compacted (the caller re-reads
// anyway). Errors: the RPC was cancelled (Cancelled); the member is stopping ("server
// stopped", within 100 ms).
Result<std::vector<watch::SharedEvent>> WaitForEvents(watch::WatchHub& hub, const watch::WatchSpec& spec,
                                                      grpc::ServerContext* context, const LongCalls& calls);

// Blocks until no key under `prefix` was created at or before `max_create_revision`,
// i.e. every earlier contender is gone (etcd's waitDeletes). Its reads of the prefix
// are the caller's: they need read permission on it.
// Errors: as WaitForEvents, or a read failed or was not permitted.
Status WaitDeletes(etcdserver::EtcdServer* server, const std::string& prefix, int64_t max_create_revision,
                   grpc::ServerContext* context, const LongCalls& calls);

}  // namespace cairn::api
