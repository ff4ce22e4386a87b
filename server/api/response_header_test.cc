// The one header filler, and the services answering with it: etcd's rule is that a
// revision the handler set stays, and a zero one becomes the member's current revision.
#include "server/api/response_header.h"

#include "server/api/member_fixture.h"

namespace cairn::api {
namespace {

class ResponseHeaderTest : public MemberFixture {
 protected:
  int64_t PutKey(const std::string& key) {
    cairnpb::RaftRequest put;
    put.mutable_put()->set_key(key);
    auto result = server_->Propose(put);
    EXPECT_TRUE(result.ok());
    // Answered before its batch's SQLite commit: wait until the store shows it, as
    // CurrentRevision() reads the store.
    EXPECT_TRUE(server_->LocalReadBarrier().ok());
    return std::get<etcdserverpb::PutResponse>(result.value()).header().revision();
  }
};

TEST_F(ResponseHeaderTest, KeepsTheHandlersRevisionAndFillsAZeroOneWithTheCurrent) {
  const int64_t first = PutKey("a");
  const int64_t current = PutKey("b");
  ASSERT_LT(first, current);
  etcdserverpb::ResponseHeader answered_earlier;
  answered_earlier.set_revision(first);
  FillHeader(*server_, &answered_earlier);
  EXPECT_EQ(answered_earlier.revision(), first);
  EXPECT_EQ(answered_earlier.cluster_id(), server_->cluster_id());
  EXPECT_EQ(answered_earlier.member_id(), server_->member_id());
  EXPECT_EQ(answered_earlier.raft_term(), server_->term());
  EXPECT_NE(answered_earlier.raft_term(), 0u);
  etcdserverpb::ResponseHeader unset;
  FillHeader(*server_, &unset);
  EXPECT_EQ(unset.revision(), current);
}

TEST_F(ResponseHeaderTest, ServicesAnswerWithEtcdsRevisions) {
  const int64_t current = PutKey("k");
  auto cluster = etcdserverpb::Cluster::NewStub(channel_);
  auto maintenance = etcdserverpb::Maintenance::NewStub(channel_);
  auto lease = etcdserverpb::Lease::NewStub(channel_);
  auto auth = etcdserverpb::Auth::NewStub(channel_);
  {
    // etcd's Cluster service answers with no revision (v3rpc/member.go).
    grpc::ClientContext ctx;
    etcdserverpb::MemberListResponse r;
    ASSERT_TRUE(cluster->MemberList(&ctx, {}, &r).ok());
    EXPECT_EQ(r.header().revision(), 0) << "MemberList";
    EXPECT_EQ(r.header().member_id(), server_->member_id()) << "MemberList";
    EXPECT_EQ(r.header().cluster_id(), server_->cluster_id()) << "MemberList";
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::StatusResponse r;
    ASSERT_TRUE(maintenance->Status(&ctx, {}, &r).ok());
    EXPECT_EQ(r.header().revision(), current) << "Status";
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::LeaseLeasesResponse r;
    ASSERT_TRUE(lease->LeaseLeases(&ctx, {}, &r).ok());
    EXPECT_EQ(r.header().revision(), current) << "LeaseLeases";
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::AuthStatusResponse r;
    ASSERT_TRUE(auth->AuthStatus(&ctx, {}, &r).ok());
    EXPECT_EQ(r.header().revision(), current) << "AuthStatus";
  }
}

}  // namespace
}  // namespace cairn::api
