#include "operator/backup/schedule_plan.h"

#include <gtest/gtest.h>

#include "operator/api/time_format.h"

namespace cairn::op::backup {
namespace {

using namespace std::chrono_literals;

TimePoint At(const std::string& t) { return ParseTime(t); }

EtcdBackupObject Scheduled(const std::string& slot, BackupPhase phase, const std::string& completed = "") {
  EtcdBackupObject b;
  b.name = ScheduledBackupName("etcd", At(slot));
  b.cluster = "etcd";
  b.scheduled_at = At(slot);
  b.phase = phase;
  b.completed = completed.empty() ? TimePoint{} : At(completed);
  return b;
}

BackupPolicy Policy(int keep_last = 0) {
  BackupPolicy p;
  p.schedule = "0 * * * *";
  p.keep_last = keep_last;
  return p;
}

const CronSchedule kHourly = CronSchedule::Parse("0 * * * *").value();

TEST(SchedulePlanTest, TheFirstSlotAfterCreationIsCreatedOnceDue) {
  const TimePoint created = At("2026-12-07T08:20:00Z");
  auto early = PlanSchedule(kHourly, Policy(), created, {}, At("2026-12-07T08:59:59Z"));
  EXPECT_FALSE(early.create);
  EXPECT_EQ(early.requeue_after, 2s);  // the slot, plus one second
  auto due = PlanSchedule(kHourly, Policy(), created, {}, At("2026-12-07T09:00:05Z"));
  ASSERT_TRUE(due.create);
  EXPECT_EQ(*due.create, At("2026-12-07T09:00:00Z"));
  EXPECT_EQ(ScheduledBackupName("etcd", *due.create), "etcd-202612070900");
}

TEST(SchedulePlanTest, AnOutageGetsOneCatchUpBackupForTheLatestSlot) {
  const std::vector<EtcdBackupObject> done = {
      Scheduled("2026-12-07T09:00:00Z", BackupPhase::kSucceeded, "2026-12-07T09:01:00Z")};
  auto plan = PlanSchedule(kHourly, Policy(), At("2026-12-07T08:20:00Z"), done, At("2026-12-07T13:30:00Z"));
  ASSERT_TRUE(plan.create);
  EXPECT_EQ(*plan.create, At("2026-12-07T13:00:00Z"));
  // Once that slot has its backup, nothing more until the next.
  auto with_it = done;
  with_it.push_back(Scheduled("2026-12-07T13:00:00Z", BackupPhase::kPending));
  EXPECT_FALSE(PlanSchedule(kHourly, Policy(), At("2026-12-07T08:20:00Z"), with_it, At("2026-12-07T13:30:00Z")).create);
}

TEST(SchedulePlanTest, SuspendStopsCreationButNotRetention) {
  std::vector<EtcdBackupObject> done;
  for (int h = 9; h <= 12; ++h) {
    const std::string slot = "2026-12-07T" + std::string(h < 10 ? "0" : "") + std::to_string(h) + ":00:00Z";
    done.push_back(Scheduled(slot, BackupPhase::kSucceeded, slot));
  }
  BackupPolicy p = Policy(2);
  p.suspend = true;
  auto plan = PlanSchedule(kHourly, p, At("2026-12-07T08:20:00Z"), done, At("2026-12-07T15:10:00Z"));
  EXPECT_FALSE(plan.create);
  EXPECT_EQ(plan.expire, (std::vector<std::string>{"etcd-202612070900", "etcd-202612071000"}));
}

TEST(SchedulePlanTest, RunningBackupsAreNeverExpired) {
  std::vector<EtcdBackupObject> backups = {
      Scheduled("2026-12-07T09:00:00Z", BackupPhase::kSucceeded, "2026-12-07T09:01:00Z"),
      Scheduled("2026-12-07T10:00:00Z", BackupPhase::kRunning),
      Scheduled("2026-12-07T11:00:00Z", BackupPhase::kSucceeded, "2026-12-07T11:01:00Z")};
  auto plan = PlanSchedule(kHourly, Policy(1), At("2026-12-07T08:20:00Z"), backups, At("2026-12-07T11:30:00Z"));
  EXPECT_EQ(plan.expire, std::vector<std::string>{"etcd-202612070900"});
}

TEST(BackupSpecTest, DefaultsAndRefusals) {
  const nlohmann::json cluster = {
      {"spec",
       {{"backup",
         {{"schedule", "@daily"},
          {"retention", {{"keepLast", 3}, {"maxAge", "168h"}}},
          {"destination", {{"s3", {{"bucket", "b"}, {"prefix", "team"}, {"credentialsSecret", {{"name", "c"}}}}}}}}}}}};
  auto p = BackupPolicy::Parse(cluster);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->has_value());
  const BackupPolicy& policy = **p;
  EXPECT_EQ(policy.compression, "zstd");
  EXPECT_EQ(policy.time_zone, "UTC");
  EXPECT_EQ(policy.keep_last, 3);
  EXPECT_EQ(policy.max_age, std::chrono::hours(168));
  EXPECT_EQ(policy.delta_period, std::chrono::seconds(10)) << "deltas are on by default";
  EXPECT_EQ(policy.destination.s3.prefix, "team/");
  EXPECT_EQ(policy.destination.s3.Endpoint(), "https://s3.us-east-1.amazonaws.com");
  EXPECT_EQ(policy.destination.s3.access_key_id.key, "AWS_ACCESS_KEY_ID");
  EXPECT_EQ(policy.destination.s3.secret_access_key.key, "AWS_SECRET_ACCESS_KEY");
  EXPECT_FALSE(policy.destination.s3.session_token);
  EXPECT_FALSE(BackupPolicy::Parse({{"spec", nlohmann::json::object()}})->has_value());
  // Shapes the CRD forbids are errors, never exceptions.
  auto wrong_type = BackupPolicy::Parse({{"spec", {{"backup", {{"schedule", 5}}}}}});
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kInvalidArgument);
  auto no_bucket = BackupPolicy::Parse(
      {{"spec", {{"backup", {{"schedule", "@daily"}, {"destination", {{"s3", {{"credentialsSecret", {{"name", "c"}}}}}}}}}}}});
  EXPECT_EQ(no_bucket.status().code(), StatusCode::kInvalidArgument);
  nlohmann::json deltas_off = cluster;
  deltas_off["spec"]["backup"]["deltaPeriod"] = "0s";
  EXPECT_EQ((*BackupPolicy::Parse(deltas_off))->delta_period, std::chrono::seconds(0));
  deltas_off["spec"]["backup"]["deltaPeriod"] = "1m30s";
  EXPECT_EQ((*BackupPolicy::Parse(deltas_off))->delta_period, std::chrono::seconds(90));
  deltas_off["spec"]["backup"]["deltaPeriod"] = "soon";
  EXPECT_EQ(BackupPolicy::Parse(deltas_off).status().code(), StatusCode::kInvalidArgument);
  auto backup = EtcdBackupObject::Parse({{"metadata", {{"name", "x"}}}, {"spec", {{"clusterName", 3}}}});
  EXPECT_EQ(backup.status().code(), StatusCode::kInvalidArgument);
}

