#include "server/config/initial_cluster.h"

#include <algorithm>
#include <set>

#include "server/config/go_values.h"

namespace cairn::config {

Result<InitialCluster> ParseInitialCluster(std::string_view text) {
  InitialCluster out;
  for (const std::string& piece : SplitComma(text)) {
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument("entry \"" + piece + "\" is not of the form name=url");
    }
    const std::string name = piece.substr(0, eq);
    if (name.empty()) {
      return Status::InvalidArgument("entry \"" + piece + "\" has an empty member name");
    }
    auto url = ParseUrl(piece.substr(eq + 1));
    if (!url.ok()) return url.status();
    out[name].push_back(std::move(url).value());
  }
  return out;
}

std::string InitialClusterString(const InitialCluster& cluster) {
  std::vector<std::string> pairs;
  for (const auto& [name, urls] : cluster) {
    for (const Url& u : urls) pairs.push_back(name + "=" + u.String());
  }
  std::sort(pairs.begin(), pairs.end());
  return JoinComma(pairs);
}

Status VerifyBootstrapCluster(const InitialCluster& cluster, const std::string& self_name,
                              const std::vector<Url>& self_advertise_peer_urls, bool new_cluster) {
  if (cluster.empty()) {
    return Status::InvalidArgument("initial cluster unset and no discovery URL found");
  }
  auto self = cluster.find(self_name);
  if (self == cluster.end()) {
    return Status::InvalidArgument("couldn't find local name \"" + self_name +
                                   "\" in the initial cluster configuration");
  }
  std::set<std::string> seen;
  for (const auto& [name, urls] : cluster) {
    for (const Url& u : urls) {
      if (!seen.insert(u.String()).second) {
        return Status::InvalidArgument("initial cluster " + InitialClusterString(cluster) +
                                       " has duplicate url");
      }
    }
  }
  if (!new_cluster) return Status::Ok();
  std::set<std::string> in_cluster, advertised;
  for (const Url& u : self->second) in_cluster.insert(u.String());
  for (const Url& u : self_advertise_peer_urls) advertised.insert(u.String());
  if (in_cluster != advertised) {
    InitialCluster mine{{self_name, self_advertise_peer_urls}};
    return Status::InvalidArgument(
        "--initial-cluster must include " + InitialClusterString(mine) +
        " given --initial-advertise-peer-urls=" + UrlListString(self_advertise_peer_urls));
  }
  return Status::Ok();
}

}  // namespace cairn::config
