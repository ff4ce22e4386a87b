// Conversions from etcd-style URLs (http://host:port, unix://path) to gRPC addresses.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "server/common/status.h"

namespace cairn::transport {

// The address to bind for a listen URL. TLS schemes are refused until TLS lands.
Result<std::string> ListenAddress(const std::string& url);
// The target to dial for an advertised URL.
Result<std::string> DialTarget(const std::string& url);

}  // namespace cairn::transport
