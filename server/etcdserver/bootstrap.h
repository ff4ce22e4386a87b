// A new cluster as --initial-cluster and --initial-cluster-token define it, and the log
// it starts from. Used when a member bootstraps (EtcdServer::Bootstrap) and when a data
// dir is restored from a snapshot (restore.h): both must derive the same IDs and the
// same first entries as etcd would.
// Thread-safety: pure functions (WriteBootstrapWal writes files).
#pragma once

#include <string>
#include <vector>

#include "cairn/internal.pb.h"
#include "server/common/fs.h"
#include "server/common/status.h"
#include "server/etcdserver/identity.h"
#include "server/etcdserver/server.h"
#include "server/raft/types.h"
#include "server/wal/wal.h"

namespace cairn::etcdserver {

struct NewCluster {
  MemberIdentity identity;               // this member's (options.name)
  std::vector<cairnpb::Member> members;  // sorted by ID
};

// Fails (etcd's message) when options.name is not in options.initial_cluster.
Result<NewCluster> PlanNewCluster(const ServerOptions& options);

// One committed conf change adding each member, in ID order, at term 1 from index 1.
std::vector<raft::Entry> BootstrapEntries(const NewCluster& cluster);

// Creates the WAL of a new member of `cluster` holding BootstrapEntries, synced.
Status WriteBootstrapWal(FileSystem* fs, const std::string& wal_dir, const NewCluster& cluster,
                         const wal::Options& options);

}  // namespace cairn::etcdserver
