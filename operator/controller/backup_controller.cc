#include "operator/controller/backup_controller.h"

#include <algorithm>
#include <set>

#include "operator/api/base64.h"
#include "operator/api/naming.h"
#include "operator/api/time_format.h"
#include "operator/backup/delta_shipper.h"
#include "operator/backup/full_backup.h"
#include "operator/backup/housekeeping.h"
#include "operator/backup/schedule_plan.h"
#include "operator/controller/reconciler.h"
#include "operator/controller/restore_source.h"
#include "operator/log/structured_log.h"
#include "operator/resources/backup_pod.h"
#include "operator/resources/verify_pod.h"
#include "operator/reconcile/certificates.h"

namespace cairn::op {
namespace {

using json = nlohmann::json;
namespace types = kube::types;

constexpr const char* kBackupKey = "backup:";
constexpr const char* kScheduleKey = "schedule:";

// The objects of the backups that stay. Two records of one object (two runs in one
// second at one revision) keep it while either stays.
std::set<std::string> KeptObjects(const std::map<std::string, json>& by_name, const std::vector<std::string>& expire) {
  std::set<std::string> kept;
  for (const auto& [name, item] : by_name) {
    if (std::find(expire.begin(), expire.end(), name) == expire.end()) {
      kept.insert(item.value("status", json::object()).value("objectKey", ""));
    }
  }
  return kept;
}

json WithStatus(json object, const json& status) {
  object["status"] = status;
  return object;
}

std::string KeyOf(const json& obj) {
  return obj["metadata"].value("namespace", "") + "/" + obj["metadata"].value("name", "");
}

// The cluster's Secrets that hold who the operator is to its members: its client
// certificate and its spec.auth credentials.
ChildObjects ClientSecrets(kube::Client& client, const ClusterSpec& spec) {
  ChildObjects children;
  std::vector<std::string> names;
  if (spec.tls.client.enabled) names.push_back(TlsSecretName(spec, "operator"));
  if (!spec.auth.credentials_secret.empty()) names.push_back(spec.auth.credentials_secret);
  for (const auto& name : names) {
    auto secret = client.Get(types::Secret(), spec.namespace_, name);
    if (secret.ok()) children.secrets[name] = *secret;
  }
  return children;
}

// What a Succeeded EtcdBackup records of its manifest, wherever the run happened.
void RecordSucceeded(const backup::BackupManifest& m, const std::string& url, json& st) {
  st["phase"] = "Succeeded";
  st["objectURL"] = url;
  st["objectKey"] = m.object;
  st["size"] = m.object_size;
  st["sha256"] = m.object_sha256;
  st["revision"] = m.revision;
  st["compression"] = backup::CompressionName(m.compression);
  st["version"] = m.version;
  st["memberID"] = m.member_id;
  if (m.hash_kv) st["hashKV"] = *m.hash_kv;
  st.erase("reason");
  st.erase("message");
}

// The backup container's termination message and exit code, once it ended.
std::optional<std::pair<int, std::string>> Terminated(const json& pod) {
  for (const auto& c : pod.value("status", json::object()).value("containerStatuses", json::array())) {
    const json state = c.value("state", json::object());
    if (c.value("name", "") != "backup" || !state.contains("terminated")) continue;
    const json& t = state["terminated"];
    return std::pair{t.value("exitCode", -1), t.value("message", "")};
  }
  return std::nullopt;
}

// Why a Pod has not started: its scheduling condition, else a waiting container's reason.
std::string WhyNotStarted(const json& pod) {
  const json status = pod.value("status", json::object());
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == "PodScheduled" && c.value("status", "") == "False") {
      return "not scheduled: " + c.value("reason", "") + " " + c.value("message", "");
    }
  }
  for (const auto& c : status.value("containerStatuses", json::array())) {
    const json waiting = c.value("state", json::object()).value("waiting", json());
    if (waiting.is_object()) return "waiting: " + waiting.value("reason", "") + " " + waiting.value("message", "");
  }
  return "still " + status.value("phase", "Pending");
}

}  // namespace

BackupController::BackupController(kube::Client& client, BackupControllerOptions options)
    : client_(client), options_(std::move(options)), queue_(options_.backoff_initial, options_.backoff_max) {
  if (!options_.endpoints) {
    options_.endpoints = [](const ClusterSpec& spec) { return MemberEndpoints(spec, spec.replicas, spec.tls.client.enabled); };
  }
  if (!options_.verify_url) {
    options_.verify_url = [](const json& pod) {
      const std::string ip = pod.value("status", json::object()).value("podIP", "");
      return ip.empty() ? std::string() : "http://" + ip + ":2379";
    };
  }
  kube::InformerOptions backups = options_.informer;
  backups.ns = options_.ns;
  informers_.push_back(std::make_unique<kube::Informer>(
      client_, types::EtcdBackup(), backups,
      [this](const std::string&, const json& obj) { queue_.Add(kBackupKey + KeyOf(obj)); }));
  kube::InformerOptions clusters = options_.informer;
  clusters.ns = options_.ns;
  informers_.push_back(std::make_unique<kube::Informer>(
      client_, types::EtcdCluster(), clusters,
      [this](const std::string&, const json& obj) { queue_.Add(kScheduleKey + KeyOf(obj)); }));
}

BackupController::~BackupController() {
  std::vector<std::jthread> runners;
  std::map<std::string, Shipper> shippers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    runners.swap(runners_);
    shippers.swap(shippers_);
  }
  runners.clear();   // joins
  shippers.clear();  // stops and joins
}

