// etcd's exact error messages for MVCC conditions (see /work/shared/etcd-api-facts.md).
// Clients match on code + text, so every site builds them from here.
#pragma once

#include "server/common/status.h"

namespace cairn::mvcc {

inline Status ErrCompacted() {
  return Status::OutOfRange("etcdserver: mvcc: required revision has been compacted");
}
inline Status ErrFutureRev() {
  return Status::OutOfRange("etcdserver: mvcc: required revision is a future revision");
}

}  // namespace cairn::mvcc
