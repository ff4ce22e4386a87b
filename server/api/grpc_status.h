// Conversion from Cairn's Status to a gRPC status. Cairn's codes are gRPC's codes
// and its error messages are etcd's, so clients that match on (code, message) —
// etcdctl, clientv3, python-etcd3, kube-apiserver — see exactly what etcd would send.
#pragma once

#include <grpcpp/support/status.h>

#include "server/common/status.h"

namespace cairn::api {

inline grpc::Status ToGrpc(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message());
}

}  // namespace cairn::api