bool BackupController::Synced() const {
  return std::all_of(informers_.begin(), informers_.end(), [](const auto& i) { return i->HasSynced(); });
}

bool BackupController::Idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_.empty();
}

void BackupController::Run(std::stop_token stop) {
  std::vector<std::jthread> threads;
  for (auto& i : informers_) threads.emplace_back([&i, stop] { i->Run(stop); });
  for (int w = 0; w < options_.workers; ++w) threads.emplace_back([this, stop] { Worker(stop); });
  for (auto& t : threads) t.join();
}

void BackupController::Worker(std::stop_token stop) {
  while (auto key = queue_.Get(stop)) {
    const bool is_backup = key->rfind(kBackupKey, 0) == 0;
    const std::string rest = key->substr(is_backup ? std::string(kBackupKey).size() : std::string(kScheduleKey).size());
    const auto slash = rest.find('/');
    const std::string ns = rest.substr(0, slash), name = rest.substr(slash + 1);
    Status st = Status::Ok();
    std::optional<std::chrono::milliseconds> requeue;
    if (is_backup) {
      st = ReconcileBackup(ns, name);
    } else {
      auto r = ReconcileSchedule(ns, name);
      st = r.status();
      if (r.ok() && r->count() > 0) requeue = *r;
    }
    if (!st.ok() && st.code() != StatusCode::kUnavailable) {
      auto delay = queue_.Failure(*key);
      log::Log(spdlog::level::warn, "backup pass failed",
               {{"key", *key}, {"retry_in_ms", delay.count()}, {"error", st.ToString()}});
    } else if (st.code() == StatusCode::kUnavailable) {
      queue_.AddAfter(*key, options_.busy_retry);  // waiting for the cluster's current run
    } else {
      queue_.Forget(*key);
      if (requeue) queue_.AddAfter(*key, *requeue);
    }
    queue_.Done(*key);
  }
}

void BackupController::Report(const json& object, EventType type, const std::string& reason,
                              const std::string& message) {
  if (options_.events == nullptr || !options_.may_act()) return;
  Status st = options_.events->Record(object, type, reason, message);
  if (!st.ok()) log::Log(spdlog::level::warn, "event not recorded", {{"reason", reason}, {"error", st.ToString()}});
}

Status BackupController::WriteStatus(const std::string& ns, const std::string& name, const json& status) {
  if (!options_.may_act()) return Status::Ok();
  for (int attempt = 0;; ++attempt) {
    auto live = client_.Get(types::EtcdBackup(), ns, name);
    if (!live.ok()) return live.status();
    auto written = client_.UpdateStatus(types::EtcdBackup(), ns, WithStatus(*live, status));
    if (written.ok() || written.status().code() != StatusCode::kAborted || attempt == 4) return written.status();
  }
}

