// BackupController: EtcdBackup resources and the schedules in EtcdCluster spec.backup.
//
// Two kinds of keys share one WorkQueue (so one key is never handled by two workers):
//   "backup:<ns>/<name>"   one EtcdBackup: Pending -> Running (status written first, with
//                          the object's resourceVersion as precondition, so two operator
//                          instances can never both start it) -> a runner thread streams
//                          the snapshot to the destination (full_backup.h) -> Succeeded
//                          or Failed with the reason. A Running backup with no runner in
//                          this process was cut off by an operator restart: it is marked
//                          Failed (reason Interrupted), never recorded as good; its object,
//                          if any, has no manifest and is not a backup.
//                          Once Succeeded (and spec.verify), the backup is restored into a
//                          scratch Pod (resources/verify_pod.h); HashKV at its revision
//                          must equal the recorded one: status.verified, a Warning Event
//                          when not; then the Pod is deleted.
//                          To a pvc destination, the run is a Pod instead of a thread
//                          (resources/backup_pod.h: "<backup>-backup", the operator's image,
//                          the claim mounted): created once Running is written, its
//                          termination message recorded like an S3 run's result, then
//                          deleted. It outlives an operator restart, which resumes
//                          following it; one that stays Pending past
//                          backup_pod_start_timeout fails the backup (BackupPodNotStarted).
//                          Scheduled ones also apply the schedule's retention on the claim
//                          (--expire), and their Pod's result names what it expired.
//   "schedule:<ns>/<name>" one EtcdCluster with spec.backup: create the EtcdBackup of the
//                          latest due slot, expire what retention lets go (manifest, then
//                          object, then the EtcdBackup), remove objects left without a
//                          manifest by an interrupted run, requeue until the next slot.
//                          (A pvc destination: the next backup Pod expires and removes.)
//                          With spec.backup.deltaPeriod (10 s by default to S3; 0s turns it
//                          off; suspend stops it too) it also keeps one DeltaShipper
//                          thread per cluster running (backup/delta_shipper.h: delta
//                          segments beside the full backups), restarted when the spec
//                          changes, and deletes the segments no kept full backup needs.
//                          A shipper whose start revision is compacted creates a scheduled
//                          EtcdBackup <cluster>-delta-gap-<yyyymmddhhmm>, whose full backup
//                          closes the gap; until one exists it waits and retries.
// At most one backup runs per cluster (others wait as Pending and look again every
// busy_retry; a Running EtcdBackup of the cluster, whatever its destination, counts). Runs are on their own threads, so a long upload never holds a worker, and
// this controller shares nothing with the cluster Reconciler: backups never delay
// reconciling.
// `may_act` is asked before every write; a runner that loses leadership finishes its
// upload but writes no status (the next leader finds it Running and marks it Interrupted).
// Thread-safety: Run once; Synced() and Idle() from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "operator/api/backup_spec.h"
#include "operator/api/cluster_spec.h"
#include "operator/backup/object_store.h"
#include "operator/backup/schedule_plan.h"
#include "operator/controller/event_recorder.h"
#include "operator/controller/metrics.h"
#include "operator/controller/work_queue.h"
#include "operator/etcd/membership_client.h"
#include "operator/kube/client.h"
#include "operator/kube/informer.h"

namespace cairn::op {

struct BackupControllerOptions {
  std::string ns;  // empty: all namespaces
  int workers = 1;
  kube::InformerOptions informer;
  std::function<TimePoint()> clock = [] { return Clock::now(); };
  std::function<bool()> may_act = [] { return true; };
  Metrics* metrics = nullptr;
  EventRecorder* events = nullptr;
  std::string default_image_repository = "cairn";
  // Client URLs of a cluster's members, in the order to ask them; default: the members'
  // DNS names (every ordinal the StatefulSet may run).
  std::function<std::vector<std::string>(const ClusterSpec&)> endpoints;
  std::chrono::milliseconds member_timeout{5000};
  std::chrono::seconds snapshot_limit{3600};
  std::chrono::milliseconds busy_retry{5000};  // a Pending backup waiting for its cluster's run
  // Verification (spec.verify): the scratch Pod runs this image's fetch-backup; empty
  // leaves backups unverified. verify_url: where the scratch member answers (default
  // http://<podIP>:2379); verify_timeout: how long the Pod may take before verified=false.
  std::string operator_image;
  std::function<std::string(const nlohmann::json& pod)> verify_url;
  std::chrono::seconds verify_timeout{900};
  // pvc destinations: how long a backup Pod may stay Pending (unschedulable, its claim
  // attached to another node, its image not pulled) before the backup is Failed.
  std::chrono::seconds backup_pod_start_timeout{600};
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{60000};
};

class BackupController {
 public:
  BackupController(kube::Client& client, BackupControllerOptions options);
  ~BackupController();

