// URLs and URL lists as etcd's URL flags take them (--listen-client-urls and friends).
//
// Rules follow etcd's types.NewURLs: scheme http, https, unix or unixs; http(s) URLs must
// be "host:port" with no path. Error texts reuse etcd's wording so operators can search
// for them. Value types and pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace cairn::config {

struct Url {
  std::string scheme;  // "http", "https", "unix" or "unixs"
  std::string host;    // hostname or IP; IPv6 without brackets; for unix(s), the socket name
  std::string port;    // decimal port; may be empty only for unix(s)

  // Canonical text, e.g. "http://[::1]:2379" or "unix://localhost:2379".
  std::string String() const;
  bool operator==(const Url&) const = default;
};

// Parses one URL (surrounding blanks are trimmed, as etcd does).
Result<Url> ParseUrl(std::string_view text);

// Parses a comma-separated list. An empty string is an error ("no valid URLs given")
// unless allow_empty, which flags whose default is empty (e.g. --listen-metrics-urls) use.
Result<std::vector<Url>> ParseUrlList(std::string_view text, bool allow_empty);

// "a,b,c" of the URLs' canonical texts.
std::string UrlListString(const std::vector<Url>& urls);

// For listen URLs: an http(s) host must be an IP literal or "localhost" (etcd binds to
// addresses, not names). Error text as etcd: "expected IP in URL for binding (<url>)".
Status CheckBindUrls(const std::vector<Url>& urls);

// For advertised URLs: an http(s) host must not be empty.
Status CheckHostUrls(const std::vector<Url>& urls);

}  // namespace cairn::config