Status BackupController::ReconcileBackup(const std::string& ns, const std::string& name) {
  auto live = client_.Get(types::EtcdBackup(), ns, name);
  if (!live.ok()) return live.status().code() == StatusCode::kNotFound ? Status::Ok() : live.status();
  const json previous = live->value("status", json::object());
  auto fail = [&](const std::string& reason, const std::string& message) {
    json st = previous;
    st["phase"] = "Failed";
    st["reason"] = reason;
    st["message"] = message;
    st["completionTime"] = FormatTime(options_.clock());
    if (!st.contains("startTime")) st["startTime"] = st["completionTime"];
    Report(*live, EventType::kWarning, "BackupFailed", reason + ": " + message);
    return options_.may_act() ? client_.UpdateStatus(types::EtcdBackup(), ns, WithStatus(*live, st)).status()
                              : Status::Ok();
  };
  auto backup = EtcdBackupObject::Parse(*live);
  if (!backup.ok()) {
    if (previous.value("phase", "") == "Failed") return Status::Ok();
    return fail("InvalidSpec", backup.status().message());
  }
  if (backup->phase == BackupPhase::kSucceeded && backup->verify && !backup->verified) return Verify(*live, *backup);
  if (backup->phase == BackupPhase::kSucceeded || backup->phase == BackupPhase::kFailed) return Status::Ok();
  if (backup->phase == BackupPhase::kRunning) {
    // A pvc run lives in its Pod, not in this process: an operator restart resumes it.
    auto recorded = BackupDestination::Parse(previous.value("destination", json()), "status.destination");
    if (recorded.ok() && recorded->pvc) return FollowBackupPod(*live, *backup, *recorded->pvc);
  }
  const std::string cluster_key = ns + "/" + backup->cluster;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto running = running_.find(cluster_key);
    if (backup->phase == BackupPhase::kRunning) {
      if (running != running_.end() && running->second == ns + "/" + name) return Status::Ok();  // its runner reports
    } else if (running != running_.end()) {
      return Status::Unavailable("cluster " + cluster_key + " is being backed up by " + running->second);
    }
  }
  if (backup->phase == BackupPhase::kRunning) {
    return fail("Interrupted",
                "the operator stopped while this backup ran; nothing was recorded as a backup (an object without "
                "a manifest may remain in the destination)");
  }

  auto cluster_obj = client_.Get(types::EtcdCluster(), ns, backup->cluster);
  if (!cluster_obj.ok()) {
    if (cluster_obj.status().code() == StatusCode::kNotFound) {
      return fail("ClusterNotFound", "EtcdCluster " + backup->cluster + " does not exist in namespace " + ns);
    }
    return cluster_obj.status();
  }
  auto cluster = ClusterSpec::Parse(*cluster_obj, options_.default_image_repository);
  if (!cluster.ok()) return fail("InvalidCluster", cluster.status().message());
  auto policy = BackupPolicy::Parse(*cluster_obj);
  if (!policy.ok()) return fail("InvalidCluster", policy.status().message());
  std::optional<BackupDestination> destination = backup->destination;
  json destination_json = live->value("spec", json::object()).value("destination", json());
  if (!destination && *policy) {
    destination = (*policy)->destination;
    destination_json = cluster_obj->value("spec", json::object()).value("backup", json::object()).value("destination", json());
  }
  if (!destination) {
    return fail("NoDestination", "neither spec.destination nor the cluster's spec.backup.destination is set");
  }
  const std::string compression_name = backup->compression.value_or(*policy ? (*policy)->compression : "zstd");
  auto compression = backup::ParseCompression(compression_name);
  if (!compression) return fail("InvalidSpec", "unknown compression " + compression_name);
  if (destination->pvc && options_.operator_image.empty()) {
    return fail("NoOperatorImage",
                "a backup to a pvc destination runs in a Pod of the operator's image, which the operator was not "
                "told (--operator-image or $OPERATOR_IMAGE)");
  }
  if (!options_.may_act()) return Status::Ok();

  // pvc runs are not in running_ (an operator restart forgets it; their Pods go on), so
  // the cluster's EtcdBackups say whether one runs. Held until Running is written, so two
  // workers of this process cannot both find none.
  std::lock_guard<std::mutex> starting(start_mu_);
  auto all = client_.List(types::EtcdBackup(), ns);
  if (!all.ok()) return all.status();
  for (const auto& item : all->items) {
    auto other = EtcdBackupObject::Parse(item);
    if (other.ok() && other->name != name && other->cluster == backup->cluster && other->phase == BackupPhase::kRunning) {
      return Status::Unavailable("cluster " + cluster_key + " is being backed up by " + other->name);
    }
  }
  // Running is written before anything runs, conditional on the version read: of two
  // operators (or two workers) only one gets past this line.
  json st = previous;
  st["phase"] = "Running";
  st["startTime"] = FormatTime(options_.clock());
  st["cluster"] = backup->cluster;
  // Where it goes, as given: a restore by backupName reads it from here, even once the
  // source cluster and its spec.backup are gone.
  st["destination"] = destination_json;
  st["compression"] = compression_name;
  auto written = client_.UpdateStatus(types::EtcdBackup(), ns, WithStatus(*live, st));
  if (!written.ok()) return written.status();
  if (destination->pvc) return FollowBackupPod(*written, *backup, *destination->pvc);
  std::string version = cluster_obj->value("status", json::object()).value("currentVersion", cluster->version);
  StartRun(RunRequest{ns, name, cluster_key, *cluster, *destination, *compression, version});
  return Status::Ok();
}

void BackupController::StartRun(RunRequest request) {
  std::lock_guard<std::mutex> lock(mu_);
  running_[request.cluster_key] = request.ns + "/" + request.backup;
  runners_.emplace_back([this, request = std::move(request)] {
    RunBackup(request);
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.erase(request.cluster_key);
    }
    idle_cv_.notify_all();
    // Whatever waits on this cluster goes next; the schedule may now expire old backups.
    queue_.Add(kScheduleKey + request.cluster_key);
    queue_.Add(kBackupKey + request.ns + "/" + request.backup);
  });
}

Result<std::unique_ptr<backup::ObjectStore>> BackupController::OpenStore(const std::string& ns,
                                                                        const BackupDestination& d) {
  s3::ClientConfig config;
  config.endpoint = d.s3.Endpoint();
  config.region = d.s3.region;
  config.bucket = d.s3.bucket;
  config.path_style = d.s3.force_path_style;
  config.server_side_encryption = d.s3.server_side_encryption;
  auto id = SecretValue(client_, ns, d.s3.access_key_id);
  if (!id.ok()) return id.status();
  auto secret = SecretValue(client_, ns, d.s3.secret_access_key);
  if (!secret.ok()) return secret.status();
  config.credentials = {*id, *secret, ""};
  if (d.s3.session_token) {
    auto token = SecretValue(client_, ns, *d.s3.session_token);
    if (!token.ok()) return token.status();
    config.credentials.session_token = *token;
  }
  if (d.s3.ca_bundle) {
    auto ca = SecretValue(client_, ns, *d.s3.ca_bundle);
    if (!ca.ok()) return ca.status();
    config.ca_pem = *ca;
  }
  auto client = s3::Client::Create(std::move(config));
  if (!client.ok()) return client.status();
  return backup::NewS3Store(std::move(*client), d.s3.bucket);
}

