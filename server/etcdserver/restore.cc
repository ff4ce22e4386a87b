#include "server/etcdserver/restore.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "server/etcdserver/bootstrap.h"
#include "server/etcdserver/membership.h"
#include "server/etcdserver/store_meta.h"
#include "server/mvcc/apply_batch.h"
#include "server/mvcc/store.h"

namespace cairn::etcdserver {
namespace {

Result<std::string> ReadStoreBytes(const std::string& path, bool skip_hash_check) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open snapshot file " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IoError("cannot read snapshot file " + path);
  if (skip_hash_check) return bytes;
  if (bytes.size() < SHA256_DIGEST_LENGTH) {
    return Status::InvalidArgument("snapshot file " + path + " is too short to carry its SHA-256");
  }
  const size_t data_size = bytes.size() - SHA256_DIGEST_LENGTH;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), data_size, digest);
  if (std::memcmp(digest, bytes.data() + data_size, SHA256_DIGEST_LENGTH) != 0) {
    return Status::DataLoss("snapshot file " + path +
                            " failed its integrity check: SHA-256 mismatch (use --skip-hash-check for a "
                            "store file copied from a data dir)");
  }
  bytes.resize(data_size);
  return bytes;
}

}  // namespace

Status RestoreSnapshot(const ServerOptions& options, const std::string& snapshot_path, bool skip_hash_check) {
  const DataDir& dir = options.data_dir;
  std::error_code ec;
  if (std::filesystem::exists(dir.root, ec)) {
    return Status::FailedPrecondition("data-dir \"" + dir.root + "\" exists");
  }
  if (std::filesystem::exists(dir.WalDir(), ec)) {
    return Status::FailedPrecondition("wal-dir \"" + dir.WalDir() + "\" exists");
  }
  auto bytes = ReadStoreBytes(snapshot_path, skip_hash_check);
  if (!bytes.ok()) return bytes.status();
  auto cluster = PlanNewCluster(options);
  if (!cluster.ok()) return cluster.status();
  const std::vector<raft::Entry> entries = BootstrapEntries(*cluster);
  Membership membership;
  for (const cairnpb::Member& member : cluster->members) {
    CAIRN_RETURN_IF_ERROR(membership.Apply(raft::ConfChange{raft::ConfChangeType::kAddNode, member.id(),
                                                            EncodeMemberContext(member)}));
  }

  std::filesystem::create_directories(dir.MvccDir(), ec);
  if (ec) return Status::IoError("cannot create " + dir.MvccDir() + ": " + ec.message());
  {
    std::ofstream out(dir.MvccPath(), std::ios::binary);
    out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    out.close();
    if (!out) return Status::IoError("cannot write " + dir.MvccPath());
  }
  {
    auto store = mvcc::Store::Open({.path = dir.MvccPath()});
    if (!store.ok()) return Status::DataLoss("snapshot file " + snapshot_path + " is not a Cairn store: " +
                                             store.status().message());
    // The new log's bootstrap entries count as applied: the store already has the
    // membership they would build.
    CAIRN_RETURN_IF_ERROR((*store)->RebaseAppliedIndex(entries.size()));
    mvcc::ApplyBatch batch(**store);
    batch.SetMeta(kMembershipMeta, membership.Encode());
    batch.SetMeta(kAlarmsMeta, "");
    batch.SetMeta(kAppliedTermMeta, std::to_string(entries.back().term));
    batch.SetMeta(kInstalledSnapshotMeta, "");
    batch.Commit(entries.size());
    CAIRN_RETURN_IF_ERROR((*store)->Checkpoint());
  }
  FileSystem* fs = options.fs != nullptr ? options.fs : PosixFileSystem();
  CAIRN_RETURN_IF_ERROR(WriteBootstrapWal(fs, dir.WalDir(), *cluster, options.wal));
  spdlog::info("restored {} into {} as member {} of new cluster {} ({} members)", snapshot_path, dir.root,
               HexId(cluster->identity.member_id), HexId(cluster->identity.cluster_id), cluster->members.size());
  return Status::Ok();
}

}  // namespace cairn::etcdserver
