#include "operator/api/cluster_spec.h"

#include <array>

#include "operator/api/naming.h"
#include "operator/api/time_format.h"
#include "operator/api/version.h"

namespace cairn::op {
namespace {

std::map<std::string, std::string> StringMap(const nlohmann::json& j, const char* field, Status* err) {
  std::map<std::string, std::string> out;
  if (!j.contains(field) || j[field].is_null()) return out;
  if (!j[field].is_object()) {
    *err = Status::InvalidArgument(std::string(field) + " must be a map of strings");
    return out;
  }
  for (auto& [k, v] : j[field].items()) {
    if (!v.is_string()) {
      *err = Status::InvalidArgument(std::string(field) + "." + k + " must be a string");
      return out;
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

std::string QuantityString(const nlohmann::json& v) {
  return v.is_number_integer() ? std::to_string(v.get<int64_t>()) : v.get<std::string>();
}

}  // namespace

std::optional<std::chrono::seconds> ParseDuration(const std::string& text) {
  // Go's time.ParseDuration for the units a certificate lifetime needs: "2160h", "90m", "1h30m".
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i == text.size() || i - start > 12) return std::nullopt;
    const int64_t n = std::stoll(text.substr(start, i - start));
    const char unit = text[i++];
    if (unit == 'h') total += n * 3600;
    else if (unit == 'm') total += n * 60;
    else if (unit == 's') total += n;
    else return std::nullopt;
  }
  return std::chrono::seconds(total);
}

bool IsOperatorOwnedFlag(const std::string& option) {
  static const std::array<const char*, 20> kOwned = {
      "--name", "--data-dir", "--listen-client-urls", "--advertise-client-urls",
      "--listen-peer-urls", "--initial-advertise-peer-urls", "--initial-cluster",
      "--initial-cluster-state", "--initial-cluster-token", "--wal-dir", "--listen-metrics-urls",
      // spec.tls decides these.
      "--cert-file", "--key-file", "--trusted-ca-file", "--client-cert-auth",
      "--peer-cert-file", "--peer-key-file", "--peer-trusted-ca-file", "--peer-client-cert-auth", "--auto-tls"};
  std::string flag = option.substr(0, option.find('='));
  for (const char* owned : kOwned) {
    if (flag == owned) return true;
  }
  return false;
}

Result<ClusterSpec> ClusterSpec::Parse(const nlohmann::json& obj, const std::string& default_image_repository) {
  try {
    ClusterSpec c;
    const auto& md = obj.at("metadata");
    c.name = md.at("name").get<std::string>();
    c.namespace_ = md.value("namespace", "default");
    c.uid = md.value("uid", "");
    c.generation = md.value("generation", int64_t{0});
    c.being_deleted = md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null();
    if (c.name.empty()) return Status::InvalidArgument("metadata.name is empty");

    const nlohmann::json spec = obj.value("spec", nlohmann::json::object());
    c.replicas = spec.value("replicas", 3);
    if (c.replicas < 1) return Status::InvalidArgument("spec.replicas must be >= 1");
    c.version = spec.value("version", std::string("0.1.0"));
    if (!Version::Parse(c.version)) return Status::InvalidArgument("spec.version \"" + c.version + "\" is not MAJOR.MINOR.PATCH");
    c.allow_downgrade = spec.value("allowDowngrade", false);
    c.image = spec.value("image", default_image_repository + ":" + c.version);
    c.image_pull_policy = spec.value("imagePullPolicy", std::string("IfNotPresent"));
    c.paused = spec.value("paused", false);

    const nlohmann::json st = spec.value("storage", nlohmann::json::object());
    if (st.contains("emptyDir") && !st["emptyDir"].is_null()) {
      c.storage.empty_dir = true;
      c.storage.empty_dir_medium = st["emptyDir"].value("medium", "");
      if (st["emptyDir"].contains("sizeLimit")) {
        c.storage.empty_dir_size_limit = QuantityString(st["emptyDir"]["sizeLimit"]);
      }
    }
    c.storage.storage_class = st.value("storageClassName", "");
    if (c.storage.empty_dir && !c.storage.storage_class.empty()) {
      return Status::InvalidArgument("spec.storage: emptyDir and storageClassName are mutually exclusive");
    }
    if (st.contains("size")) c.storage.size = QuantityString(st["size"]);
    std::string reclaim = st.value("reclaimPolicy", "Delete");
    if (reclaim != "Delete" && reclaim != "Retain") {
      return Status::InvalidArgument("spec.storage.reclaimPolicy must be Delete or Retain");
    }
    c.storage.reclaim = reclaim == "Retain" ? ReclaimPolicy::kRetain : ReclaimPolicy::kDelete;

    c.resources = spec.value("resources", nlohmann::json());
    const nlohmann::json pt = spec.value("podTemplate", nlohmann::json::object());
    Status err;
    c.pod.labels = StringMap(pt, "labels", &err);
    c.pod.annotations = StringMap(pt, "annotations", &err);
    c.pod.node_selector = StringMap(pt, "nodeSelector", &err);
    if (!err.ok()) return Status::InvalidArgument("spec.podTemplate." + err.message());
    c.pod.priority_class = pt.value("priorityClassName", "");
    c.pod.affinity = pt.value("affinity", nlohmann::json());
    c.pod.tolerations = pt.value("tolerations", nlohmann::json());
    c.pod.topology_spread = pt.value("topologySpreadConstraints", nlohmann::json());

    const nlohmann::json tls = spec.value("tls", nlohmann::json::object());
    for (auto [key, side] : {std::pair{"client", &c.tls.client}, std::pair{"peer", &c.tls.peer}}) {
      const nlohmann::json s = tls.value(key, nlohmann::json::object());
      const bool issued = s.contains("auto") && s["auto"].is_object();
      side->provided = s.contains("secret") && s["secret"].is_object();
      side->cert_manager = s.contains("certManager") && s["certManager"].is_object();
      if (int(issued) + int(side->provided) + int(side->cert_manager) > 1) {
        return Status::InvalidArgument(std::string("spec.tls.") + key + " takes one of auto, secret and certManager");
      }
      side->enabled = issued || side->provided || side->cert_manager;
      if (side->cert_manager) {
        const nlohmann::json ref = s["certManager"].value("issuerRef", nlohmann::json::object());
        side->issuer.name = ref.value("name", "");
        side->issuer.kind = ref.value("kind", "Issuer");
        side->issuer.group = ref.value("group", "cert-manager.io");
        if (side->issuer.name.empty() || (side->issuer.kind != "Issuer" && side->issuer.kind != "ClusterIssuer")) {
          return Status::InvalidArgument(std::string("spec.tls.") + key +
                                         ".certManager.issuerRef needs a name and kind Issuer or ClusterIssuer");
        }
      }
      if (side->provided) {
        const nlohmann::json& secret = s["secret"];
        const bool client = side == &c.tls.client;
        side->secret_name = secret.value(client ? "serverSecretName" : "secretName", "");
        if (client) side->operator_secret_name = secret.value("operatorSecretName", "");
        if (side->secret_name.empty() || (client && side->operator_secret_name.empty())) {
          return Status::InvalidArgument(std::string("spec.tls.") + key + ".secret needs " +
                                         (client ? "serverSecretName and operatorSecretName" : "secretName"));
        }
      }
      side->client_cert_auth = s.value("clientCertAuth", true);
      for (const auto& san : s.value("extraSANs", nlohmann::json::array())) side->extra_sans.push_back(san.get<std::string>());
    }
    c.tls.rsa = tls.value("keyAlgorithm", "ECDSA") == "RSA";
    const nlohmann::json annotations = md.value("annotations", nlohmann::json::object());
    if (annotations.is_object()) c.tls.rotate_ca_request = annotations.value(naming::kAnnotationRotateCa, "");
    for (auto [key, out] : {std::pair{"certificateValidity", &c.tls.certificate_validity},
                            std::pair{"caValidity", &c.tls.ca_validity}}) {
      if (!tls.contains(key)) continue;
      auto d = ParseDuration(tls[key].get<std::string>());
      if (!d || *d < std::chrono::hours(1)) {
        return Status::InvalidArgument(std::string("spec.tls.") + key + " must be a duration of at least 1h, such as 2160h");
      }
      *out = *d;
    }
    if (c.tls.AnyAuto() && c.tls.certificate_validity >= c.tls.ca_validity) {
      return Status::InvalidArgument("spec.tls.certificateValidity must be shorter than spec.tls.caValidity");
    }

    const nlohmann::json auth = spec.value("auth", nlohmann::json::object());
    c.auth.credentials_secret = auth.value("credentialsSecret", "");
    if (spec.contains("auth") && c.auth.credentials_secret.empty()) {
      return Status::InvalidArgument("spec.auth needs credentialsSecret");
    }
    if (auth.contains("enabled") && auth["enabled"].is_boolean()) c.auth.enabled = auth["enabled"].get<bool>();

    if (spec.contains("backup") && spec["backup"].is_object()) {
      c.backup_scheduled = true;
      c.backup_before_upgrade = spec["backup"].value("beforeUpgrade", true);
    }
    const nlohmann::json restore = spec.value("bootstrap", nlohmann::json::object()).value("restore", nlohmann::json::object());
    c.restore.backup_name = restore.value("backupName", "");
    if (restore.contains("source")) {
      c.restore.source_object = restore["source"].value("object", "");
      c.restore.source_destination = restore["source"].value("destination", nlohmann::json());
    }
    if (!c.restore.backup_name.empty() && !c.restore.source_object.empty()) {
      return Status::InvalidArgument("spec.bootstrap.restore: set exactly one of backupName and source");
    }
    c.restore.revision = restore.value("revision", int64_t{0});
    c.restore.time = restore.value("time", "");
    if (restore.contains("revision") && c.restore.revision < 1) {
      return Status::InvalidArgument("spec.bootstrap.restore.revision must be at least 1");
    }
    if (!c.restore.time.empty() && ParseTime(c.restore.time) == std::chrono::system_clock::time_point{}) {
      return Status::InvalidArgument("spec.bootstrap.restore.time is not an RFC 3339 time: " + c.restore.time);
    }
    if (c.restore.revision > 0 && !c.restore.time.empty()) {
      return Status::InvalidArgument("spec.bootstrap.restore: set at most one of revision and time");
    }

    for (const auto& o : spec.value("options", nlohmann::json::array())) {
      std::string opt = o.get<std::string>();
      if (opt.rfind("--", 0) != 0) return Status::InvalidArgument("spec.options: \"" + opt + "\" is not a --flag");
      if (IsOperatorOwnedFlag(opt)) {
        return Status::InvalidArgument("spec.options: " + opt.substr(0, opt.find('=')) +
                                       " is managed by the operator");
      }
      c.options.push_back(opt);
    }
    if (c.name.size() > 40) return Status::InvalidArgument("metadata.name must be at most 40 characters");
    return c;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("malformed EtcdCluster: ") + e.what());
  }
}

nlohmann::json ResolvedRestore::ToJson() const {
  nlohmann::json j = {{"image", image}, {"endpoint", endpoint}, {"bucket", bucket}, {"region", region},
                      {"pathStyle", path_style}, {"manifest", manifest}, {"ca", has_ca}};
  if (to_revision > 0) j["toRevision"] = to_revision;
  if (!to_time.empty()) j["toTime"] = to_time;
  if (!claim.empty()) j["claim"] = claim;
  return j;
}

std::optional<ResolvedRestore> ResolvedRestore::FromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    ResolvedRestore r;
    r.image = j.at("image").get<std::string>();
    r.endpoint = j.at("endpoint").get<std::string>();
    r.bucket = j.at("bucket").get<std::string>();
    r.region = j.at("region").get<std::string>();
    r.path_style = j.at("pathStyle").get<bool>();
    r.manifest = j.at("manifest").get<std::string>();
    r.has_ca = j.at("ca").get<bool>();
    r.to_revision = j.value("toRevision", int64_t{0});
    r.to_time = j.value("toTime", "");
    r.claim = j.value("claim", "");
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string TlsSecretName(const ClusterSpec& spec, const std::string& use) {
  if (spec.tls.client.provided && use == "server") return spec.tls.client.secret_name;
  if (spec.tls.client.provided && use == "operator") return spec.tls.client.operator_secret_name;
  if (spec.tls.peer.provided && use == "peer") return spec.tls.peer.secret_name;
  return naming::CertSecret(spec.name, use);
}

}  // namespace cairn::op
