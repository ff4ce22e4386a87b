// Go-style duration text ("10m", "1h30m", "500ms", "0"), as etcd's duration flags accept.
//
// etcd reads flags such as --grpc-keepalive-interval with Go's time.ParseDuration, so
// launch scripts written for etcd use that syntax; Cairn must read exactly the same
// strings. Pure function, thread-safe.
#pragma once

#include <chrono>
#include <string_view>

#include "server/common/status.h"

namespace cairn::config {

// Parses Go's duration syntax: an optional sign, then one or more <decimal><unit> pairs
// with units ns, us, µs, ms, s, m, h; a bare "0" is also valid. Errors on overflow of
// int64 nanoseconds, a missing unit, or an empty string.
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

}  // namespace cairn::config
