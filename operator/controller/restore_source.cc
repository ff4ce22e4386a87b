#include "operator/controller/restore_source.h"

#include "operator/api/base64.h"
#include "operator/api/naming.h"
#include "operator/backup/manifest.h"

namespace cairn::op {

using json = nlohmann::json;
namespace types = kube::types;

Result<std::string> SecretValue(kube::Client& client, const std::string& ns, const SecretKeyRef& ref) {
  auto secret = client.Get(types::Secret(), ns, ref.name);
  if (!secret.ok()) return Status(secret.status().code(), "Secret " + ref.name + ": " + secret.status().message());
  const json data = secret->value("data", json::object());
  if (!data.contains(ref.key) || !data[ref.key].is_string()) {
    return Status::FailedPrecondition("Secret " + ref.name + " has no key " + ref.key);
  }
  return Base64Decode(data[ref.key].get<std::string>());
}

Result<std::string> ResolveRestore(kube::Client& client, const ChildObjects& children, const std::string& operator_image,
                                   ClusterSpec& spec) {
  if (!spec.restore.Requested()) return std::string();
  if (children.config_map) {
    const std::string recorded = children.config_map->value("data", json::object()).value(naming::kKeyRestore, "");
    if (auto r = ResolvedRestore::FromJson(recorded)) {
      spec.resolved_restore = *r;
      return std::string();
    }
  }
  if (operator_image.empty()) {
    return std::string("the operator does not know its own image (--operator-image), which restores run");
  }
  json destination;
  std::string object;
  if (!spec.restore.backup_name.empty()) {
    auto backup = client.Get(types::EtcdBackup(), spec.namespace_, spec.restore.backup_name);
    if (!backup.ok()) {
      if (backup.status().code() != StatusCode::kNotFound) return backup.status();
      return "EtcdBackup " + spec.restore.backup_name + " does not exist";
    }
    const json st = backup->value("status", json::object());
    if (st.value("phase", "") != "Succeeded") {
      return "EtcdBackup " + spec.restore.backup_name + " has not succeeded (phase " + st.value("phase", "Pending") + ")";
    }
    destination = st.value("destination", json());
    object = st.value("objectKey", "");
  } else {
    destination = spec.restore.source_destination;
    object = spec.restore.source_object;
  }
  auto d = BackupDestination::Parse(destination, "the restore's destination");
  if (!d.ok()) return d.status().message();
  ResolvedRestore r;
  r.image = operator_image;
  r.manifest = backup::IsManifestName(object) ? object : backup::ManifestName(object);
  r.to_revision = spec.restore.revision;
  r.to_time = spec.restore.time;
  if (d->pvc) {
    r.claim = d->pvc->claim_name;
    spec.resolved_restore = std::move(r);
    return std::string();
  }
  r.endpoint = d->s3.Endpoint();
  r.bucket = d->s3.bucket;
  r.region = d->s3.region;
  r.path_style = d->s3.force_path_style;
  for (auto [key, ref] : {std::pair{"AWS_ACCESS_KEY_ID", std::optional<SecretKeyRef>(d->s3.access_key_id)},
                          std::pair{"AWS_SECRET_ACCESS_KEY", std::optional<SecretKeyRef>(d->s3.secret_access_key)},
                          std::pair{"AWS_SESSION_TOKEN", d->s3.session_token}, std::pair{"ca.crt", d->s3.ca_bundle}}) {
    if (!ref) continue;
    auto value = SecretValue(client, spec.namespace_, *ref);
    if (!value.ok()) {
      if (value.status().code() == StatusCode::kNotFound || value.status().code() == StatusCode::kFailedPrecondition) {
        return value.status().message();
      }
      return value.status();
    }
    r.secret_data[key] = *value;
  }
  r.has_ca = r.secret_data.count("ca.crt") > 0;
  spec.resolved_restore = std::move(r);
  return std::string();
}

}  // namespace cairn::op
