#include "operator/kube/api_error.h"

namespace cairn::op::kube {

Status StatusFromApi(int http_code, const nlohmann::json& body) {
  std::string reason, message;
  if (body.is_object()) {
    reason = body.value("reason", "");
    message = body.value("message", "");
    if (body.contains("code") && body["code"].is_number_integer()) http_code = body["code"].get<int>();
  }
  std::string text = "kubernetes " + std::to_string(http_code) + (reason.empty() ? "" : " " + reason) +
                     (message.empty() ? "" : ": " + message);
  switch (http_code) {
    case 404: return {StatusCode::kNotFound, text};
    case 409: return {reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kAborted, text};
    case 410: return {StatusCode::kOutOfRange, text};
    case 401: return {StatusCode::kUnauthenticated, text};
    case 403: return {StatusCode::kPermissionDenied, text};
    case 400:
    case 422: return {StatusCode::kInvalidArgument, text};
    case 429: return {StatusCode::kUnavailable, text};
    default: break;
  }
  if (reason == "Expired" || reason == "Gone") return {StatusCode::kOutOfRange, text};
  if (http_code >= 500) return {StatusCode::kUnavailable, text};
  return {StatusCode::kUnknown, text};
}

Status StatusFromHttp(int http_code, const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) j = {{"message", body.substr(0, 256)}};
  return StatusFromApi(http_code, j);
}

bool IsRetryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded ||
         s.code() == StatusCode::kUnknown;
}

}  // namespace cairn::op::kube
