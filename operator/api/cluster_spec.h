// ClusterSpec: the EtcdCluster object as the operator needs it (identity + spec), parsed
// from the API server's JSON with the CRD's defaults applied again so a missing field
// (old object, defaulting disabled) never changes behaviour.
//
// Thread-safety: plain value type. Invariants after a successful Parse: replicas >= 1,
// name non-empty, image non-empty, version parses as a Version.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/common/status.h"

namespace cairn::op {

enum class ReclaimPolicy { kDelete, kRetain };

struct StorageSpec {
  bool empty_dir = false;
  std::string empty_dir_medium;        // "" or "Memory"
  std::string empty_dir_size_limit;    // quantity, may be empty
  std::string storage_class;           // empty: cluster default class
  std::string size = "1Gi";
  ReclaimPolicy reclaim = ReclaimPolicy::kDelete;
};

struct PodOverrides {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> node_selector;
  std::string priority_class;
  nlohmann::json affinity;                    // null when unset
  nlohmann::json tolerations;                 // null or array
  nlohmann::json topology_spread;             // null or array
};

// spec.tls, per side: certificates the operator issues from a CA of its own per cluster
// ("auto"), the same certificates issued by cert-manager ("certManager": the operator
// writes cert-manager Certificates; cert-manager writes and renews their Secrets), or
// Secrets the user provides and renews ("secret": tls.crt, tls.key, ca.crt).
struct CertManagerIssuer {
  std::string name;
  std::string kind = "Issuer";  // or ClusterIssuer
  std::string group = "cert-manager.io";
};

struct TlsSide {
  bool enabled = false;
  bool provided = false;                // source "secret"
  bool cert_manager = false;            // source "certManager": cert-manager issues what "auto" would
  CertManagerIssuer issuer;             // cert_manager: its issuerRef
  std::string secret_name;              // provided: what members serve (server, or peer)
  std::string operator_secret_name;     // provided, client side: the operator's client certificate
  bool client_cert_auth = true;         // client side only: mTLS for clients
  std::vector<std::string> extra_sans;  // client side only: more names clients use

  bool Auto() const { return enabled && !provided && !cert_manager; }
};

struct TlsSpec {
  TlsSide client;
  TlsSide peer;
  bool rsa = false;  // keyAlgorithm RSA (2048) instead of ECDSA P-256
  std::chrono::seconds certificate_validity{std::chrono::hours(24 * 90)};
  std::chrono::seconds ca_validity{std::chrono::hours(24 * 365 * 5)};
  // metadata.annotations[naming::kAnnotationRotateCa]: a value the CA has not been
  // rotated for yet asks for a CA rotation (ca_rotation.h). Empty: none asked for.
  std::string rotate_ca_request;

  bool Any() const { return client.enabled || peer.enabled; }
  bool AnyAuto() const { return client.Auto() || peer.Auto(); }
};

// spec.bootstrap.restore: start the cluster from a backup.
struct RestoreSpec {
  std::string backup_name;          // an EtcdBackup in the namespace, or
  nlohmann::json source_destination;  // a destination (backup_spec.h's BackupDestination) ...
  std::string source_object;        // ... and an object (or manifest) key in it
  // A point-in-time restore (at most one): exactly this revision, or the last revision
  // the operator saw by this time (RFC 3339), from the full backups and delta segments
  // beside the named backup (backup/point_in_time.h).
  int64_t revision = 0;
  std::string time;
  bool Requested() const { return !backup_name.empty() || !source_object.empty(); }
};

// What the members' init containers fetch, resolved by the controller from RestoreSpec
// (and the EtcdBackup it names) before bootstrap, then read back from the ConfigMap.
struct ResolvedRestore {
  std::string image;  // cairn-operator's image, which runs `fetch-backup`
  std::string endpoint, bucket, region, manifest;
  int64_t to_revision = 0;  // RestoreSpec's target, if any
  std::string to_time;
  bool path_style = false;
  bool has_ca = false;  // the restore Secret holds ca.crt
  // A pvc destination's claim (endpoint, bucket and region then unused): the members'
  // init containers mount it read-only and fetch from it. Pods stay on their volumes for
  // life, so the members keep it mounted: with ReadWriteOnce, members (and later backup
  // Pods) on other nodes than the first wait for the attachment.
  std::string claim;
  std::map<std::string, std::string> secret_data;  // the restore Secret's content; empty once recorded
  nlohmann::json ToJson() const;
  static std::optional<ResolvedRestore> FromJson(const std::string& text);
};

// spec.auth: who the operator is in a cluster with etcd auth on.
struct AuthSpec {
  std::string credentials_secret;  // a Secret with `password` and optionally `username`; empty: none
  // spec.auth.enabled: the operator turns etcd auth on (as root, with the Secret's
  // password) or off; nullopt leaves auth as the operator finds it.
  std::optional<bool> enabled;
};

struct ClusterSpec {
  // Identity.
  std::string name;
  std::string namespace_;
  std::string uid;
  int64_t generation = 0;
  bool being_deleted = false;

  // Spec.
  int32_t replicas = 3;
  std::string version = "0.1.0";  // Cairn's version (version.h), what the image runs
  bool allow_downgrade = false;
  std::string image;  // defaulted to "<default image repository>:<version>"
  std::string image_pull_policy = "IfNotPresent";
  bool paused = false;
  StorageSpec storage;
  nlohmann::json resources;  // core/v1 ResourceRequirements or null
  PodOverrides pod;
  std::vector<std::string> options;
  TlsSpec tls;
  AuthSpec auth;
  RestoreSpec restore;
  std::optional<ResolvedRestore> resolved_restore;  // filled by the controller, not Parse
  // spec.backup.beforeUpgrade (default true with spec.backup): a version change waits for
  // a Succeeded EtcdBackup of the cluster as it was (naming::PreUpgradeBackup).
  bool backup_before_upgrade = false;
  bool backup_scheduled = false;  // spec.backup is set: status reports the newest backup

  // Parses an EtcdCluster object. Fails on shapes the CRD schema forbids and on options
  // that would override a flag the operator owns (the schema cannot express that).
  // `default_image_repository` names the image of clusters without spec.image.
  static Result<ClusterSpec> Parse(const nlohmann::json& object,
                                   const std::string& default_image_repository = "cairn");
};

// Flags the operator sets itself; user options may not override them.
bool IsOperatorOwnedFlag(const std::string& option);

// "2160h", "90m", "1h30m" (Go duration syntax, hours, minutes and seconds only).
std::optional<std::chrono::seconds> ParseDuration(const std::string& text);

// The Secret that holds the certificate of `use` (server, peer, client, operator):
// the user's for a side whose source is "secret", else naming::CertSecret's.
std::string TlsSecretName(const ClusterSpec& spec, const std::string& use);

}  // namespace cairn::op
