#include "server/etcdserver/membership.h"

#include <gtest/gtest.h>

namespace cairn::etcdserver {
namespace {

raft::ConfChange Add(uint64_t id, const std::string& name, bool learner = false) {
  cairnpb::Member m;
  m.set_name(name);
  m.add_peer_urls("http://" + name + ":2380");
  return {learner ? raft::ConfChangeType::kAddLearnerNode : raft::ConfChangeType::kAddNode, id, EncodeMemberContext(m)};
}

TEST(ClusterMembershipTest, AddsMembersSortedByIdWithUrls) {
  Membership ms;
  ASSERT_TRUE(ms.Apply(Add(9, "b")).ok());
  ASSERT_TRUE(ms.Apply(Add(3, "a")).ok());
  auto list = ms.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id(), 3u);
  EXPECT_EQ(list[0].name(), "a");
  EXPECT_EQ(list[0].peer_urls(0), "http://a:2380");
  EXPECT_EQ(list[1].id(), 9u);
}

TEST(ClusterMembershipTest, LearnerIsPromotedByAddingItAsVoter) {
  Membership ms;
  ASSERT_TRUE(ms.Apply(Add(5, "l", /*learner=*/true)).ok());
  EXPECT_TRUE(ms.IsLearner(5));
  ASSERT_TRUE(ms.Apply(Add(5, "l")).ok());
  EXPECT_FALSE(ms.IsLearner(5));
  EXPECT_EQ(ms.List().size(), 1u);
}

TEST(ClusterMembershipTest, RemovedMemberIsGoneAndMayNotReturn) {
  Membership ms;
  ASSERT_TRUE(ms.Apply(Add(5, "x")).ok());
  ASSERT_TRUE(ms.Apply({raft::ConfChangeType::kRemoveNode, 5, ""}).ok());
  EXPECT_FALSE(ms.Get(5).has_value());
  EXPECT_TRUE(ms.IsRemoved(5));
  EXPECT_EQ(ms.Apply(Add(5, "x")).code(), StatusCode::kFailedPrecondition);
}

TEST(ClusterMembershipTest, UnreadableContextIsAnError) {
  Membership ms;
  EXPECT_EQ(ms.Apply({raft::ConfChangeType::kAddNode, 7, "\xff\xff\xff"}).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(ms.List().empty());
}

TEST(ClusterMembershipTest, AttributesUpdateNameAndClientUrlsOfKnownMembersOnly) {
  Membership ms;
  ASSERT_TRUE(ms.Apply(Add(5, "x")).ok());
  cairnpb::MemberAttributes attrs;
  attrs.set_id(5);
  attrs.set_name("renamed");
  attrs.add_client_urls("http://x:2379");
  ms.SetAttributes(attrs);
  attrs.set_id(6);
  ms.SetAttributes(attrs);
  auto list = ms.List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name(), "renamed");
  EXPECT_EQ(list[0].client_urls(0), "http://x:2379");
}

TEST(ClusterMembershipTest, EncodeRestoreRoundTrip) {
  Membership ms;
  ASSERT_TRUE(ms.Apply(Add(5, "x")).ok());
  ASSERT_TRUE(ms.Apply(Add(6, "y", true)).ok());
  ASSERT_TRUE(ms.Apply({raft::ConfChangeType::kRemoveNode, 5, ""}).ok());
  Membership restored;
  ASSERT_TRUE(restored.Restore(ms.Encode()).ok());
  EXPECT_EQ(restored.List().size(), 1u);
  EXPECT_TRUE(restored.IsLearner(6));
  EXPECT_TRUE(restored.IsRemoved(5));
  Membership empty;
  ASSERT_TRUE(empty.Restore("").ok());
  EXPECT_TRUE(empty.List().empty());
  EXPECT_EQ(empty.Restore("\x0a\xff").code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cairn::etcdserver
