#include "operator/api/backup_spec.h"

#include "operator/api/cluster_spec.h"
#include "operator/api/time_format.h"

namespace cairn::op {

using nlohmann::json;

namespace {

Status Bad(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + ": " + what);
}

Result<SecretKeyRef> ParseKeyRef(const json& secret, const char* key_field, const char* default_key,
                                 const std::string& where) {
  SecretKeyRef ref;
  ref.name = secret.value("name", "");
  if (ref.name.empty()) return Bad(where, "name is required");
  ref.key = secret.value(key_field, default_key);
  if (ref.key.empty()) return Bad(where, std::string(key_field) + " must not be empty");
  return ref;
}

// A prefix names a directory under the volume's root: it may not climb out of it.
bool SafeRelativePrefix(const std::string& prefix) {
  if (prefix.empty()) return true;
  if (prefix.front() == '/') return false;
  size_t start = 0;
  for (;;) {
    const size_t slash = prefix.find('/', start);
    const std::string part = prefix.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "." || part == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

Result<BackupDestination> ParsePvc(const json& pvc, const std::string& where) {
  BackupDestination d;
  d.pvc = PvcDestination{pvc.value("claimName", ""), pvc.value("prefix", "")};
  if (d.pvc->claim_name.empty()) return Bad(where + ".pvc.claimName", "is required");
  if (!SafeRelativePrefix(d.pvc->prefix)) {
    return Bad(where + ".pvc.prefix", "must be a relative path without . or .. components");
  }
  if (!d.pvc->prefix.empty() && d.pvc->prefix.back() != '/') d.pvc->prefix += '/';
  return d;
}

}  // namespace

std::string S3Destination::Endpoint() const {
  return endpoint.empty() ? "https://s3." + region + ".amazonaws.com" : endpoint;
}

Result<BackupDestination> BackupDestination::Parse(const json& j, const std::string& where) {
  const bool has_s3 = j.is_object() && j.contains("s3") && j["s3"].is_object();
  const bool has_pvc = j.is_object() && j.contains("pvc") && j["pvc"].is_object();
  if (has_s3 == has_pvc) return Bad(where, "exactly one of s3 and pvc is required");
  if (has_pvc) return ParsePvc(j["pvc"], where);
  const json& s3 = j["s3"];
  BackupDestination d;
  d.s3.endpoint = s3.value("endpoint", "");
  if (!d.s3.endpoint.empty() && d.s3.endpoint.rfind("http://", 0) != 0 && d.s3.endpoint.rfind("https://", 0) != 0) {
    return Bad(where + ".s3.endpoint", "must be an http:// or https:// URL");
  }
  d.s3.bucket = s3.value("bucket", "");
  if (d.s3.bucket.empty()) return Bad(where + ".s3.bucket", "is required");
  d.s3.prefix = s3.value("prefix", "");
  if (!d.s3.prefix.empty() && d.s3.prefix.back() != '/') d.s3.prefix += '/';
  d.s3.region = s3.value("region", "us-east-1");
  d.s3.force_path_style = s3.value("forcePathStyle", false);
  d.s3.server_side_encryption = s3.value("serverSideEncryption", "");
  const json creds = s3.value("credentialsSecret", json::object());
  auto id = ParseKeyRef(creds, "accessKeyIDKey", "AWS_ACCESS_KEY_ID", where + ".s3.credentialsSecret");
  if (!id.ok()) return id.status();
  d.s3.access_key_id = *id;
  d.s3.secret_access_key = {id->name, creds.value("secretAccessKeyKey", "AWS_SECRET_ACCESS_KEY")};
  if (creds.contains("sessionTokenKey")) d.s3.session_token = SecretKeyRef{id->name, creds.value("sessionTokenKey", "")};
  if (s3.contains("caBundleSecret")) {
    auto ca = ParseKeyRef(s3["caBundleSecret"], "key", "ca.crt", where + ".s3.caBundleSecret");
    if (!ca.ok()) return ca.status();
    d.s3.ca_bundle = *ca;
  }
  return d;
}

static Result<std::optional<BackupPolicy>> ParsePolicy(const json& cluster) {
  const json spec = cluster.value("spec", json::object());
  if (!spec.contains("backup") || spec["backup"].is_null()) return std::optional<BackupPolicy>();
  const json& b = spec["backup"];
  BackupPolicy p;
  p.schedule = b.value("schedule", "");
  if (p.schedule.empty()) return Bad("spec.backup.schedule", "is required");
  p.time_zone = b.value("timeZone", "UTC");
  p.suspend = b.value("suspend", false);
  p.compression = b.value("compression", "zstd");
  p.verify = b.value("verify", true);
  auto dest = BackupDestination::Parse(b.value("destination", json()), "spec.backup.destination");
  if (!dest.ok()) return dest.status();
  p.destination = *dest;
  if (p.destination.IsPvc()) p.delta_period = std::chrono::seconds(0);
  if (b.contains("deltaPeriod")) {
    auto period = ParseDuration(b.value("deltaPeriod", ""));
    if (!period) return Bad("spec.backup.deltaPeriod", "is not a duration such as 10s");
    if (p.destination.IsPvc() && period->count() > 0) {
      return Bad("spec.backup.deltaPeriod", "delta backups go to S3 only; with a pvc destination set 0s or leave it out");
    }
    p.delta_period = *period;
  }
  const json retention = b.value("retention", json::object());
  p.keep_last = retention.value("keepLast", 0);
  if (retention.contains("maxAge")) {
    auto age = ParseDuration(retention.value("maxAge", ""));
    if (!age) return Bad("spec.backup.retention.maxAge", "is not a duration such as 168h");
    p.max_age = *age;
  }
  return std::optional<BackupPolicy>(p);
}

const char* BackupPhaseName(BackupPhase p) {
  switch (p) {
    case BackupPhase::kPending: return "Pending";
    case BackupPhase::kRunning: return "Running";
    case BackupPhase::kSucceeded: return "Succeeded";
    case BackupPhase::kFailed: return "Failed";
  }
  return "Pending";
}

static Result<EtcdBackupObject> ParseBackup(const json& object) {
  EtcdBackupObject b;
  const json meta = object.value("metadata", json::object());
  b.name = meta.value("name", "");
  b.namespace_ = meta.value("namespace", "");
  b.uid = meta.value("uid", "");
  b.resource_version = meta.value("resourceVersion", "");
  b.scheduled_at = ParseTime(meta.value("annotations", json::object()).value(kAnnotationScheduledAt, ""));
  const json spec = object.value("spec", json::object());
  b.cluster = spec.value("clusterName", "");
  if (b.cluster.empty()) return Bad("spec.clusterName", "is required");
  if (spec.contains("destination")) {
    auto d = BackupDestination::Parse(spec["destination"], "spec.destination");
    if (!d.ok()) return d.status();
    b.destination = *d;
  }
  if (spec.contains("compression")) b.compression = spec.value("compression", "zstd");
  b.verify = spec.value("verify", true);
  const json status = object.value("status", json::object());
  const std::string phase = status.value("phase", "Pending");
  for (auto p : {BackupPhase::kPending, BackupPhase::kRunning, BackupPhase::kSucceeded, BackupPhase::kFailed}) {
    if (phase == BackupPhaseName(p)) b.phase = p;
  }
  b.completed = ParseTime(status.value("completionTime", ""));
  if (status.contains("verified")) b.verified = status.value("verified", false);
  return b;
}

// The CRD schemas fix the types; an object that slipped past them (schema validation
// off, an older CRD) is refused as a value rather than thrown at the caller.
Result<std::optional<BackupPolicy>> BackupPolicy::Parse(const json& cluster) {
  try {
    return ParsePolicy(cluster);
  } catch (const json::exception& e) {
    return Bad("spec.backup", e.what());
  }
}

Result<EtcdBackupObject> EtcdBackupObject::Parse(const json& object) {
  try {
    return ParseBackup(object);
  } catch (const json::exception& e) {
    return Bad("EtcdBackup", e.what());
  }
}

}  // namespace cairn::op