void BackupController::RunBackup(const RunRequest& r) {
  const auto started = std::chrono::steady_clock::now();
  auto store = OpenStore(r.ns, r.destination);
  auto run = [&]() -> Result<backup::BackupManifest> {
    if (!store.ok()) return store.status();
    const ChildObjects secrets = ClientSecrets(client_, r.cluster);
    auto auth = OperatorClientAuth(secrets, r.cluster);
    if (!auth.ok()) return auth.status();
    MembershipClient members(options_.endpoints(r.cluster), options_.member_timeout,
                             OperatorClientTls(secrets, r.cluster, r.cluster.tls.client.enabled), *auth);
    backup::FullBackupRequest request;
    request.cluster = r.cluster_key;
    request.version = r.version;
    request.prefix = r.destination.s3.prefix + r.ns + "/" + r.cluster.name + "/";
    request.compression = r.compression;
    request.limit = options_.snapshot_limit;
    request.now = options_.clock;
    request.endpoints = backup::PreferFollowers(options_.endpoints(r.cluster), members.Observe());
    return backup::RunFullBackup(members, **store, request);
  };
  const Result<backup::BackupManifest> result = run();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  if (options_.metrics != nullptr) {
    options_.metrics->RecordBackup(r.cluster_key, result.ok(), took, result.ok() ? result->object_size : 0,
                                   options_.clock());
  }
  json st;
  auto live = client_.Get(types::EtcdBackup(), r.ns, r.backup);
  if (live.ok()) st = live->value("status", json::object());
  st["completionTime"] = FormatTime(options_.clock());
  if (result.ok()) {
    RecordSucceeded(*result, (*store)->Url(result->object), st);
  } else {
    st["phase"] = "Failed";
    st["reason"] = "BackupFailed";
    st["message"] = result.status().ToString();
  }
  log::Log(result.ok() ? spdlog::level::info : spdlog::level::warn, "backup finished",
           {{"backup", r.ns + "/" + r.backup},
            {"phase", st.value("phase", "")},
            {"took_ms", static_cast<int64_t>(took.count() * 1000)},
            {"error", result.ok() ? "" : result.status().ToString()}});
  Status written = WriteStatus(r.ns, r.backup, st);
  if (!written.ok()) {
    log::Log(spdlog::level::warn, "backup status not written", {{"backup", r.ns + "/" + r.backup}, {"error", written.ToString()}});
  }
  if (live.ok()) {
    Report(*live, result.ok() ? EventType::kNormal : EventType::kWarning, result.ok() ? "BackupSucceeded" : "BackupFailed",
           result.ok() ? "stored " + st.value("objectURL", "") + " at revision " + std::to_string(result->revision)
                       : result.status().ToString());
  }
}

Status BackupController::FollowBackupPod(const json& live, const EtcdBackupObject& backup, const PvcDestination& pvc) {
  const std::string& ns = backup.namespace_;
  const std::string pod_name = resources::BackupPodName(backup.name);
  const std::string cluster_key = ns + "/" + backup.cluster;
  // Status first, then the Pod goes: a restart in between finds the answer recorded.
  auto finish = [&](bool succeeded, json st, const std::string& summary) -> Status {
    st["completionTime"] = FormatTime(options_.clock());
    CAIRN_RETURN_IF_ERROR(WriteStatus(ns, backup.name, st));
    Report(live, succeeded ? EventType::kNormal : EventType::kWarning, succeeded ? "BackupSucceeded" : "BackupFailed",
           summary);
    log::Log(succeeded ? spdlog::level::info : spdlog::level::warn, "backup finished",
             {{"backup", ns + "/" + backup.name}, {"phase", st.value("phase", "")}, {"pod", pod_name},
              {"error", succeeded ? "" : summary}});
    Status deleted = client_.Delete(types::Pod(), ns, pod_name);
    return deleted.code() == StatusCode::kNotFound ? Status::Ok() : deleted;
  };
  auto failed = [&](const std::string& reason, const std::string& message) {
    if (options_.metrics != nullptr) options_.metrics->RecordBackup(cluster_key, false, {}, 0, options_.clock());
    json st = live.value("status", json::object());
    st["phase"] = "Failed";
    st["reason"] = reason;
    st["message"] = message;
    return finish(false, st, reason + ": " + message);
  };
  auto pod = client_.Get(types::Pod(), ns, pod_name);
  if (!pod.ok()) {
    if (pod.status().code() != StatusCode::kNotFound) return pod.status();
    auto made = CreateBackupPod(live, backup, pvc);
    // Refused for good (a PodSecurity level that forbids it, a bad name): retrying cannot help.
    if (made.code() == StatusCode::kPermissionDenied || made.code() == StatusCode::kInvalidArgument) {
      return failed("BackupPodRefused", "the API server refused the backup Pod " + pod_name + ": " + made.message());
    }
    if (!made.ok()) return made;
    return Status::Unavailable("backing up " + ns + "/" + backup.name + ": Pod " + pod_name + " created");
  }
  const std::string phase = pod->value("status", json::object()).value("phase", "Pending");
  const auto ended = Terminated(*pod);
  if (phase == "Succeeded" && ended) {
    auto result = json::parse(ended->second, nullptr, false);
    auto manifest = result.is_object() ? backup::BackupManifest::Parse(result.value("manifest", json()))
                                       : Result<backup::BackupManifest>(Status::InvalidArgument("not JSON"));
    if (!manifest.ok()) {
      return failed("BackupPodFailed", "the backup Pod succeeded but its result is unreadable (" +
                                           manifest.status().message() + "): " + ended->second);
    }
    if (options_.metrics != nullptr) {
      options_.metrics->RecordBackup(cluster_key, true, manifest->completed - manifest->started, manifest->object_size,
                                     options_.clock());
    }
    json st = live.value("status", json::object());
    RecordSucceeded(*manifest, pvc.Url(manifest->object), st);
    if (result.contains("expireError")) {
      Report(live, EventType::kWarning, "BackupRetentionFailed", result.value("expireError", ""));
    }
    CAIRN_RETURN_IF_ERROR(DeleteExpired(ns, backup.cluster, result.value("expired", json::array())));
    return finish(true, st, "stored " + st.value("objectURL", "") + " at revision " + std::to_string(manifest->revision));
  }
  if (phase == "Succeeded" || phase == "Failed") {
    const json pod_status = pod->value("status", json::object());
    std::string why = ended ? "exit code " + std::to_string(ended->first) + ": " + ended->second
                            : pod_status.value("reason", "") + " " + pod_status.value("message", "");
    return failed("BackupPodFailed", "the backup Pod " + pod_name + " failed: " + why);
  }
  const TimePoint created = ParseTime(pod->value("metadata", json::object()).value("creationTimestamp", ""));
  if (phase == "Pending" && created != TimePoint{} && options_.clock() - created > options_.backup_pod_start_timeout) {
    return failed("BackupPodNotStarted",
                  "the backup Pod " + pod_name + " did not start within " +
                      std::to_string(options_.backup_pod_start_timeout.count()) + " s (" + WhyNotStarted(*pod) +
                      "); a ReadWriteOnce claim mounted by a Pod on another node keeps it waiting");
  }
  return Status::Unavailable("backing up " + ns + "/" + backup.name + ": Pod " + pod_name + " is " + phase);
}

