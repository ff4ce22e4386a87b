// Mapping of Kubernetes API failures (HTTP code + metav1.Status body) onto cairn::Status,
// so callers branch on codes instead of parsing HTTP:
//   404 NotFound -> kNotFound            409 AlreadyExists -> kAlreadyExists
//   409 Conflict (stale resourceVersion) -> kAborted (re-read and retry)
//   410 Gone / reason Expired (resourceVersion too old) -> kOutOfRange (re-list)
//   401 -> kUnauthenticated   403 -> kPermissionDenied   400/422 -> kInvalidArgument
//   429, 5xx -> kUnavailable (retry with backoff)
// The message keeps the server's reason and message for logs.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "server/common/status.h"

namespace cairn::op::kube {

Status StatusFromApi(int http_code, const nlohmann::json& status_body);
Status StatusFromHttp(int http_code, const std::string& body);

// Whether an error is worth retrying unchanged after a backoff.
bool IsRetryable(const Status& s);

}  // namespace cairn::op::kube
