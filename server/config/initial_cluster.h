// --initial-cluster ("name1=http://10.0.0.1:2380,name2=http://10.0.0.2:2380") and the
// bootstrap checks etcd applies to it.
//
// Parsing follows etcd's types.NewURLsMap: comma-separated name=url pairs, a name may
// repeat to give one member several peer URLs, empty pieces are skipped. Pure functions,
// thread-safe. Invariant of a parsed InitialCluster: every member has >= 1 valid URL.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "server/config/urls.h"

namespace cairn::config {

// Member name -> its peer URLs, in the order given.
using InitialCluster = std::map<std::string, std::vector<Url>>;

// Errors name the offending entry. An empty string parses to an empty map: etcd only
// rejects that at bootstrap (see VerifyBootstrapCluster), not when reading flags.
Result<InitialCluster> ParseInitialCluster(std::string_view text);

// "name=url,..." sorted by name, then by URL text (etcd's URLsMap.String()).
std::string InitialClusterString(const InitialCluster& cluster);

// The checks etcd runs only when it bootstraps a member, i.e. when the member has no WAL
// yet (etcdserver VerifyBootstrap / VerifyJoinExisting). A restarting member ignores
// --initial-cluster entirely, so the server must call this only when the WAL directory
// is empty; checking on every start would refuse restarts that etcd accepts.
//   - the local name must appear ("couldn't find local name ... in the initial cluster
//     configuration"),
//   - no URL may appear twice ("initial cluster ... has duplicate url"),
//   - for a new cluster, this member's URLs in --initial-cluster must equal
//     --initial-advertise-peer-urls (compared as text; etcd also resolves DNS names).
// REQUIRES: `self_advertise_peer_urls` are the member's --initial-advertise-peer-urls.
Status VerifyBootstrapCluster(const InitialCluster& cluster, const std::string& self_name,
                              const std::vector<Url>& self_advertise_peer_urls, bool new_cluster);

}  // namespace cairn::config
