// Metrics text exposition: counters by result, errors, cumulative histogram buckets with
// +Inf/sum/count, action counters and the leader gauge.
#include <gtest/gtest.h>

#include "operator/controller/metrics.h"

namespace cairn::op {
namespace {

TEST(Metrics, RendersPrometheusTextFormat) {
  Metrics m;
  m.RecordReconcile("success", std::chrono::milliseconds(3));
  m.RecordReconcile("error", std::chrono::milliseconds(30));
  m.RecordReconcile("requeue", std::chrono::seconds(20));
  m.RecordAction("AddLearner");
  m.SetLeader(true);
  std::string t = m.Render();
  EXPECT_NE(t.find("# TYPE cairn_operator_reconcile_total counter\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_reconcile_total{result=\"success\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_reconcile_total{result=\"error\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_reconcile_errors_total 1\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_reconcile_duration_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_reconcile_duration_seconds_bucket{le=\"0.05\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_reconcile_duration_seconds_bucket{le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_reconcile_duration_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_reconcile_duration_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_actions_total{action=\"AddLearner\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_leader 1\n"), std::string::npos);
}

TEST(Metrics, CertificateExpiryIsAGaugePerClusterUntilCleared) {
  Metrics m;
  m.SetCertificateExpiry("db/etcd", 86400);
  m.SetCertificateExpiry("db/other", 3600.5);
  std::string t = m.Render();
  EXPECT_NE(t.find("# TYPE cairn_operator_certificate_expiry_seconds gauge\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_certificate_expiry_seconds{cluster=\"db/etcd\"} 86400\n"), std::string::npos);
  EXPECT_NE(t.find("cairn_operator_certificate_expiry_seconds{cluster=\"db/other\"} 3600.5\n"), std::string::npos);
  m.ClearCertificateExpiry("db/etcd");
  EXPECT_EQ(m.Render().find("cluster=\"db/etcd\""), std::string::npos);
}

}  // namespace
}  // namespace cairn::op
