// Metrics: the operator's Prometheus metrics, rendered in the text exposition format
// (version 0.0.4):
//   cairn_operator_reconcile_total{result="success|requeue|error"}   counter
//   cairn_operator_reconcile_errors_total                             counter
//   cairn_operator_reconcile_duration_seconds                         histogram
//   cairn_operator_actions_total{action="..."}                        counter
//   cairn_operator_leader                                             gauge (1 leading)
//   cairn_operator_certificate_expiry_seconds{cluster="ns/name"}      gauge: until the
//       earliest notAfter of a cluster's CA and certificates (spec.tls), for alerting
//   cairn_operator_backup_last_success_timestamp_seconds{cluster}     gauge (Unix time)
//   cairn_operator_backup_last_duration_seconds{cluster}              gauge: the last backup's
//   cairn_operator_backup_last_size_bytes{cluster}                    gauge: the last good object's
//   cairn_operator_backup_runs_total{cluster,result="success|failure"} counter
//   cairn_operator_backup_delta_synced_timestamp_seconds{cluster}    gauge (Unix time): the
//       last time every change the delta shipper had seen was stored; time() minus it is
//       the delta lag (what a restore would lose now)
//   cairn_operator_backup_delta_revision{cluster}                    gauge: the last
//       revision stored in a delta segment
// Thread-safety: all methods are thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace cairn::op {

class Metrics {
 public:
  void RecordReconcile(const std::string& result, std::chrono::duration<double> took);
  void RecordAction(const std::string& action);
  void SetLeader(bool leading);
  // `cluster` is "namespace/name"; Clear when it has no certificates (or is gone).
  void SetCertificateExpiry(const std::string& cluster, double seconds);
  void ClearCertificateExpiry(const std::string& cluster);
  // One finished backup run of `cluster` ("namespace/name"); size only counts on success.
  void RecordBackup(const std::string& cluster, bool succeeded, std::chrono::duration<double> took, uint64_t size,
                    std::chrono::system_clock::time_point finished);
  // The delta shipper of `cluster` at a period's end; Clear when it stops.
  void SetDeltaBackup(const std::string& cluster, std::chrono::system_clock::time_point synced, int64_t revision);
  void ClearDeltaBackup(const std::string& cluster);
  std::string Render() const;

 private:
  static constexpr std::array<double, 10> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> results_;
  std::map<std::string, uint64_t> actions_;
  uint64_t errors_ = 0;
  std::array<uint64_t, kBuckets.size()> bucket_counts_{};
  uint64_t count_ = 0;
  double sum_ = 0;
  bool leader_ = false;
  std::map<std::string, double> certificate_expiry_;
  struct BackupStats {
    double last_success = 0, last_duration = 0;
    uint64_t last_size = 0, successes = 0, failures = 0;
  };
  std::map<std::string, BackupStats> backups_;
  struct DeltaStats {
    double synced = 0;
    int64_t revision = 0;
  };
  std::map<std::string, DeltaStats> deltas_;
};

}  // namespace cairn::op
