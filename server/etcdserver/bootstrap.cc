#include "server/etcdserver/bootstrap.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <future>

#include "server/etcdserver/membership.h"
#include "server/etcdserver/store_meta.h"
#include "server/raft/codec.h"

namespace cairn::etcdserver {

Result<NewCluster> PlanNewCluster(const ServerOptions& options) {
  NewCluster cluster;
  std::vector<uint64_t> member_ids;
  uint64_t self = 0;
  for (const auto& [name, urls] : options.initial_cluster) {
    const uint64_t id = ComputeMemberId(urls, options.initial_cluster_token);
    member_ids.push_back(id);
    cairnpb::Member member;
    member.set_id(id);
    member.set_name(name);
    for (const auto& url : urls) member.add_peer_urls(url);
    cluster.members.push_back(std::move(member));
    if (name == options.name) self = id;
  }
  if (self == 0) {
    return Status::InvalidArgument("couldn't find local name \"" + options.name +
                                   "\" in the initial cluster configuration");
  }
  cluster.identity = MemberIdentity{self, ComputeClusterId(member_ids)};
  std::sort(cluster.members.begin(), cluster.members.end(),
            [](const cairnpb::Member& a, const cairnpb::Member& b) { return a.id() < b.id(); });
  return cluster;
}

std::vector<raft::Entry> BootstrapEntries(const NewCluster& cluster) {
  std::vector<raft::Entry> entries;
  for (const cairnpb::Member& member : cluster.members) {
    raft::ConfChange cc{raft::ConfChangeType::kAddNode, member.id(), EncodeMemberContext(member)};
    entries.push_back(raft::Entry{1, entries.size() + 1, raft::EntryType::kConfChange, raft::EncodeConfChange(cc)});
  }
  return entries;
}

Status WriteBootstrapWal(FileSystem* fs, const std::string& wal_dir, const NewCluster& cluster,
                         const wal::Options& options) {
  auto wal = wal::Wal::Create(fs, wal_dir, cluster.identity.Encode(), options);
  if (!wal.ok()) return wal.status();
  const std::vector<raft::Entry> entries = BootstrapEntries(cluster);
  const raft::HardState hs{1, raft::kNoNode, entries.size()};
  return wal.value()->Save(hs, entries, /*sync=*/true);
}

namespace {

// A member added with MemberAdd starts with an empty log: it learns its identity from
// the running cluster and then receives the whole log (or a snapshot) from the leader.
Status Join(const ServerOptions& options, FileSystem* fs, transport::PeerClient* peers, const std::string& wal_dir,
            std::string* joined_membership) {
  auto self = options.initial_cluster.find(options.name);
  if (self == options.initial_cluster.end()) {
    return Status::InvalidArgument("couldn't find local name \"" + options.name +
                                   "\" in the initial cluster configuration");
  }
  std::vector<std::string> own_urls = self->second;
  std::sort(own_urls.begin(), own_urls.end());
  std::vector<std::string> others;
  for (const auto& [name, urls] : options.initial_cluster) {
    if (name != options.name) others.insert(others.end(), urls.begin(), urls.end());
  }
  if (others.empty()) {
    return Status::InvalidArgument(
        "--initial-cluster-state existing needs the running members' peer URLs in --initial-cluster");
  }
  auto info = peers->GetClusterInfo(others, std::chrono::seconds(5));
  if (!info.ok()) {
    return Status::Unavailable("cannot reach the existing cluster at " + others[0] + ": " + info.status().message());
  }
  uint64_t id = 0;
  for (const auto& m : info->membership().members()) {
    std::vector<std::string> urls(m.peer_urls().begin(), m.peer_urls().end());
    std::sort(urls.begin(), urls.end());
    if (urls == own_urls) id = m.id();
  }
  if (id == 0) {
    return Status::FailedPrecondition("the cluster has no member with this member's peer URLs (" + own_urls[0] +
                                      "); add it first (etcdctl member add)");
  }
  MemberIdentity identity{id, info->cluster_id()};
  auto wal = wal::Wal::Create(fs, wal_dir, identity.Encode(), options.wal);
  if (!wal.ok()) return wal.status();
  *joined_membership = info->membership().SerializeAsString();
  spdlog::info("joining cluster {} as member {}", HexId(identity.cluster_id), HexId(id));
  return Status::Ok();
}

// A new data dir: derive identities and write the initial membership as committed
// conf-change entries at the head of the log (as etcd does), so membership is rebuilt
// from the log on every restart.
Status Bootstrap(const ServerOptions& options, FileSystem* fs, const std::string& wal_dir) {
  auto cluster = PlanNewCluster(options);
  if (!cluster.ok()) return cluster.status();
  CAIRN_RETURN_IF_ERROR(WriteBootstrapWal(fs, wal_dir, *cluster, options.wal));
  spdlog::info("bootstrapped new member {} in cluster {} ({} initial members)", HexId(cluster->identity.member_id),
               HexId(cluster->identity.cluster_id), cluster->members.size());
  return Status::Ok();
}

// Client snapshot copies are unlinked once open; one left here was cut short by a crash.
void RemoveClientSnapshotLeftovers(const std::string& snapshot_dir) {
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(snapshot_dir, ec)) {
    const std::string name = f.path().filename().string();
    if (name.starts_with("client-") && name.ends_with(".db")) std::filesystem::remove(f.path(), ec);
  }
}

// A snapshot installed just before a crash, ahead of the WAL marker that records it:
// the store says so itself, and the log resumes from it.
Status FinishInterruptedInstall(OpenedDataDir& opened, raft::MemoryStorage* log) {
  const uint64_t store_applied = opened.store->AppliedIndex();
  std::map<std::string, std::string> meta;
  {
    mvcc::ReadTxn read = opened.store->BeginRead();
    for (const std::string& name : {kInstalledSnapshotMeta, kAppliedTermMeta, kMembershipMeta}) {
      if (auto v = read.GetMeta(name)) meta[name] = *v;
    }
  }
  auto md = SnapshotMetadataFor(store_applied, meta);
  if (meta[kInstalledSnapshotMeta] != std::to_string(store_applied) || !md.ok()) return Status::Ok();
  spdlog::warn("finishing the installation of the snapshot at index {}", store_applied);
  CAIRN_RETURN_IF_ERROR(opened.wal->SaveSnapshot(md.value()));
  CAIRN_RETURN_IF_ERROR(log->ApplySnapshot(raft::Snapshot{md.value(), {}}));
  opened.hard_state.term = std::max(opened.hard_state.term, md->term);
  opened.hard_state.commit = std::max(opened.hard_state.commit, store_applied);
  log->SetHardState(opened.hard_state);
  opened.snapshot = md.value();
  return Status::Ok();
}

}  // namespace

