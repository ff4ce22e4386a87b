// The etcd server-level errors (code + exact message) that clients match on.
// Source of truth for wording: etcd's rpctypes (see shared/etcd-api-facts.md).
#pragma once

#include "server/common/status.h"

namespace cairn::etcdserver {

inline Status ErrNoLeader() { return Status::Unavailable("etcdserver: no leader"); }
inline Status ErrLeaderChanged() { return Status::Unavailable("etcdserver: leader changed"); }
inline Status ErrNotLeader() { return Status::FailedPrecondition("etcdserver: not leader"); }
inline Status ErrLearnerNotSupported() { return Status::Unavailable("etcdserver: rpc not supported for learner"); }
inline Status ErrMemberNotFound() { return Status::NotFound("etcdserver: member not found"); }
inline Status ErrPeerUrlExists() { return Status::FailedPrecondition("etcdserver: Peer URLs already exists"); }
inline Status ErrBadMemberUrls() { return Status::InvalidArgument("etcdserver: given member URLs are invalid"); }
inline Status ErrNotEnoughStartedMembers() {
  return Status::FailedPrecondition("etcdserver: re-configuration failed due to not enough started members");
}
inline Status ErrUnhealthy() { return Status::Unavailable("etcdserver: unhealthy cluster"); }
inline Status ErrMemberNotLearner() { return Status::FailedPrecondition("etcdserver: can only promote a learner member"); }
inline Status ErrLearnerNotReady() {
  return Status::FailedPrecondition("etcdserver: can only promote a learner member which is in sync with leader");
}
inline Status ErrTooManyLearners() { return Status::FailedPrecondition("etcdserver: too many learner members in cluster"); }
inline Status ErrBadLeaderTransferee() { return Status::FailedPrecondition("etcdserver: bad leader transferee"); }
inline Status ErrStopped() { return Status::Unavailable("etcdserver: server stopped"); }
inline Status ErrTimeout() { return Status::Unavailable("etcdserver: request timed out"); }
inline Status ErrRequestTooLarge() { return Status::InvalidArgument("etcdserver: request is too large"); }
inline Status ErrNoSpace() { return Status::ResourceExhausted("etcdserver: mvcc: database space exceeded"); }

}  // namespace cairn::etcdserver