  void Run(std::stop_token stop);
  bool Synced() const;
  // No runner active (for tests and orderly shutdown).
  bool Idle() const;

  // One pass over one key; what the workers run. Public for tests.
  Status ReconcileBackup(const std::string& ns, const std::string& name);
  Result<std::chrono::milliseconds> ReconcileSchedule(const std::string& ns, const std::string& name);

 private:
  struct RunRequest {
    std::string ns, backup, cluster_key;
    ClusterSpec cluster;
    BackupDestination destination;
    backup::Compression compression;
    std::string version;
  };
  void Worker(std::stop_token stop);
  void StartRun(RunRequest request);
  void RunBackup(const RunRequest& request);
  Result<std::unique_ptr<backup::ObjectStore>> OpenStore(const std::string& ns, const BackupDestination& d);
  Status WriteStatus(const std::string& ns, const std::string& name, const nlohmann::json& status);
  Status Verify(const nlohmann::json& backup, const EtcdBackupObject& parsed);
  // A Running backup to a pvc destination: creates its Pod if missing, records its
  // result once it ended (or a failure once it waited too long to start), deletes it.
  Status FollowBackupPod(const nlohmann::json& live, const EtcdBackupObject& backup, const PvcDestination& pvc);
  Status CreateBackupPod(const nlohmann::json& live, const EtcdBackupObject& backup, const PvcDestination& pvc);
  Status DeleteExpired(const std::string& ns, const std::string& cluster, const nlohmann::json& expired_keys);
  // The schedule's step for the cluster, from its scheduled EtcdBackups (also returned by name).
  Result<backup::SchedulePlan> PlanFor(const nlohmann::json& cluster_obj, const BackupPolicy& policy,
                                       const backup::CronSchedule& schedule, std::map<std::string, nlohmann::json>* by_name);
  // Objects under the cluster's prefix whose manifest is missing: what a run cut off
  // between its object and its manifest (an operator crash) leaves behind.
  Status RemoveObjectsWithoutManifest(backup::ObjectStore& store, const std::string& prefix,
                                      const std::string& cluster_key);
  void Report(const nlohmann::json& object, EventType type, const std::string& reason, const std::string& message);
  // An EtcdBackup `name` of the cluster, scheduled for `slot` (retention counts it with
  // the schedule's); AlreadyExists counts as created.
  Status CreateScheduled(const nlohmann::json& cluster_obj, const std::string& name, TimePoint slot, bool verify);
  // Starts, restarts (the cluster's spec changed) or stops the cluster's delta shipper.
  void EnsureShipper(const nlohmann::json& cluster_obj, const std::optional<BackupPolicy>& policy);
  void ShipDeltas(std::stop_token stop, nlohmann::json cluster_obj, BackupPolicy policy);

  kube::Client& client_;
  BackupControllerOptions options_;
  WorkQueue queue_;
  std::vector<std::unique_ptr<kube::Informer>> informers_;

  std::mutex start_mu_;  // held from the check that no backup of the cluster runs to Running written
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::map<std::string, std::string> running_;  // guarded by mu_: cluster "ns/name" -> backup "ns/name"
  std::vector<std::jthread> runners_;           // guarded by mu_; joined at destruction
  struct Shipper {
    std::string spec;  // the cluster's spec it runs for
    std::jthread thread;
  };
  std::map<std::string, Shipper> shippers_;  // guarded by mu_: cluster "ns/name" -> its delta shipper
};

}  // namespace cairn::op