// A pvc destination: exactly one of s3 and pvc, a prefix that stays inside the volume, and
// no deltas (off by default, refused when asked for).
TEST(BackupSpecTest, APvcDestinationTakesNoDeltas) {
  nlohmann::json cluster = {
      {"spec", {{"backup", {{"schedule", "@daily"}, {"destination", {{"pvc", {{"claimName", "backups"}, {"prefix", "a/b"}}}}}}}}}};
  auto p = BackupPolicy::Parse(cluster);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const BackupDestination& d = (*p)->destination;
  ASSERT_TRUE(d.IsPvc());
  EXPECT_EQ(d.pvc->claim_name, "backups");
  EXPECT_EQ(d.Prefix(), "a/b/");
  EXPECT_EQ(d.pvc->Url("a/b/x.db"), "pvc://backups/a/b/x.db");
  EXPECT_EQ((*p)->delta_period, std::chrono::seconds(0)) << "no deltas to a claim unless asked";
  cluster["spec"]["backup"]["deltaPeriod"] = "0s";
  EXPECT_TRUE(BackupPolicy::Parse(cluster).ok());
  cluster["spec"]["backup"]["deltaPeriod"] = "10s";
  auto deltas = BackupPolicy::Parse(cluster);
  EXPECT_EQ(deltas.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(deltas.status().message().find("S3 only"), std::string::npos) << deltas.status().ToString();
  for (const char* prefix : {"../up", "a/../../b", "/abs", "./x"}) {
    auto bad = BackupDestination::Parse({{"pvc", {{"claimName", "c"}, {"prefix", prefix}}}}, "d");
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << prefix;
  }
  auto both = BackupDestination::Parse(
      {{"pvc", {{"claimName", "c"}}}, {"s3", {{"bucket", "b"}, {"credentialsSecret", {{"name", "c"}}}}}}, "d");
  EXPECT_NE(both.status().message().find("exactly one of s3 and pvc"), std::string::npos) << both.status().ToString();
  auto no_claim = BackupDestination::Parse({{"pvc", nlohmann::json::object()}}, "d");
  EXPECT_NE(no_claim.status().message().find("d.pvc.claimName"), std::string::npos) << no_claim.status().ToString();
}

}  // namespace
}  // namespace cairn::op::backup
