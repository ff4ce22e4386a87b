#include "server/etcdserver/restore.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <algorithm>

#include "server/etcdserver/bootstrap.h"
#include "server/etcdserver/membership.h"
#include "server/etcdserver/replay.h"
#include "server/etcdserver/store_meta.h"
#include "server/mvcc/apply_batch.h"
#include "server/mvcc/store.h"

namespace cairn::etcdserver {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

// The size of the store part of the snapshot file, after checking its SHA-256 trailer
// (read in chunks: a store can be gigabytes).
Result<uint64_t> StoreSize(const std::string& path, bool skip_hash_check) {
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) return Status::NotFound("cannot open snapshot file " + path);
  if (skip_hash_check) return file_size;
  if (file_size < SHA256_DIGEST_LENGTH) {
    return Status::InvalidArgument("snapshot file " + path + " is too short to carry its SHA-256");
  }
  std::ifstream in(path, std::ios::binary);
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  CAIRN_CHECK(sha != nullptr && EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) == 1);
  std::string chunk(kChunkBytes, '\0');
  for (uint64_t left = file_size - SHA256_DIGEST_LENGTH; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kChunkBytes));
    if (!in.read(chunk.data(), static_cast<std::streamsize>(n))) {
      return Status::IoError("cannot read snapshot file " + path);
    }
    CAIRN_CHECK(EVP_DigestUpdate(sha.get(), chunk.data(), n) == 1);
    left -= n;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned char trailer[SHA256_DIGEST_LENGTH];
  CAIRN_CHECK(EVP_DigestFinal_ex(sha.get(), digest, nullptr) == 1);
  if (!in.read(reinterpret_cast<char*>(trailer), SHA256_DIGEST_LENGTH)) {
    return Status::IoError("cannot read snapshot file " + path);
  }
  if (std::memcmp(digest, trailer, SHA256_DIGEST_LENGTH) != 0) {
    return Status::DataLoss("snapshot file " + path +
                            " failed its integrity check: SHA-256 mismatch (use --skip-hash-check for a "
                            "store file copied from a data dir)");
  }
  return file_size - SHA256_DIGEST_LENGTH;
}

Status CopyPrefix(const std::string& from, const std::string& to, uint64_t size) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary);
  std::string chunk(kChunkBytes, '\0');
  for (uint64_t left = size; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kChunkBytes));
    if (!in.read(chunk.data(), static_cast<std::streamsize>(n))) return Status::IoError("cannot read " + from);
    out.write(chunk.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
  out.close();
  if (!out) return Status::IoError("cannot write " + to);
  return Status::Ok();
}

Status RestoreInto(const ServerOptions& options, const std::string& snapshot_path, bool skip_hash_check,
                   const std::string& replay_path) {
  const DataDir& dir = options.data_dir;
  std::error_code ec;
  auto store_size = StoreSize(snapshot_path, skip_hash_check);
  if (!store_size.ok()) return store_size.status();
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
  CAIRN_RETURN_IF_ERROR(CopyPrefix(snapshot_path, dir.MvccPath(), *store_size));
  {
    auto store = mvcc::Store::Open({.path = dir.MvccPath()});
    if (!store.ok()) return Status::DataLoss("snapshot file " + snapshot_path + " is not a Cairn store: " +
                                             store.status().message());
    if (!replay_path.empty()) {
      const int64_t from = (*store)->CurrentRevision();
      auto replayed = ReplayDeltas(**store, replay_path);
      if (!replayed.ok()) return replayed.status();
      spdlog::info("replayed {} revisions from {}: revision {} -> {}", replayed->revisions, replay_path, from,
                   (*store)->CurrentRevision());
      if (replayed->unleased_puts > 0) {
        spdlog::warn("{} replayed puts named a lease granted after the snapshot; those keys were restored without "
                     "a lease", replayed->unleased_puts);
      }
    }
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

}  // namespace

Status RestoreSnapshot(const ServerOptions& options, const std::string& snapshot_path, bool skip_hash_check,
                       const std::string& replay_path) {
  const DataDir& dir = options.data_dir;
  std::error_code ec;
  if (std::filesystem::exists(dir.root, ec)) {
    return Status::FailedPrecondition("data-dir \"" + dir.root + "\" exists");
  }
  if (std::filesystem::exists(dir.WalDir(), ec)) {
    return Status::FailedPrecondition("wal-dir \"" + dir.WalDir() + "\" exists");
  }
  Status st = RestoreInto(options, snapshot_path, skip_hash_check, replay_path);
  if (!st.ok()) {
    // Neither existed before: whatever is there now is this attempt's.
    std::filesystem::remove_all(dir.WalDir(), ec);
    std::filesystem::remove_all(dir.root, ec);
  }
  return st;
}

}  // namespace cairn::etcdserver
