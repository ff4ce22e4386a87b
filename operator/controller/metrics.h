// Metrics: the operator's Prometheus metrics, rendered in the text exposition format
// (version 0.0.4):
//   cairn_operator_reconcile_total{result="success|requeue|error"}   counter
//   cairn_operator_reconcile_errors_total                             counter
//   cairn_operator_reconcile_duration_seconds                         histogram
//   cairn_operator_actions_total{action="..."}                        counter
//   cairn_operator_leader                                             gauge (1 leading)
//   cairn_operator_certificate_expiry_seconds{cluster="ns/name"}      gauge: until the
//       earliest notAfter of a cluster's CA and certificates (spec.tls), for alerting
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
};

}  // namespace cairn::op