Status BackupController::CreateBackupPod(const json& live, const EtcdBackupObject& backup, const PvcDestination& pvc) {
  const std::string& ns = backup.namespace_;
  auto cluster_obj = client_.Get(types::EtcdCluster(), ns, backup.cluster);
  if (!cluster_obj.ok() && cluster_obj.status().code() != StatusCode::kNotFound) return cluster_obj.status();
  auto cluster = cluster_obj.ok() ? ClusterSpec::Parse(*cluster_obj, options_.default_image_repository)
                                  : Result<ClusterSpec>(cluster_obj.status());
  if (!cluster.ok()) {
    json st = live.value("status", json::object());
    st["phase"] = "Failed";
    st["reason"] = "ClusterNotFound";
    st["message"] = cluster.status().message();
    st["completionTime"] = FormatTime(options_.clock());
    return WriteStatus(ns, backup.name, st);
  }
  const json status = live.value("status", json::object());
  resources::BackupPodParams params;
  params.ns = ns;
  params.backup = backup.name;
  params.backup_uid = backup.uid;
  params.cluster = backup.cluster;
  params.operator_image = options_.operator_image;
  params.image_pull_policy = cluster->image_pull_policy;
  params.pvc = pvc;
  params.prefix = pvc.prefix + ns + "/" + backup.cluster + "/";
  params.endpoints = options_.endpoints(*cluster);
  params.compression = status.value("compression", "zstd");
  params.version = cluster_obj->value("status", json::object()).value("currentVersion", cluster->version);
  if (cluster->tls.client.enabled) params.client_tls_secret = TlsSecretName(*cluster, "operator");
  if (!cluster->auth.credentials_secret.empty()) params.auth_secret = cluster->auth.credentials_secret;
  params.timeout = options_.snapshot_limit;
  params.placement = resources::PlacementOf(*cluster);
  // Retention of the schedule's backups on this same claim happens in this run.
  auto policy = BackupPolicy::Parse(*cluster_obj);
  if (backup.scheduled_at != TimePoint{} && policy.ok() && *policy && (*policy)->destination.pvc &&
      (*policy)->destination.pvc->claim_name == pvc.claim_name && (*policy)->destination.pvc->prefix == pvc.prefix) {
    auto schedule = backup::CronSchedule::Parse((*policy)->schedule, (*policy)->time_zone);
    if (schedule.ok()) {
      std::map<std::string, json> by_name;
      auto plan = PlanFor(*cluster_obj, **policy, *schedule, &by_name);
      if (!plan.ok()) return plan.status();
      const std::set<std::string> kept = KeptObjects(by_name, plan->expire);
      for (const auto& expired : plan->expire) {
        const std::string key = by_name[expired].value("status", json::object()).value("objectKey", "");
        if (!key.empty() && !kept.count(key)) params.expire.push_back(key);
      }
    }
  }
  auto made = client_.Create(types::Pod(), ns, resources::BackupPod(params));
  if (!made.ok() && made.status().code() != StatusCode::kAlreadyExists) return made.status();
  return Status::Ok();
}

// The schedule's EtcdBackups whose objects a backup Pod expired: their records go too.
Status BackupController::DeleteExpired(const std::string& ns, const std::string& cluster, const json& expired_keys) {
  if (!expired_keys.is_array() || expired_keys.empty()) return Status::Ok();
  const std::set<std::string> keys(expired_keys.begin(), expired_keys.end());
  const std::string selector = std::string(naming::kLabelInstance) + "=" + cluster + "," + kLabelScheduled + "=true";
  auto listed = client_.List(types::EtcdBackup(), ns, selector);
  if (!listed.ok()) return listed.status();
  for (const auto& item : listed->items) {
    const std::string key = item.value("status", json::object()).value("objectKey", "");
    if (key.empty() || !keys.count(key)) continue;
    const std::string name = item["metadata"].value("name", "");
    Status deleted = client_.Delete(types::EtcdBackup(), ns, name);
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
    log::Log(spdlog::level::info, "backup expired", {{"backup", ns + "/" + name}, {"object", key}});
  }
  return Status::Ok();
}

