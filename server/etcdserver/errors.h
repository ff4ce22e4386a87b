// The etcd server-level errors (code + exact message) that clients match on.
// Source of truth for wording: etcd's rpctypes (see shared/etcd-api-facts.md).
#pragma once

#include "server/common/status.h"

namespace cairn::etcdserver {

inline Status ErrNoLeader() { return Status::Unavailable("etcdserver: no leader"); }
inline Status ErrLeaderChanged() { return Status::Unavailable("etcdserver: leader changed"); }
inline Status ErrStopped() { return Status::Unavailable("etcdserver: server stopped"); }
inline Status ErrTimeout() { return Status::Unavailable("etcdserver: request timed out"); }
inline Status ErrRequestTooLarge() { return Status::InvalidArgument("etcdserver: request is too large"); }
inline Status ErrNoSpace() { return Status::ResourceExhausted("etcdserver: mvcc: database space exceeded"); }

}  // namespace cairn::etcdserver
