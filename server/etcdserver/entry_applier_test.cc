// The applier against a real MVCC store, without Raft: entries are handed in directly.
#include "server/etcdserver/entry_applier.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/common/test_dir.h"
#include "server/etcdserver/errors.h"
#include "server/etcdserver/store_meta.h"
#include "server/raft/codec.h"

namespace cairn::etcdserver {
namespace {

constexpr uint64_t kSelf = 0x11;

// Records what the applier reports, and what the store showed when results went out.
struct RecordingListener final : ApplyListener {
  const mvcc::Store* store = nullptr;
  std::vector<std::pair<uint64_t, ApplyResult>> answered;
  std::vector<uint64_t> store_applied_when_answered;
  std::vector<raft::ConfChange> conf_changes;
  bool peer_urls_changed = false;
  std::vector<uint64_t> member_changes;
  bool removed = false;
  std::vector<uint64_t> checkpoints;
  std::vector<uint64_t> applied;

  void OnAnswered(std::vector<std::pair<uint64_t, ApplyResult>> results) override {
    store_applied_when_answered.push_back(store->AppliedIndex());
    for (auto& r : results) answered.push_back(std::move(r));
  }
  void OnConfigurationChanged(std::vector<raft::ConfChange> changes, bool peer_urls) override {
    conf_changes.insert(conf_changes.end(), changes.begin(), changes.end());
    peer_urls_changed = peer_urls_changed || peer_urls;
  }
  void OnMemberChangeApplied(uint64_t id) override { member_changes.push_back(id); }
  void OnRemoved() override { removed = true; }
  void OnStoreCheckpointed(uint64_t index) override { checkpoints.push_back(index); }
  void OnApplied(uint64_t index) override { applied.push_back(index); }
};

raft::Entry RequestEntry(uint64_t index, uint64_t request_id, cairnpb::RaftRequest request) {
  request.mutable_header()->set_id(request_id);
  return raft::Entry{1, index, raft::EntryType::kNormal, request.SerializeAsString()};
}

raft::Entry PutEntry(uint64_t index, uint64_t request_id, const std::string& key, const std::string& value) {
  cairnpb::RaftRequest request;
  request.mutable_put()->set_key(key);
  request.mutable_put()->set_value(value);
  return RequestEntry(index, request_id, std::move(request));
}

raft::Entry ConfChangeEntry(uint64_t index, raft::ConfChangeType type, uint64_t id) {
  cairnpb::Member member;
  member.set_id(id);
  member.add_peer_urls("http://127.0.0.1:" + std::to_string(2380 + id));
  raft::ConfChange cc{type, id, type == raft::ConfChangeType::kAddNode ? EncodeMemberContext(member) : ""};
  return raft::Entry{1, index, raft::EntryType::kConfChange, raft::EncodeConfChange(cc)};
}

class EntryApplierTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(/*snapshot_count=*/1000); }

  void Open(uint64_t snapshot_count) {
    entry_applier_.reset();
    hub_.reset();
    kv_.reset();
    lessor_.reset();
    store_.reset();
    mvcc::StoreOptions options;
    options.path = dir_.Join("db");
    auto store = mvcc::Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store.value());
    lessor_ = std::make_unique<lease::Lessor>(1, std::chrono::seconds(300), [] { return lease::Clock::now(); });
    kv_ = std::make_unique<apply::Applier>(*store_, *lessor_);
    hub_ = std::make_unique<watch::WatchHub>(store_.get(), watch::HubOptions{});
    auto tokens = auth::NewTokenProvider("simple", std::chrono::seconds(300));
    ASSERT_TRUE(tokens.ok());
    tokens_ = std::move(tokens.value());
    listener_ = RecordingListener{};
    listener_.store = store_.get();
    ApplyTargets targets{store_.get(), lessor_.get(), kv_.get(), hub_.get(), &membership_, &alarms_, &auth_, tokens_.get()};
    entry_applier_ = std::make_unique<EntryApplier>(targets, &listener_, kSelf, snapshot_count, 0);
  }

  int64_t RevisionOf(const ApplyResult& result) {
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::get<etcdserverpb::PutResponse>(result.value()).header().revision() : -1;
  }

  TempDir dir_;
  std::unique_ptr<mvcc::Store> store_;
  std::unique_ptr<lease::Lessor> lessor_;
  std::unique_ptr<apply::Applier> kv_;
  std::unique_ptr<watch::WatchHub> hub_;
  std::unique_ptr<auth::TokenProvider> tokens_;
  Membership membership_;
  Alarms alarms_;
  auth::AuthStore auth_;
  RecordingListener listener_;
  std::unique_ptr<EntryApplier> entry_applier_;
};

