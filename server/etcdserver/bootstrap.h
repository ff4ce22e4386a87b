// Bootstrap (etcd's bootstrap.go): what a member is built from, found in or made in its
// data dir. OpenDataDir locks the data dir; for a new one it either bootstraps a new
// cluster (the initial membership as committed conf-change entries at the head of the
// log, as etcd writes them) or joins a running one (identity and membership asked from
// it); then it opens the WAL and the store and checks that they belong together.
// PlanNewCluster and BootstrapEntries are shared with restore.h: a restored data dir
// must derive the same IDs and the same first entries as etcd would.
// Thread-safety: free functions without shared state; they read and write files.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cairn/internal.pb.h"
#include "server/common/fs.h"
#include "server/common/status.h"
#include "server/etcdserver/identity.h"
#include "server/etcdserver/server.h"
#include "server/mvcc/store.h"
#include "server/raft/memory_storage.h"
#include "server/raft/types.h"
#include "server/transport/peer_client.h"
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

// What OpenDataDir opened.
struct OpenedDataDir {
  std::unique_ptr<FileLock> lock;  // held while the member runs: one process per data dir
  MemberIdentity identity;
  std::unique_ptr<wal::Wal> wal;
  // Where the log restarts: the WAL's hard state and latest snapshot marker (those of
  // an installed snapshot the WAL did not record yet, see OpenDataDir).
  raft::HardState hard_state;
  raft::SnapshotMetadata snapshot;
  std::unique_ptr<mvcc::Store> store;
  // Encoded; the cluster as a member that just joined found it (empty otherwise): its
  // membership until the log or a snapshot brings the real one.
  std::string joined_membership;
};

// Opens options.data_dir (through `fs`, the WAL's file system) and loads the WAL's log
// into `log`. A data dir without a WAL is first bootstrapped from options (new cluster)
// or joined through `peers` (options.join_existing_cluster). A store ahead of the WAL
// is either a snapshot whose installation a crash cut short (the store says so; the WAL
// marker is written now) or DataLoss. Removes client snapshot copies a crash left.
// REQUIRES: `log` is empty.
Result<OpenedDataDir> OpenDataDir(const ServerOptions& options, FileSystem* fs, transport::PeerClient* peers,
                                  raft::MemoryStorage* log);

// The metadata of a snapshot whose store holds `applied_index` and `meta` (the store's
// meta table: its applied term and membership).
Result<raft::SnapshotMetadata> SnapshotMetadataFor(uint64_t applied_index,
                                                   const std::map<std::string, std::string>& meta);

}  // namespace cairn::etcdserver
