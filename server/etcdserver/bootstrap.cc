#include "server/etcdserver/bootstrap.h"

#include <algorithm>

#include "server/etcdserver/membership.h"
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

}  // namespace cairn::etcdserver
