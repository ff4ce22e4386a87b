#include "operator/controller/metrics.h"

#include <sstream>

namespace cairn::op {

void Metrics::RecordReconcile(const std::string& result, std::chrono::duration<double> took) {
  std::lock_guard<std::mutex> lock(mu_);
  ++results_[result];
  if (result == "error") ++errors_;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (took.count() <= kBuckets[i]) ++bucket_counts_[i];
  }
  ++count_;
  sum_ += took.count();
}

void Metrics::RecordAction(const std::string& action) {
  std::lock_guard<std::mutex> lock(mu_);
  ++actions_[action];
}

void Metrics::SetLeader(bool leading) {
  std::lock_guard<std::mutex> lock(mu_);
  leader_ = leading;
}

void Metrics::SetCertificateExpiry(const std::string& cluster, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  certificate_expiry_[cluster] = seconds;
}

void Metrics::ClearCertificateExpiry(const std::string& cluster) {
  std::lock_guard<std::mutex> lock(mu_);
  certificate_expiry_.erase(cluster);
}

void Metrics::RecordBackup(const std::string& cluster, bool succeeded, std::chrono::duration<double> took,
                           uint64_t size, std::chrono::system_clock::time_point finished) {
  std::lock_guard<std::mutex> lock(mu_);
  BackupStats& b = backups_[cluster];
  b.last_duration = took.count();
  if (succeeded) {
    ++b.successes;
    b.last_size = size;
    b.last_success = std::chrono::duration<double>(finished.time_since_epoch()).count();
  } else {
    ++b.failures;
  }
}

void Metrics::SetDeltaBackup(const std::string& cluster, std::chrono::system_clock::time_point synced,
                             int64_t revision) {
  std::lock_guard<std::mutex> lock(mu_);
  deltas_[cluster] = {std::chrono::duration<double>(synced.time_since_epoch()).count(), revision};
}

void Metrics::ClearDeltaBackup(const std::string& cluster) {
  std::lock_guard<std::mutex> lock(mu_);
  deltas_.erase(cluster);
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream o;
  o << "# HELP cairn_operator_reconcile_total Reconcile passes by result.\n"
    << "# TYPE cairn_operator_reconcile_total counter\n";
  for (const char* r : {"success", "requeue", "error"}) {
    auto it = results_.find(r);
    o << "cairn_operator_reconcile_total{result=\"" << r << "\"} " << (it == results_.end() ? 0 : it->second) << "\n";
  }
  o << "# HELP cairn_operator_reconcile_errors_total Reconcile passes that failed.\n"
    << "# TYPE cairn_operator_reconcile_errors_total counter\n"
    << "cairn_operator_reconcile_errors_total " << errors_ << "\n";
  o << "# HELP cairn_operator_reconcile_duration_seconds Time per reconcile pass.\n"
    << "# TYPE cairn_operator_reconcile_duration_seconds histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    o << "cairn_operator_reconcile_duration_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << bucket_counts_[i] << "\n";
  }
  o << "cairn_operator_reconcile_duration_seconds_bucket{le=\"+Inf\"} " << count_ << "\n"
    << "cairn_operator_reconcile_duration_seconds_sum " << sum_ << "\n"
    << "cairn_operator_reconcile_duration_seconds_count " << count_ << "\n";
  o << "# HELP cairn_operator_actions_total Actions executed by kind.\n"
    << "# TYPE cairn_operator_actions_total counter\n";
  for (const auto& [a, n] : actions_) o << "cairn_operator_actions_total{action=\"" << a << "\"} " << n << "\n";
  o << "# HELP cairn_operator_leader Whether this replica holds the leader Lease.\n"
    << "# TYPE cairn_operator_leader gauge\n"
    << "cairn_operator_leader " << (leader_ ? 1 : 0) << "\n";
  o << "# HELP cairn_operator_certificate_expiry_seconds Seconds until a cluster's earliest certificate expires.\n"
    << "# TYPE cairn_operator_certificate_expiry_seconds gauge\n";
  for (const auto& [cluster, seconds] : certificate_expiry_) {
    o << "cairn_operator_certificate_expiry_seconds{cluster=\"" << cluster << "\"} " << seconds << "\n";
  }
  auto gauges = [&](const auto& per_cluster, const char* name, const char* help, auto value) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n";
    for (const auto& [cluster, b] : per_cluster) o << name << "{cluster=\"" << cluster << "\"} " << value(b) << "\n";
  };
  gauges(backups_, "cairn_operator_backup_last_success_timestamp_seconds",
         "Unix time of a cluster's last successful backup.", [](const BackupStats& b) { return b.last_success; });
  gauges(backups_, "cairn_operator_backup_last_duration_seconds", "How long a cluster's last backup run took.",
         [](const BackupStats& b) { return b.last_duration; });
  gauges(backups_, "cairn_operator_backup_last_size_bytes", "Size of a cluster's last good backup object.",
         [](const BackupStats& b) { return b.last_size; });
  o << "# HELP cairn_operator_backup_runs_total Finished backup runs by result.\n"
    << "# TYPE cairn_operator_backup_runs_total counter\n";
  for (const auto& [cluster, b] : backups_) {
    o << "cairn_operator_backup_runs_total{cluster=\"" << cluster << "\",result=\"success\"} " << b.successes << "\n"
      << "cairn_operator_backup_runs_total{cluster=\"" << cluster << "\",result=\"failure\"} " << b.failures << "\n";
  }
  gauges(deltas_, "cairn_operator_backup_delta_synced_timestamp_seconds",
         "Unix time at which every change a cluster's delta shipper had seen was last stored.",
         [](const DeltaStats& d) { return d.synced; });
  gauges(deltas_, "cairn_operator_backup_delta_revision", "The last revision stored in a cluster's delta segments.",
         [](const DeltaStats& d) { return d.revision; });
  return o.str();
}

}  // namespace cairn::op
