// etcd's request and storage limits, and what their flag values mean: the one place for
// each default, shared by the flag registry (config/), the member (etcdserver/) and the
// services that enforce them (api/, gateway/). Before, each kept its own copy of the
// numbers, and the copies disagreed (on what a negative quota means; an in-process
// member kept one WAL file, a started one five).
// Thread-safety: constants and pure functions.
#pragma once

#include <cstdint>

namespace cairn {

// --max-request-bytes: the largest client request (etcd: 1.5 MiB). A watch response is
// fragmented at the same size, for watchers that ask for fragments.
inline constexpr uint64_t kDefaultMaxRequestBytes = 1572864;
// What etcd's gRPC server and gateway accept beyond --max-request-bytes for framing, so
// that a request of exactly the limit reaches the handler and gets etcd's own error.
inline constexpr uint64_t kGrpcOverheadBytes = 512 * 1024;

// --max-wals: WAL segment files kept (the WAL library's own default keeps one).
inline constexpr uint64_t kDefaultMaxWals = 5;

// --quota-backend-bytes at its default, 0: 2 GiB.
inline constexpr int64_t kDefaultQuotaBackendBytes = int64_t{2} * 1024 * 1024 * 1024;

// The backend quota a --quota-backend-bytes value sets, as etcd reads it: 0 is the
// default, a negative value means no quota (returned as 0).
inline constexpr int64_t EffectiveQuotaBackendBytes(int64_t flag) {
  if (flag < 0) return 0;
  return flag == 0 ? kDefaultQuotaBackendBytes : flag;
}

}  // namespace cairn
