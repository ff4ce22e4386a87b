#include "server/etcdserver/identity.h"

#include <gtest/gtest.h>

namespace cairn::etcdserver {
namespace {

// etcd 3.4 started with default flags reports member 8e9e05c52164694d in cluster
// cdf818194e3a8c32; deriving the same IDs keeps Cairn's identities interchangeable.
TEST(IdentityTest, MatchesEtcdDefaultMemberAndClusterIds) {
  const uint64_t member = ComputeMemberId({"http://localhost:2380"}, "etcd-cluster");
  EXPECT_EQ(HexId(member), "8e9e05c52164694d");
  EXPECT_EQ(HexId(ComputeClusterId({member})), "cdf818194e3a8c32");
}

TEST(IdentityTest, MemberIdIgnoresPeerUrlOrderButNotToken) {
  EXPECT_EQ(ComputeMemberId({"http://a:1", "http://b:2"}, "t"), ComputeMemberId({"http://b:2", "http://a:1"}, "t"));
  EXPECT_NE(ComputeMemberId({"http://a:1"}, "t1"), ComputeMemberId({"http://a:1"}, "t2"));
}

TEST(IdentityTest, EncodeDecodeRoundTripAndRejectsForeignBytes) {
  MemberIdentity id{0x1122334455667788ULL, 0x99aabbccddeeff00ULL};
  MemberIdentity decoded;
  ASSERT_TRUE(decoded.Decode(id.Encode()));
  EXPECT_EQ(decoded.member_id, id.member_id);
  EXPECT_EQ(decoded.cluster_id, id.cluster_id);
  EXPECT_FALSE(decoded.Decode(""));
  EXPECT_FALSE(decoded.Decode(id.Encode().substr(1)));
  std::string tampered = id.Encode();
  tampered[0] = 'x';
  EXPECT_FALSE(decoded.Decode(tampered));
}

}  // namespace
}  // namespace cairn::etcdserver
