// Applies the auth requests of committed Raft entries to the auth store (etcd's
// applierV3 auth methods behind its authApplierV3): every change needs the root role
// (checked against the store as it is when the entry applies), and Authenticate
// registers the token the proposing member chose. Tokens of a deleted user, of a user
// whose password changed, and all tokens when auth is disabled stop working.
// Thread-safety: apply thread only.
#pragma once

#include <cstdint>

#include "cairn/internal.pb.h"
#include "server/apply/applier.h"
#include "server/auth/auth_store.h"
#include "server/auth/token_provider.h"

namespace cairn::auth {

bool IsAuthRequest(const cairnpb::RaftRequest& request);

// The AuthInfo a request was proposed with.
AuthInfo InfoOf(const cairnpb::RequestHeader& header);

// REQUIRES: IsAuthRequest(request); `index` is the entry's Raft index.
Result<apply::Response> ApplyAuthRequest(AuthStore& store, TokenProvider& tokens, const cairnpb::RaftRequest& request,
                                         uint64_t index);

}  // namespace cairn::auth
