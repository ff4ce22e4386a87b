#include "server/etcdserver/bootstrap.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "server/common/test_dir.h"

namespace cairn::etcdserver {
namespace {

ServerOptions OptionsFor(const TempDir& dir) {
  ServerOptions options;
  options.name = "m1";
  options.data_dir.root = dir.Join("data");
  options.initial_cluster = {{"m1", {"http://127.0.0.1:2380"}},
                             {"m2", {"http://127.0.0.1:2381"}},
                             {"m3", {"http://127.0.0.1:2382"}}};
  return options;
}

Result<OpenedDataDir> Open(const ServerOptions& options, raft::MemoryStorage* log) {
  transport::PeerClient peers;
  return OpenDataDir(options, PosixFileSystem(), &peers, log);
}

TEST(BootstrapTest, NewDataDirStartsFromTheInitialMembershipAsCommittedConfChanges) {
  TempDir dir;
  const ServerOptions options = OptionsFor(dir);
  raft::MemoryStorage log;
  auto opened = Open(options, &log);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto plan = PlanNewCluster(options);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(opened->identity.member_id, plan->identity.member_id);
  EXPECT_EQ(opened->identity.cluster_id, plan->identity.cluster_id);
  EXPECT_EQ(log.LastIndex(), 3u);
  EXPECT_EQ(opened->hard_state.commit, 3u);
  auto entries = log.Entries(1, 4, UINT64_MAX);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries.value(), BootstrapEntries(*plan));
  EXPECT_EQ(opened->store->AppliedIndex(), 0u);
  EXPECT_TRUE(opened->joined_membership.empty());
}

TEST(BootstrapTest, ReopenedDataDirKeepsItsIdentityWhateverTheFlagsSay) {
  TempDir dir;
  ServerOptions options = OptionsFor(dir);
  uint64_t member_id = 0;
  {
    raft::MemoryStorage log;
    auto opened = Open(options, &log);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    member_id = opened->identity.member_id;
  }
  options.initial_cluster = {{"m1", {"http://10.0.0.1:2380"}}};
  raft::MemoryStorage log;
  auto reopened = Open(options, &log);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(reopened->identity.member_id, member_id);
  EXPECT_EQ(log.LastIndex(), 3u);
}

TEST(BootstrapTest, DataDirInUseIsRefused) {
  TempDir dir;
  raft::MemoryStorage log, other_log;
  auto first = Open(OptionsFor(dir), &log);
  ASSERT_TRUE(first.ok());
  auto second = Open(OptionsFor(dir), &other_log);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status().message();
}

TEST(BootstrapTest, StoreAheadOfTheWalWithoutAnInstalledSnapshotIsDataLoss) {
  TempDir dir;
  {
    raft::MemoryStorage log;
    auto opened = Open(OptionsFor(dir), &log);
    ASSERT_TRUE(opened.ok());
    mvcc::ApplyBatch batch(*opened->store);
    batch.Commit(100);
  }
  raft::MemoryStorage log;
  auto reopened = Open(OptionsFor(dir), &log);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kDataLoss) << reopened.status().ToString();
}

TEST(BootstrapTest, ClientSnapshotCopiesLeftByACrashAreRemoved) {
  TempDir dir;
  const ServerOptions options = OptionsFor(dir);
  std::filesystem::create_directories(options.data_dir.SnapDir());
  const std::string leftover = options.data_dir.SnapDir() + "/client-7.db";
  const std::string incoming = options.data_dir.SnapDir() + "/incoming.db";
  std::ofstream(leftover) << "x";
  std::ofstream(incoming) << "x";
  raft::MemoryStorage log;
  ASSERT_TRUE(Open(options, &log).ok());
  EXPECT_FALSE(std::filesystem::exists(leftover));
  EXPECT_TRUE(std::filesystem::exists(incoming)) << "only client copies are removed";
}

TEST(BootstrapTest, JoiningNeedsTheRunningMembersUrls) {
  TempDir dir;
  ServerOptions options = OptionsFor(dir);
  options.join_existing_cluster = true;
  options.initial_cluster = {{"m1", {"http://127.0.0.1:2380"}}};
  raft::MemoryStorage log;
  auto opened = Open(options, &log);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument) << opened.status().ToString();
}

}  // namespace
}  // namespace cairn::etcdserver
