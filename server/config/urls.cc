#include "server/config/urls.h"

#include <arpa/inet.h>

#include <cctype>

#include "server/config/go_values.h"

namespace cairn::config {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Status NotHostPort(std::string_view in) {
  return Status::InvalidArgument("URL address does not have the form \"host:port\": " +
                                 std::string(in));
}

}  // namespace

std::string Url::String() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + (port.empty() ? "" : ":" + port);
}

Result<Url> ParseUrl(std::string_view raw) {
  const std::string_view in = Trim(raw);
  // "unix:/path/to/socket" (no "//") is the socket form etcd documents for unix URLs.
  size_t sep = in.find("://");
  size_t rest_at = sep + 3;
  if (sep == std::string_view::npos &&
      (in.rfind("unix:/", 0) == 0 || in.rfind("unixs:/", 0) == 0)) {
    sep = in.find(':');
    rest_at = sep + 1;
  }
  Url u;
  if (sep != std::string_view::npos) u.scheme = std::string(in.substr(0, sep));
  for (char& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.scheme != "http" && u.scheme != "https" && u.scheme != "unix" && u.scheme != "unixs") {
    return Status::InvalidArgument("URL scheme must be http, https, unix, or unixs: " +
                                   std::string(in));
  }
  std::string_view rest = in.substr(rest_at);
  const bool is_unix = u.scheme == "unix" || u.scheme == "unixs";
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Status::InvalidArgument("URL must not contain a query or fragment: " + std::string(in));
  }
  if (rest.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("URL must not contain user information: " + std::string(in));
  }
  // A unix socket URL names a socket file: unix://localhost:2379, unix:///tmp/s, unix:/tmp/s.
  if (is_unix) {
    if (rest.empty()) return NotHostPort(in);
    const size_t colon = rest.rfind(':');
    if (colon != std::string_view::npos && rest.find('/') == std::string_view::npos) {
      u.host = std::string(rest.substr(0, colon));
      u.port = std::string(rest.substr(colon + 1));
    } else {
      u.host = std::string(rest);
    }
    return u;
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    // Go's net.SplitHostPort runs first in etcd, so a missing port wins over the path.
    if (authority.rfind(':') == std::string_view::npos) return NotHostPort(in);
    return Status::InvalidArgument("URL must not contain a path: " + std::string(in));
  }
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close + 1 >= authority.size() ||
        authority[close + 1] != ':') {
      return NotHostPort(in);
    }
    u.host = std::string(authority.substr(1, close - 1));
    u.port = std::string(authority.substr(close + 2));
  } else {
    const size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos || authority.find(':') != colon) return NotHostPort(in);
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  }
  if (!u.port.empty()) {
    auto port = ParseGoUint(u.port);
    if (!port.ok() || *port > 65535 ||
        u.port.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("URL has an invalid port: " + std::string(in));
    }
  }
  return u;
}

Result<std::vector<Url>> ParseUrlList(std::string_view text, bool allow_empty) {
  std::vector<Url> out;
  if (text.empty()) {
    if (allow_empty) return out;
    return Status::InvalidArgument("no valid URLs given");
  }
  for (const std::string& part : SplitComma(text)) {
    auto u = ParseUrl(part);
    if (!u.ok()) return u.status();
    out.push_back(std::move(u).value());
  }
  return out;
}

std::string UrlListString(const std::vector<Url>& urls) {
  std::vector<std::string> parts;
  for (const Url& u : urls) parts.push_back(u.String());
  return JoinComma(parts);
}

Status CheckBindUrls(const std::vector<Url>& urls) {
  for (const Url& u : urls) {
    if (u.scheme == "unix" || u.scheme == "unixs") continue;
    if (u.host == "localhost") continue;
    if (!IsIpLiteral(u.host)) {
      return Status::InvalidArgument("expected IP in URL for binding (" + u.String() + ")");
    }
  }
  return Status::Ok();
}

Status CheckHostUrls(const std::vector<Url>& urls) {
  for (const Url& u : urls) {
    if (u.scheme == "unix" || u.scheme == "unixs") continue;
    if (u.host.empty()) {
      return Status::InvalidArgument("unexpected empty host (" + u.String() + ")");
    }
  }
  return Status::Ok();
}

}  // namespace cairn::config
