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
  return o.str();
}

}  // namespace cairn::op