Status BackupController::Verify(const json& live, const EtcdBackupObject& backup) {
  if (options_.operator_image.empty() || !options_.may_act()) return Status::Ok();
  const std::string& ns = backup.namespace_;
  const std::string pod_name = resources::VerifyPodName(backup.name);
  const json status = live.value("status", json::object());
  auto finish = [&](bool verified, const std::string& message) -> Status {
    json st = status;
    st["verified"] = verified;
    st["verificationMessage"] = message;
    CAIRN_RETURN_IF_ERROR(WriteStatus(ns, backup.name, st));
    Report(live, verified ? EventType::kNormal : EventType::kWarning, verified ? "BackupVerified" : "BackupVerificationFailed",
           message);
    Status deleted = client_.Delete(types::Pod(), ns, pod_name);
    return deleted.code() == StatusCode::kNotFound ? Status::Ok() : deleted;
  };
  auto pod = client_.Get(types::Pod(), ns, pod_name);
  if (!pod.ok()) {
    if (pod.status().code() != StatusCode::kNotFound) return pod.status();
    auto cluster_obj = client_.Get(types::EtcdCluster(), ns, backup.cluster);
    auto cluster = cluster_obj.ok() ? ClusterSpec::Parse(*cluster_obj, options_.default_image_repository)
                                    : Result<ClusterSpec>(cluster_obj.status());
    auto destination = BackupDestination::Parse(status.value("destination", json()), "status.destination");
    if (!cluster.ok() || !destination.ok()) {
      return finish(false, "cannot verify: " + (cluster.ok() ? destination.status() : cluster.status()).message());
    }
    resources::VerifyPodParams params;
    params.ns = ns;
    params.backup = backup.name;
    params.backup_uid = backup.uid;
    params.cairn_image = cluster->image;
    params.image_pull_policy = cluster->image_pull_policy;
    params.operator_image = options_.operator_image;
    params.destination = *destination;
    params.manifest = backup::ManifestName(status.value("objectKey", ""));
    params.resources = cluster->resources;
    params.placement = resources::PlacementOf(*cluster);
    auto made = client_.Create(types::Pod(), ns, resources::VerifyPod(params));
    if (!made.ok() && made.status().code() != StatusCode::kAlreadyExists) return made.status();
    return Status::Unavailable("verifying " + ns + "/" + backup.name + ": scratch Pod created");
  }
  const json pod_status = pod->value("status", json::object());
  const std::string phase = pod_status.value("phase", "Pending");
  const TimePoint created = ParseTime(pod->value("metadata", json::object()).value("creationTimestamp", ""));
  if (phase == "Failed" || phase == "Succeeded") {
    return finish(false, "the scratch restore ended (Pod phase " + phase + ") before it could be asked for HashKV");
  }
  const std::string url = options_.verify_url(*pod);
  if (phase == "Running" && !url.empty()) {
    // A snapshot keeps the auth store: a backup of a cluster with auth on restores with
    // it, and is asked as the cluster is (a deleted cluster's, without credentials).
    ClientAuth auth;
    if (auto obj = client_.Get(types::EtcdCluster(), ns, backup.cluster); obj.ok()) {
      if (auto spec = ClusterSpec::Parse(*obj, options_.default_image_repository); spec.ok()) {
        auto credentials = OperatorClientAuth(ClientSecrets(client_, *spec), *spec);
        if (!credentials.ok()) return finish(false, "cannot verify: " + credentials.status().message());
        auth = *credentials;
      }
    }
    MembershipClient scratch({url}, options_.member_timeout, ClientTls{}, auth);
    const int64_t revision = status.value("revision", int64_t{0});
    auto hash = scratch.HashKV(url, revision);
    if (hash.ok()) {
      if (!status.contains("hashKV")) {
        return finish(true, "restored into a scratch member at revision " + std::to_string(revision) +
                                " (no HashKV was recorded to compare)");
      }
      const uint32_t want = status.value("hashKV", uint32_t{0});
      if (hash->hash == want) {
        return finish(true, "restored into a scratch member: HashKV at revision " + std::to_string(revision) +
                                " matches the cluster's (" + std::to_string(want) + ")");
      }
      return finish(false, "restored into a scratch member: HashKV at revision " + std::to_string(revision) + " is " +
                               std::to_string(hash->hash) + ", the cluster's was " + std::to_string(want));
    }
    if (hash.status().code() != StatusCode::kUnavailable && hash.status().code() != StatusCode::kDeadlineExceeded) {
      return finish(false, "the scratch member refused HashKV: " + hash.status().ToString());
    }
  }
  if (created != TimePoint{} && options_.clock() - created > options_.verify_timeout) {
    return finish(false, "the scratch restore did not answer within " +
                             std::to_string(options_.verify_timeout.count()) + " s");
  }
  return Status::Unavailable("verifying " + ns + "/" + backup.name + ": waiting for the scratch member");
}

Status BackupController::RemoveObjectsWithoutManifest(backup::ObjectStore& store, const std::string& prefix,
                                                      const std::string& cluster_key) {
  // Held throughout, so no run of this cluster starts meanwhile: a run's object exists
  // without its manifest for a moment, and must not be taken for an orphan.
  std::lock_guard<std::mutex> lock(mu_);
  if (running_.count(cluster_key)) return Status::Ok();
  auto keys = store.List(prefix);
  if (!keys.ok()) return keys.status();
  for (const auto& key : backup::ObjectsWithoutManifest(*keys, prefix)) {
    CAIRN_RETURN_IF_ERROR(store.Delete(key));
    log::Log(spdlog::level::info, "removed an object without a manifest (a run cut off before it finished)",
             {{"object", store.Url(key)}});
  }
  return Status::Ok();
}

