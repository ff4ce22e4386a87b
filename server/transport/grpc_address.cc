#include "server/transport/grpc_address.h"

namespace cairn::transport {

Result<std::string> ListenAddress(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("URL " + url + " has no scheme");
  const std::string scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  if (scheme == "unix" || scheme == "unixs") return "unix:" + rest;
  if (scheme != "http" && scheme != "https") return Status::InvalidArgument("URL scheme must be http, https, unix, or unixs: " + url);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  if (rest.empty() || rest.find(':') == std::string::npos) {
    return Status::InvalidArgument("listen URL " + url + " must be host:port");
  }
  return rest;
}

Result<std::string> DialTarget(const std::string& url) {
  // Dialing and binding accept the same URL forms.
  return ListenAddress(url);
}

}  // namespace cairn::transport
