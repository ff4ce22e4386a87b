// Backup resources as the operator needs them, parsed from the API server's JSON with
// the CRDs' defaults applied again (so an object written before a default existed
// behaves the same):
//   * BackupDestination: where objects go (spec.backup.destination on an EtcdCluster,
//     or spec.destination on an EtcdBackup): S3-compatible object storage, or a
//     directory on a PersistentVolumeClaim (exactly one of the two);
//   * BackupPolicy: spec.backup on an EtcdCluster: schedule, retention, compression,
//     delta period;
//   * EtcdBackupObject: one EtcdBackup: which cluster, where, and its recorded status.
// Labels and annotations that tie scheduled EtcdBackups to their cluster are pinned here.
// Thread-safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/common/status.h"

namespace cairn::op {

// On EtcdBackups the schedule creates: "true", and when the slot was.
inline constexpr const char* kLabelScheduled = "etcd.cairn.dev/scheduled";
inline constexpr const char* kAnnotationScheduledAt = "etcd.cairn.dev/scheduled-at";

struct SecretKeyRef {
  std::string name;
  std::string key;
};

struct S3Destination {
  std::string endpoint;  // empty: AWS, https://s3.<region>.amazonaws.com
  std::string bucket;
  std::string prefix;    // object names start with "<prefix><namespace>/<cluster>/"
  std::string region = "us-east-1";
  bool force_path_style = false;
  SecretKeyRef access_key_id, secret_access_key;
  std::optional<SecretKeyRef> session_token;
  std::optional<SecretKeyRef> ca_bundle;  // PEM trusted in addition to the system's
  std::string server_side_encryption;     // "", "AES256", "aws:kms"

  std::string Endpoint() const;  // endpoint, or AWS's for the region
};

// A directory on a PersistentVolumeClaim in the backup's namespace. The operator cannot
// mount it, so whatever reads or writes it runs in a Pod that mounts the claim
// (resources/backup_pod.h, verify_pod.h, the members' restore init container).
struct PvcDestination {
  std::string claim_name;
  std::string prefix;  // like S3Destination::prefix, relative to the volume's root
  // Where `key` is, for status and logs: the operator cannot name the directory a Pod
  // will mount the claim on.
  std::string Url(const std::string& key) const { return "pvc://" + claim_name + "/" + key; }
};

struct BackupDestination {
  S3Destination s3;                  // meaningful unless pvc is set
  std::optional<PvcDestination> pvc;
  bool IsPvc() const { return pvc.has_value(); }
  // Object names start with "<Prefix()><namespace>/<cluster>/".
  const std::string& Prefix() const { return pvc ? pvc->prefix : s3.prefix; }
  static Result<BackupDestination> Parse(const nlohmann::json& j, const std::string& where);
};

struct BackupPolicy {
  std::string schedule;
  std::string time_zone = "UTC";
  bool suspend = false;
  std::string compression = "zstd";
  BackupDestination destination;
  int32_t keep_last = 0;               // 0: unset
  std::chrono::seconds max_age{0};     // 0: unset
  bool verify = true;                  // copied into each scheduled EtcdBackup
  // Continuous backup: delta segments this often between full backups; 0: off. Default
  // 10 s to S3; off, and refused when set, to a PVC (a shipper would need a long-running
  // Pod holding the claim, which a ReadWriteOnce claim would then keep from the backup Pods).
  std::chrono::seconds delta_period{10};
  // Absent when the cluster has no spec.backup.
  static Result<std::optional<BackupPolicy>> Parse(const nlohmann::json& cluster);
};

enum class BackupPhase { kPending, kRunning, kSucceeded, kFailed };
const char* BackupPhaseName(BackupPhase p);

struct EtcdBackupObject {
  std::string name, namespace_, uid, resource_version;
  std::string cluster;  // spec.clusterName
  std::optional<BackupDestination> destination;  // absent: the cluster's spec.backup.destination
  std::optional<std::string> compression;        // absent: the cluster's, else zstd
  bool verify = true;  // restore it into a scratch member and compare HashKV once it succeeded
  std::chrono::system_clock::time_point scheduled_at{};  // scheduled ones: the slot
  BackupPhase phase = BackupPhase::kPending;
  std::chrono::system_clock::time_point completed{};  // Succeeded or Failed
  std::optional<bool> verified;                        // absent: not verified (yet)
  static Result<EtcdBackupObject> Parse(const nlohmann::json& object);
};

}  // namespace cairn::op
