#include "server/etcdserver/alarms.h"

#include <gtest/gtest.h>

namespace cairn::etcdserver {
namespace {

using etcdserverpb::AlarmRequest;

AlarmRequest Request(AlarmRequest::AlarmAction action, uint64_t member, etcdserverpb::AlarmType type) {
  AlarmRequest r;
  r.set_action(action);
  r.set_memberid(member);
  r.set_alarm(type);
  return r;
}

TEST(AlarmsTest, ActivateListDeactivateLikeEtcd) {
  Alarms alarms;
  etcdserverpb::AlarmResponse r;
  EXPECT_TRUE(alarms.Apply(Request(AlarmRequest::ACTIVATE, 7, etcdserverpb::NOSPACE), &r));
  ASSERT_EQ(r.alarms_size(), 1);
  EXPECT_EQ(r.alarms(0).memberid(), 7u);
  r.Clear();
  EXPECT_FALSE(alarms.Apply(Request(AlarmRequest::ACTIVATE, 7, etcdserverpb::NOSPACE), &r));
  EXPECT_EQ(r.alarms_size(), 0);
  EXPECT_FALSE(alarms.Apply(Request(AlarmRequest::ACTIVATE, 9, etcdserverpb::NONE), &r));
  EXPECT_TRUE(alarms.Apply(Request(AlarmRequest::ACTIVATE, 3, etcdserverpb::CORRUPT), &r));
  EXPECT_TRUE(alarms.Raised(etcdserverpb::NOSPACE));

  r.Clear();
  EXPECT_FALSE(alarms.Apply(Request(AlarmRequest::GET, 0, etcdserverpb::NONE), &r));
  ASSERT_EQ(r.alarms_size(), 2);
  EXPECT_EQ(r.alarms(0).memberid(), 3u);  // sorted by member
  r.Clear();
  alarms.Apply(Request(AlarmRequest::GET, 0, etcdserverpb::NOSPACE), &r);
  ASSERT_EQ(r.alarms_size(), 1);
  EXPECT_EQ(r.alarms(0).alarm(), etcdserverpb::NOSPACE);

  Alarms restored;
  ASSERT_TRUE(restored.Restore(alarms.Encode()).ok());
  EXPECT_EQ(restored.List().size(), 2u);
  EXPECT_FALSE(restored.Restore("\xff\xff").ok());

  r.Clear();
  EXPECT_FALSE(alarms.Apply(Request(AlarmRequest::DEACTIVATE, 8, etcdserverpb::NOSPACE), &r));
  EXPECT_TRUE(alarms.Apply(Request(AlarmRequest::DEACTIVATE, 7, etcdserverpb::NOSPACE), &r));
  ASSERT_EQ(r.alarms_size(), 1);
  EXPECT_FALSE(alarms.Raised(etcdserverpb::NOSPACE));
  EXPECT_EQ(Alarms::Describe(alarms.List()[0]), "memberID:3 alarm:CORRUPT ");
}

TEST(AlarmsTest, OnlyRequestsThatGrowTheDatabaseAreCapped) {
  cairnpb::RaftRequest put;
  put.mutable_put()->set_key("k");
  cairnpb::RaftRequest del;
  del.mutable_delete_range()->set_key("k");
  cairnpb::RaftRequest grant;
  grant.mutable_lease_grant()->set_ttl(5);
  cairnpb::RaftRequest deleting_txn;
  deleting_txn.mutable_txn()->add_success()->mutable_request_delete_range()->set_key("k");
  cairnpb::RaftRequest nested_put = deleting_txn;
  nested_put.mutable_txn()->add_failure()->mutable_request_txn()->add_success()->mutable_request_put()->set_key("k");
  cairnpb::RaftRequest compaction;
  compaction.mutable_compaction()->set_revision(3);
  EXPECT_TRUE(GrowsDatabase(put));
  EXPECT_TRUE(GrowsDatabase(grant));
  EXPECT_TRUE(GrowsDatabase(nested_put));
  EXPECT_FALSE(GrowsDatabase(del));
  EXPECT_FALSE(GrowsDatabase(deleting_txn));
  EXPECT_FALSE(GrowsDatabase(compaction));
}

}  // namespace
}  // namespace cairn::etcdserver