Result<OpenedDataDir> OpenDataDir(const ServerOptions& options, FileSystem* fs, transport::PeerClient* peers,
                                  raft::MemoryStorage* log) {
  OpenedDataDir opened;
  const DataDir& dir = options.data_dir;
  CAIRN_RETURN_IF_ERROR(fs->CreateDir(dir.MemberDir()));
  auto lock = fs->LockFile(dir.LockPath());
  if (!lock.ok()) {
    return Status::FailedPrecondition("data dir " + dir.root + " is in use by another process (" +
                                      lock.status().message() + ")");
  }
  opened.lock = std::move(lock.value());

  CAIRN_RETURN_IF_ERROR(fs->CreateDir(dir.MvccDir()));
  CAIRN_RETURN_IF_ERROR(fs->CreateDir(dir.SnapDir()));
  RemoveClientSnapshotLeftovers(dir.SnapDir());
  // The store rebuilds its key index while the WAL is read here: after a large load the
  // two take about as long, and a restart serves once both are done.
  auto store_opening = std::async(std::launch::async, [path = dir.MvccPath()] {
    mvcc::StoreOptions store_options;
    store_options.path = path;
    return mvcc::Store::Open(store_options);
  });

  const std::string wal_dir = dir.WalDir();
  if (!wal::Wal::Exists(fs, wal_dir)) {
    CAIRN_RETURN_IF_ERROR(options.join_existing_cluster
                              ? Join(options, fs, peers, wal_dir, &opened.joined_membership)
                              : Bootstrap(options, fs, wal_dir));
  }
  auto wal = wal::Wal::Open(fs, wal_dir, options.wal);
  if (!wal.ok()) return wal.status();
  auto& [opened_wal, recovered] = wal.value();
  opened.wal = std::move(opened_wal);
  if (!opened.identity.Decode(recovered.metadata)) {
    return Status::DataLoss("wal in " + wal_dir + " does not carry a Cairn member identity");
  }
  if (recovered.snapshot.index > 0) {
    CAIRN_RETURN_IF_ERROR(log->ApplySnapshot(raft::Snapshot{recovered.snapshot, {}}));
  }
  log->SetHardState(recovered.hard_state);
  CAIRN_RETURN_IF_ERROR(log->Append(recovered.entries));
  opened.hard_state = recovered.hard_state;
  opened.snapshot = recovered.snapshot;

  auto store = store_opening.get();
  if (!store.ok()) return store.status();
  opened.store = std::move(store.value());

  if (opened.store->AppliedIndex() > log->LastIndex()) CAIRN_RETURN_IF_ERROR(FinishInterruptedInstall(opened, log));
  if (opened.store->AppliedIndex() > log->LastIndex()) {
    return Status::DataLoss("mvcc store has applied index " + std::to_string(opened.store->AppliedIndex()) +
                            " beyond the last WAL index " + std::to_string(log->LastIndex()) +
                            ": the WAL and the store in " + dir.root + " do not belong together");
  }
  return opened;
}

Result<raft::SnapshotMetadata> SnapshotMetadataFor(uint64_t applied_index,
                                                   const std::map<std::string, std::string>& meta) {
  auto term = meta.find(kAppliedTermMeta);
  auto members = meta.find(kMembershipMeta);
  if (term == meta.end() || members == meta.end()) {
    return Status::FailedPrecondition("the store does not record its applied term and membership yet");
  }
  Membership membership;
  CAIRN_RETURN_IF_ERROR(membership.Restore(members->second));
  raft::SnapshotMetadata md;
  md.index = applied_index;
  md.term = std::stoull(term->second);
  for (const auto& m : membership.List()) (m.is_learner() ? md.conf_state.learners : md.conf_state.voters).push_back(m.id());
  return md;
}

}  // namespace cairn::etcdserver
