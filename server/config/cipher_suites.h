// --cipher-suites: etcd names TLS 1.2 cipher suites as Go's crypto/tls does
// (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); Cairn's TLS is OpenSSL's, under gRPC, which
// takes an OpenSSL cipher list (ECDHE-ECDSA-AES128-GCM-SHA256) for every TLS context in
// the process: the client and peer listeners and the connections to other members, as
// etcd applies the flag to both sides. TLS 1.3 suites are not configurable, as in Go.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "server/common/status.h"

namespace cairn::config {

// The OpenSSL cipher list for Go cipher suite names, in their order. InvalidArgument,
// with etcd's message (`unexpected TLS cipher suite "X"`), for a name etcd 3.4 does not
// know.
Result<std::string> OpenSslCipherList(const std::vector<std::string>& go_names);

// The process environment variable gRPC reads its cipher list from, once, when it first
// creates a TLS context.
inline constexpr const char* kGrpcCipherSuitesEnv = "GRPC_SSL_CIPHER_SUITES";

}  // namespace cairn::config
