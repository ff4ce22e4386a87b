// Conversions from etcd-style URLs (http(s)://host:port, unix(s)://path) to gRPC
// addresses; whether the URL means TLS is tls.h's business.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "server/common/status.h"

namespace cairn::transport {

// The address to bind for a listen URL.
Result<std::string> ListenAddress(const std::string& url);
// The target to dial for an advertised URL.
Result<std::string> DialTarget(const std::string& url);

}  // namespace cairn::transport
