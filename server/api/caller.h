// Who a client call comes from, for the auth checks (etcd's AuthInfoFromCtx): the user
// of the token in the call's "token" metadata (or "authorization", the gateway's
// header); with --client-cert-auth and no token, the common name of the client
// certificate; otherwise nobody. The caller's auth revision is the store's current one,
// or for a JWT the one it was issued at.
// Also the helpers that make every proposal carry its caller.
// Thread-safety: thread-safe (the server's auth store and tokens are).
#pragma once

#include <grpcpp/server_context.h>

#include "cairn/internal.pb.h"
#include "server/auth/auth_store.h"
#include "server/etcdserver/server.h"

namespace cairn::api {

// ErrInvalidAuthToken for a token this member does not know (expired, invalidated,
// issued before a restart).
Result<auth::AuthInfo> CallerOf(etcdserver::EtcdServer& server, const grpc::ServerContextBase& context);

// Ok, or why the call's caller may not use root-only calls.
Status CheckAdmin(etcdserver::EtcdServer& server, const grpc::ServerContextBase& context);

// Proposes `request` on behalf of the call's caller. One refused when applied because
// the auth store changed after the caller was resolved (ErrAuthOldRevision) is resolved
// again and proposed again until the call is cancelled or past its deadline.
// REQUIRES: `context` outlives `done`'s call.
void ProposeAsCaller(etcdserver::EtcdServer& server, const grpc::ServerContextBase& context,
                     cairnpb::RaftRequest request, etcdserver::ApplyCallback done);
// Blocking form of ProposeAsCaller.
etcdserver::ApplyResult ProposeAsCallerAndWait(etcdserver::EtcdServer& server, const grpc::ServerContextBase& context,
                                               cairnpb::RaftRequest request);

}  // namespace cairn::api
