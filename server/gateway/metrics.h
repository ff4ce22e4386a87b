// Prometheus metrics of one member, in the text exposition format, under etcd's metric
// names (the ones dashboards and alerts for etcd read: leader, proposals, database
// size and quota, revisions, watchers) plus the standard process_* metrics.
// Thread-safety: reads thread-safe snapshots of the server; callable concurrently.
#pragma once

#include <string>

#include "server/etcdserver/server.h"

namespace cairn::gateway {

std::string RenderMetrics(etcdserver::EtcdServer& server, const std::string& version);

}  // namespace cairn::gateway
