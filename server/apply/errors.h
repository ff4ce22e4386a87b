// etcd's exact (code, message) pairs for the applier's and validator's errors
// (see /work/shared/etcd-api-facts.md).
#pragma once

#include "server/common/status.h"

namespace cairn::apply {

inline Status ErrEmptyKey() { return Status::InvalidArgument("etcdserver: key is not provided"); }
inline Status ErrTooManyOps() {
  return Status::InvalidArgument("etcdserver: too many operations in txn request");
}
inline Status ErrDuplicateKey() {
  return Status::InvalidArgument("etcdserver: duplicate key given in txn request");
}
inline Status ErrKeyNotFound() { return Status::InvalidArgument("etcdserver: key not found"); }
inline Status ErrLeaseNotFound() { return Status::NotFound("etcdserver: requested lease not found"); }

}  // namespace cairn::apply