Result<std::chrono::milliseconds> BackupController::ReconcileSchedule(const std::string& ns, const std::string& name) {
  auto cluster_obj = client_.Get(types::EtcdCluster(), ns, name);
  if (!cluster_obj.ok()) {
    if (cluster_obj.status().code() == StatusCode::kNotFound) {
      EnsureShipper({{"metadata", {{"namespace", ns}, {"name", name}}}}, std::nullopt);
      return std::chrono::milliseconds(0);
    }
    return cluster_obj.status();
  }
  auto policy = BackupPolicy::Parse(*cluster_obj);
  if (!policy.ok()) {
    Report(*cluster_obj, EventType::kWarning, "InvalidBackupPolicy", policy.status().message());
    EnsureShipper(*cluster_obj, std::nullopt);
    return std::chrono::milliseconds(0);
  }
  if (!*policy) {
    EnsureShipper(*cluster_obj, std::nullopt);
    return std::chrono::milliseconds(0);
  }
  auto schedule = backup::CronSchedule::Parse((*policy)->schedule, (*policy)->time_zone);
  if (!schedule.ok()) {
    Report(*cluster_obj, EventType::kWarning, "InvalidBackupSchedule", schedule.status().message());
    return std::chrono::milliseconds(0);
  }
  std::map<std::string, json> by_name;
  auto plan = PlanFor(*cluster_obj, **policy, *schedule, &by_name);
  if (!plan.ok()) return plan.status();
  const auto requeue = std::chrono::duration_cast<std::chrono::milliseconds>(plan->requeue_after);
  if (!options_.may_act()) return requeue;

  if (plan->create) {
    CAIRN_RETURN_IF_ERROR(CreateScheduled(*cluster_obj, backup::ScheduledBackupName(name, *plan->create), *plan->create,
                                          (*policy)->verify));
  }
  if ((*policy)->destination.pvc) {
    // The operator cannot reach the claim: each backup Pod applies retention (and removes
    // what an interrupted run left) when it runs; deltas are not shipped to a claim.
    // Expired backups without an object (failed ones) need no Pod.
    for (const auto& expired : plan->expire) {
      if (by_name[expired].value("status", json::object()).contains("objectKey")) continue;
      Status deleted = client_.Delete(types::EtcdBackup(), ns, expired);
      if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
    }
    EnsureShipper(*cluster_obj, std::nullopt);
    return requeue;
  }
  auto store = OpenStore(ns, (*policy)->destination);
  if (!store.ok()) return store.status();
  const std::set<std::string> kept = KeptObjects(by_name, plan->expire);
  for (const auto& expired : plan->expire) {
    const json st = by_name[expired].value("status", json::object());
    const std::string key = st.value("objectKey", "");
    if (!key.empty() && !kept.count(key)) CAIRN_RETURN_IF_ERROR(backup::ExpireFullBackup(**store, key));
    Status deleted = client_.Delete(types::EtcdBackup(), ns, expired);
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
    log::Log(spdlog::level::info, "backup expired", {{"backup", ns + "/" + expired}, {"object", key}});
  }
  const std::string prefix = (*policy)->destination.s3.prefix + ns + "/" + name + "/";
  CAIRN_RETURN_IF_ERROR(RemoveObjectsWithoutManifest(**store, prefix, ns + "/" + name));
  // Delta segments that end at or before the oldest full backup left serve no restore.
  auto keys = (*store)->List(prefix);
  if (!keys.ok()) return keys.status();
  std::optional<int64_t> oldest;
  for (const auto& key : *keys) {
    if (!backup::IsManifestName(key)) continue;
    if (auto rev = backup::FullBackupRevision(prefix, backup::ObjectOfManifest(key))) {
      oldest = std::min(oldest.value_or(*rev), *rev);
    }
  }
  if (oldest) {
    for (const auto& key : backup::ExpiredDeltaSegments(*keys, prefix, *oldest)) {
      CAIRN_RETURN_IF_ERROR((*store)->Delete(key));
    }
  }
  EnsureShipper(*cluster_obj, *policy);
  return requeue;
}

Result<backup::SchedulePlan> BackupController::PlanFor(const json& cluster_obj, const BackupPolicy& policy,
                                                       const backup::CronSchedule& schedule,
                                                       std::map<std::string, json>* by_name) {
  const json meta = cluster_obj.value("metadata", json::object());
  const std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
  const std::string selector = std::string(naming::kLabelInstance) + "=" + name + "," + kLabelScheduled + "=true";
  auto listed = client_.List(types::EtcdBackup(), ns, selector);
  if (!listed.ok()) return listed.status();
  std::vector<EtcdBackupObject> scheduled;
  for (const auto& item : listed->items) {
    auto b = EtcdBackupObject::Parse(item);
    if (!b.ok() || b->cluster != name) continue;
    (*by_name)[b->name] = item;
    scheduled.push_back(std::move(*b));
  }
  const auto created = ParseTime(meta.value("creationTimestamp", ""));
  return backup::PlanSchedule(schedule, policy, created, scheduled, options_.clock());
}