TEST_F(EntryApplierTest, AnswersBeforeTheStoreCommitAndPublishesTheAppliedIndexAfterIt) {
  entry_applier_->Apply({PutEntry(1, 101, "a", "1"), PutEntry(2, 102, "b", "2")});
  ASSERT_EQ(listener_.answered.size(), 2u);
  EXPECT_EQ(listener_.answered[0].first, 101u);
  EXPECT_EQ(RevisionOf(listener_.answered[0].second), 2);
  EXPECT_EQ(RevisionOf(listener_.answered[1].second), 3);
  EXPECT_EQ(listener_.store_applied_when_answered, std::vector<uint64_t>{0}) << "answered after the commit";
  EXPECT_EQ(store_->AppliedIndex(), 2u);
  EXPECT_EQ(entry_applier_->applied_index(), 2u);
  EXPECT_EQ(entry_applier_->answered_index(), 2u);
  EXPECT_EQ(listener_.applied, std::vector<uint64_t>{2});
  EXPECT_EQ(store_->CurrentRevision(), 3);
}

TEST_F(EntryApplierTest, EntriesTheStoreAlreadyHasAreSkippedButTheirConfChangesAreReported) {
  std::vector<raft::Entry> log = {ConfChangeEntry(1, raft::ConfChangeType::kAddNode, kSelf), PutEntry(2, 7, "a", "1")};
  entry_applier_->Apply(log);
  ASSERT_EQ(listener_.answered.size(), 1u);
  // As after a restart: Raft re-delivers everything above its snapshot.
  Open(1000);
  entry_applier_->Apply(log);
  EXPECT_TRUE(listener_.answered.empty()) << "an applied request was applied again";
  EXPECT_EQ(store_->CurrentRevision(), 2);
  ASSERT_EQ(listener_.conf_changes.size(), 1u) << "Raft rebuilds its configuration from replayed conf changes";
  EXPECT_EQ(listener_.conf_changes[0].node_id, kSelf);
  EXPECT_TRUE(listener_.member_changes.empty());
}

TEST_F(EntryApplierTest, ConfChangesUpdateAndPersistTheMembership) {
  entry_applier_->Apply({ConfChangeEntry(1, raft::ConfChangeType::kAddNode, kSelf),
                         ConfChangeEntry(2, raft::ConfChangeType::kAddNode, 0x22)});
  ASSERT_EQ(membership_.List().size(), 2u);
  EXPECT_EQ(listener_.member_changes, (std::vector<uint64_t>{kSelf, 0x22}));
  EXPECT_FALSE(listener_.removed);
  Membership persisted;
  ASSERT_TRUE(persisted.Restore(store_->BeginRead().GetMeta(kMembershipMeta).value_or("")).ok());
  EXPECT_EQ(persisted.List().size(), 2u);

  entry_applier_->Apply({ConfChangeEntry(3, raft::ConfChangeType::kRemoveNode, 0x22)});
  EXPECT_FALSE(listener_.removed) << "another member's removal";
  entry_applier_->Apply({ConfChangeEntry(4, raft::ConfChangeType::kRemoveNode, kSelf)});
  EXPECT_TRUE(listener_.removed);
  EXPECT_TRUE(membership_.IsRemoved(kSelf));
}

TEST_F(EntryApplierTest, PeerUrlUpdatesReachTheRaftNode) {
  entry_applier_->Apply({ConfChangeEntry(1, raft::ConfChangeType::kAddNode, kSelf)});
  listener_.conf_changes.clear();
  cairnpb::RaftRequest update;
  update.mutable_member_update()->set_id(kSelf);
  update.mutable_member_update()->add_peer_urls("http://10.0.0.9:2380");
  entry_applier_->Apply({RequestEntry(2, 5, update)});
  EXPECT_TRUE(listener_.peer_urls_changed);
  ASSERT_TRUE(membership_.Get(kSelf).has_value());
  EXPECT_EQ(membership_.Get(kSelf)->peer_urls(0), "http://10.0.0.9:2380");
}

