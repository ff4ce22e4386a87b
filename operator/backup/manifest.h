// BackupManifest: the small JSON object written beside each backup object, last, once
// the object is complete. Its presence is what makes a backup exist: a crash anywhere
// before leaves at most an object without a manifest, which restore and retention
// ignore (retention removes it). It records what a restore must check (the stored
// object's SHA-256 and size, the snapshot's own SHA-256) and what it restores to (the
// revision), so a backup can be restored from the bucket alone, without the EtcdBackup
// resource that recorded it.
//
// Naming (pinned here): objects are "<prefix>full-<UTC yyyymmddThhmmssZ>-<revision, 20
// digits>.db<.gz|.zst>", manifests the object's name + ".manifest.json"; names sort by
// time, then revision. Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/backup/compression.h"
#include "operator/reconcile/observed.h"
#include "server/common/status.h"

namespace cairn::op::backup {

inline constexpr const char* kManifestSuffix = ".manifest.json";
inline constexpr const char* kManifestFormat = "cairn.dev/backup-manifest/v1";

struct BackupManifest {
  std::string cluster;  // "namespace/name" of the EtcdCluster backed up
  std::string object;   // the backup object's key
  uint64_t object_size = 0;
  std::string object_sha256;
  Compression compression = Compression::kNone;
  int64_t revision = 0;        // the store revision the snapshot holds; 0 if the member did not say
  uint64_t store_bytes = 0;    // the snapshot without its trailer, uncompressed
  std::string store_sha256;    // the snapshot's own trailer
  std::string member_id;       // hex, the member that served the snapshot
  // That member's HashKV at `revision`, asked right after the snapshot: a member restored
  // from this backup must answer the same (`etcdctl endpoint hashkv --rev`). Absent when
  // the member could not say (the revision compacted meanwhile, or etcd 3.4's unknown revision).
  std::optional<uint32_t> hash_kv;
  std::string version;         // the cluster's Cairn version
  TimePoint started{}, completed{};

  nlohmann::json ToJson() const;
  // InvalidArgument naming the field for anything missing or of the wrong type.
  static Result<BackupManifest> Parse(const nlohmann::json& j);
};

std::string FullBackupObjectName(const std::string& prefix, TimePoint at, int64_t revision, Compression c);
// The revision in a full backup object's or manifest's name under `prefix`; nullopt for
// any other key.
std::optional<int64_t> FullBackupRevision(const std::string& prefix, const std::string& key);
std::string ManifestName(const std::string& object);
bool IsManifestName(const std::string& key);
// The object a manifest describes: its name without the suffix.
std::string ObjectOfManifest(const std::string& manifest);

}  // namespace cairn::op::backup