Status BackupController::CreateScheduled(const json& cluster_obj, const std::string& backup_name, TimePoint slot,
                                         bool verify) {
  const json meta = cluster_obj.value("metadata", json::object());
  const std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
  json obj = {{"apiVersion", types::EtcdBackup().ApiVersion()},
              {"kind", "EtcdBackup"},
              {"metadata",
               {{"name", backup_name},
                {"namespace", ns},
                {"labels", {{naming::kLabelInstance, name}, {kLabelScheduled, "true"}}},
                {"annotations", {{kAnnotationScheduledAt, FormatTime(slot)}}},
                {"ownerReferences",
                 json::array({{{"apiVersion", types::EtcdCluster().ApiVersion()},
                               {"kind", "EtcdCluster"},
                               {"name", name},
                               {"uid", meta.value("uid", "")}}})}}},
              {"spec", {{"clusterName", name}, {"verify", verify}}}};
  auto made = client_.Create(types::EtcdBackup(), ns, obj);
  if (!made.ok() && made.status().code() != StatusCode::kAlreadyExists) return made.status();
  if (made.ok()) Report(cluster_obj, EventType::kNormal, "BackupScheduled", "created EtcdBackup " + backup_name);
  return Status::Ok();
}

void BackupController::EnsureShipper(const json& cluster_obj, const std::optional<BackupPolicy>& policy) {
  const std::string key = KeyOf(cluster_obj);
  const bool wanted = policy && !policy->suspend && policy->delta_period.count() > 0;
  const std::string spec = cluster_obj.value("spec", json::object()).dump();
  std::jthread retired;  // joined outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shippers_.find(key);
  if (it != shippers_.end() && (!wanted || it->second.spec != spec)) {
    retired = std::move(it->second.thread);
    retired.request_stop();
    shippers_.erase(it);
    it = shippers_.end();
  }
  if (wanted && it == shippers_.end()) {
    shippers_[key] = {spec, std::jthread([this, cluster_obj, p = *policy](std::stop_token stop) {
                        ShipDeltas(stop, cluster_obj, p);
                      })};
  }
  // `retired` joins here, after the lock: its thread may be in the middle of an upload.
}

void BackupController::ShipDeltas(std::stop_token stop, json cluster_obj, BackupPolicy policy) {
  const std::string key = KeyOf(cluster_obj);
  auto cluster = ClusterSpec::Parse(cluster_obj, options_.default_image_repository);
  auto compression = backup::ParseCompression(policy.compression);
  if (!cluster.ok() || !compression) return;  // the schedule pass reports an invalid spec
  const std::string ns = cluster->namespace_;
  auto pause = [&](std::chrono::milliseconds d) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> lock(m);
    cv.wait_for(lock, stop, d, [] { return false; });
  };
  const auto retry = std::max<std::chrono::milliseconds>(policy.delta_period, options_.busy_retry);
  // A full backup requested for a gap gets this long to succeed before another is.
  constexpr auto kGapBackupEvery = std::chrono::minutes(10);
  TimePoint gap_backup_requested{};
  while (!stop.stop_requested()) {
    if (!options_.may_act()) {
      pause(retry);
      continue;
    }
    auto store = OpenStore(ns, policy.destination);
    if (!store.ok()) {
      log::Log(spdlog::level::warn, "delta backup cannot open its destination",
               {{"cluster", key}, {"error", store.status().ToString()}});
      pause(retry);
      continue;
    }
    const ChildObjects secrets = ClientSecrets(client_, *cluster);
    auto auth = OperatorClientAuth(secrets, *cluster);
    if (!auth.ok()) {
      log::Log(spdlog::level::warn, "delta backup has no credentials", {{"cluster", key}, {"error", auth.status().ToString()}});
      pause(retry);
      continue;
    }
    MembershipClient members(options_.endpoints(*cluster), options_.member_timeout,
                             OperatorClientTls(secrets, *cluster, cluster->tls.client.enabled), *auth);
    backup::DeltaShipperOptions o;
    o.prefix = policy.destination.s3.prefix + ns + "/" + cluster->name + "/";
    o.endpoints = options_.endpoints(*cluster);
    o.compression = *compression;
    o.period = policy.delta_period;
    o.now = options_.clock;
    if (options_.metrics != nullptr) {
      o.on_period_end = [this, key](const backup::DeltaShipperStats& s) {
        options_.metrics->SetDeltaBackup(key, s.synced, s.shipped_revision);
      };
    }
    backup::DeltaShipper shipper(members, **store, o);
    Status st = shipper.Run([&] { return stop.stop_requested() || !options_.may_act(); });
    if (st.ok()) continue;
    if (st.code() == StatusCode::kOutOfRange && options_.clock() - gap_backup_requested > kGapBackupEvery) {
      // The history the next segment needs is compacted: a full backup now closes the gap
      // (one at a time: the next segment starts after it once it succeeded).
      Report(cluster_obj, EventType::kWarning, "DeltaBackupGap", st.message());
      gap_backup_requested = options_.clock();
      // Its own name: the schedule's backup of this minute may exist, taken before the gap.
      const TimePoint minute = std::chrono::floor<std::chrono::minutes>(gap_backup_requested);
      const std::string stamp = backup::ScheduledBackupName("", minute).substr(1);
      Status made = CreateScheduled(cluster_obj, cluster->name + "-delta-gap-" + stamp, minute, policy.verify);
      if (!made.ok()) {
        log::Log(spdlog::level::warn, "delta backup gap: no full backup requested",
                 {{"cluster", key}, {"error", made.ToString()}});
      }
    } else if (st.code() != StatusCode::kFailedPrecondition) {
      log::Log(spdlog::level::warn, "delta backup stopped", {{"cluster", key}, {"error", st.ToString()}});
    }
    // FailedPrecondition: no full backup yet to follow; the schedule's first one will be.
    pause(retry);
  }
  if (options_.metrics != nullptr) options_.metrics->ClearDeltaBackup(key);
}

}  // namespace cairn::op