TEST_F(EntryApplierTest, NoSpaceAlarmRefusesWritesThatGrowTheDatabase) {
  cairnpb::RaftRequest alarm;
  alarm.mutable_alarm()->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
  alarm.mutable_alarm()->set_memberid(kSelf);
  alarm.mutable_alarm()->set_alarm(etcdserverpb::NOSPACE);
  cairnpb::RaftRequest del;
  del.mutable_delete_range()->set_key("a");
  entry_applier_->Apply({PutEntry(1, 1, "a", "1"), RequestEntry(2, 2, alarm), PutEntry(3, 3, "b", "2"),
                         RequestEntry(4, 4, del)});
  ASSERT_EQ(listener_.answered.size(), 4u);
  EXPECT_TRUE(alarms_.Raised(etcdserverpb::NOSPACE));
  ASSERT_FALSE(listener_.answered[2].second.ok());
  EXPECT_EQ(listener_.answered[2].second.status().message(), ErrNoSpace().message());
  EXPECT_TRUE(listener_.answered[3].second.ok()) << "a delete frees space";
  EXPECT_TRUE(store_->BeginRead().GetMeta(kAlarmsMeta).has_value());
}

TEST_F(EntryApplierTest, LeaseRequestsGoToTheLessor) {
  cairnpb::RaftRequest grant;
  grant.mutable_lease_grant()->set_id(42);
  grant.mutable_lease_grant()->set_ttl(60);
  entry_applier_->Apply({RequestEntry(1, 1, grant)});
  ASSERT_TRUE(listener_.answered.at(0).second.ok());
  auto ttl = lessor_->TimeToLive(42, false);
  ASSERT_TRUE(ttl.has_value());
  EXPECT_EQ(ttl->granted_ttl, 60);
}

TEST_F(EntryApplierTest, StoreIsCheckpointedEverySnapshotCountEntries) {
  Open(/*snapshot_count=*/3);
  entry_applier_->Apply({PutEntry(1, 1, "a", "1"), PutEntry(2, 2, "a", "2")});
  EXPECT_TRUE(listener_.checkpoints.empty());
  entry_applier_->Apply({PutEntry(3, 3, "a", "3")});
  EXPECT_EQ(listener_.checkpoints, std::vector<uint64_t>{3});
  entry_applier_->Apply({PutEntry(4, 4, "a", "4"), PutEntry(5, 5, "a", "5")});
  EXPECT_EQ(listener_.checkpoints, std::vector<uint64_t>{3});
  entry_applier_->Apply({PutEntry(6, 6, "a", "6")});
  EXPECT_EQ(listener_.checkpoints, (std::vector<uint64_t>{3, 6}));
}

// A restart can find the store applied snapshot_count entries past the WAL's last
// snapshot marker (killed between the store's checkpoint and the marker): the replay of
// those entries then makes the checkpoint due in a batch that applies nothing.
TEST_F(EntryApplierTest, ReplayOfAppliedEntriesPastTheCheckpointDueCheckpointsTheStore) {
  Open(/*snapshot_count=*/10);
  entry_applier_->Apply({PutEntry(1, 1, "a", "1"), PutEntry(2, 2, "a", "2"), PutEntry(3, 3, "a", "3")});
  ASSERT_TRUE(listener_.checkpoints.empty());
  const int64_t revision = store_->CurrentRevision();

  Open(/*snapshot_count=*/3);
  entry_applier_->Apply({PutEntry(2, 2, "a", "2"), PutEntry(3, 3, "a", "3")});
  EXPECT_EQ(listener_.checkpoints, std::vector<uint64_t>{3});
  EXPECT_TRUE(listener_.answered.empty()) << "entries applied before are not answered again";
  EXPECT_EQ(store_->CurrentRevision(), revision);
  entry_applier_->Apply({PutEntry(4, 4, "a", "4")});
  EXPECT_EQ(store_->CurrentRevision(), revision + 1) << "the store still takes writes";
}

}  // namespace
}  // namespace cairn::etcdserver
