#include "server/wal/wal.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "server/common/test_dir.h"
#include "server/wal/test_util.h"

namespace cairn::wal {
namespace {

using testing::MakeEntries;
using testing::MakeEntry;

class WalTest : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> CreateWal(Options o = {}) {
    auto w = Wal::Create(fs_, dir_, "member=1", o);
    CAIRN_CHECK(w.ok());
    return std::move(*w);
  }
  Recovered Reopen(std::unique_ptr<Wal>* wal, Options o = {}) {
    wal->reset();
    auto r = Wal::Open(fs_, dir_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    CAIRN_CHECK(r.ok());
    *wal = std::move(r->first);
    return std::move(r->second);
  }

  TempDir tmp_;
  FileSystem* fs_ = PosixFileSystem();
  std::string dir_ = tmp_.Join("member/wal");
  Options small_{.segment_bytes = 4096};
};

TEST_F(WalTest, EmptyWalRoundTrips) {
  EXPECT_FALSE(Wal::Exists(fs_, dir_));
  auto wal = CreateWal();
  EXPECT_TRUE(Wal::Exists(fs_, dir_));
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.metadata, "member=1");
  EXPECT_TRUE(r.hard_state.empty());
  EXPECT_EQ(r.snapshot.index, 0u);
  EXPECT_TRUE(r.entries.empty());
  EXPECT_EQ(wal->LastIndex(), 0u);
}

TEST_F(WalTest, EntriesAndHardStateRoundTrip) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({1, 1, 0}, MakeEntries(1, 3, 1)).ok());
  ASSERT_TRUE(wal->Save({2, 2, 3}, MakeEntries(4, 10, 2, 1000)).ok());
  ASSERT_TRUE(wal->Save({2, 2, 5}, {}).ok());
  EXPECT_EQ(wal->LastIndex(), 10u);
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.hard_state, (raft::HardState{2, 2, 5}));
  auto want = MakeEntries(1, 3, 1);
  for (auto& e : MakeEntries(4, 10, 2, 1000)) want.push_back(e);
  EXPECT_EQ(r.entries, want);
  EXPECT_EQ(wal->LastIndex(), 10u);
  // Appending resumes where recovery ended.
  ASSERT_TRUE(wal->Save({}, {MakeEntry(11, 2)}).ok());
  r = Reopen(&wal);
  ASSERT_EQ(r.entries.size(), 11u);
  EXPECT_EQ(r.entries.back(), MakeEntry(11, 2));
}

TEST_F(WalTest, CreateRefusesAnExistingWalAndTheLockRefusesASecondOpener) {
  auto wal = CreateWal();
  EXPECT_EQ(Wal::Open(fs_, dir_).status().code(), StatusCode::kFailedPrecondition);
  wal.reset();
  EXPECT_EQ(Wal::Create(fs_, dir_, "x").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Wal::Open(fs_, tmp_.Join("nothing-here")).status().code(), StatusCode::kNotFound);
}

TEST_F(WalTest, InvalidSavesAreRejectedWithoutBreakingTheWal) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({}, MakeEntries(1, 5, 1)).ok());
  EXPECT_EQ(wal->Save({}, {MakeEntry(7, 1)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->Save({}, {MakeEntry(6, 1), MakeEntry(8, 1)}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(wal->SaveSnapshot({3, 1, {{1}, {}}}).ok());
  EXPECT_EQ(wal->Save({}, {MakeEntry(3, 2)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->SaveSnapshot({2, 1, {}}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(wal->Save({}, {MakeEntry(6, 1)}).ok());
  EXPECT_EQ(Wal::Create(fs_, tmp_.Join("other"), "", {.segment_bytes = 10}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(WalTest, LaterEntriesOverwriteTheTail) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({1, 1, 2}, MakeEntries(1, 10, 1)).ok());
  ASSERT_TRUE(wal->Save({2, 0, 5}, MakeEntries(6, 7, 2)).ok());
  EXPECT_EQ(wal->LastIndex(), 7u);
  Recovered r = Reopen(&wal);
  auto want = MakeEntries(1, 5, 1);
  want.push_back(MakeEntry(6, 2));
  want.push_back(MakeEntry(7, 2));
  EXPECT_EQ(r.entries, want);
  EXPECT_EQ(wal->LastIndex(), 7u);
  ASSERT_TRUE(wal->Save({}, MakeEntries(8, 9, 2)).ok());
  ASSERT_TRUE(wal->Save({3, 0, 5}, MakeEntries(2, 2, 3)).ok());
  r = Reopen(&wal);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[1], MakeEntry(2, 3));
  EXPECT_EQ(r.hard_state, (raft::HardState{3, 0, 5}));
}

TEST_F(WalTest, UnsyncedSavesAreReadBackAfterACleanReopen) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({1, 1, 0}, MakeEntries(1, 4, 1), false).ok());
  ASSERT_TRUE(wal->Save({1, 1, 2}, MakeEntries(5, 6, 1), false).ok());
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.entries, MakeEntries(1, 6, 1));
  EXPECT_EQ(r.hard_state.commit, 2u);
}

TEST_F(WalTest, RotationKeepsEverySegmentSelfDescribing) {
  auto wal = CreateWal(small_);
  ASSERT_TRUE(wal->SaveSnapshot({0, 0, {}}).ok());
  for (raft::Index i = 1; i <= 100; ++i) {
    ASSERT_TRUE(wal->Save({1, 1, i - 1}, {MakeEntry(i, 1, 200)}).ok());
  }
  EXPECT_GT(wal->SegmentCount(), 4u);
  auto paths = testing::SegmentPaths(fs_, dir_);
  ASSERT_EQ(paths.size(), wal->SegmentCount());
  // Sealed segments are trimmed to their data; the current one stays preallocated.
  EXPECT_LE(*fs_->FileSize(paths[0]), 4096u);
  EXPECT_EQ(*fs_->FileSize(paths.back()), 4096u);
  Recovered r = Reopen(&wal, small_);
  EXPECT_EQ(r.entries, MakeEntries(1, 100, 1, 200));
  EXPECT_EQ(r.hard_state, (raft::HardState{1, 1, 99}));
}

TEST_F(WalTest, BatchLargerThanASegmentGetsItsOwnSegment) {
  auto wal = CreateWal(small_);
  ASSERT_TRUE(wal->Save({}, {MakeEntry(1, 1, 100)}).ok());
  ASSERT_TRUE(wal->Save({}, MakeEntries(2, 5, 1, 3000)).ok());
  ASSERT_TRUE(wal->Save({}, {MakeEntry(6, 1, 100)}).ok());
  Recovered r = Reopen(&wal, small_);
  ASSERT_EQ(r.entries.size(), 6u);
  EXPECT_EQ(r.entries[3], MakeEntry(4, 1, 3000));
}

TEST_F(WalTest, ReleaseToKeepsMaxFilesSegmentsAndZeroKeepsThemAll) {
  for (size_t max_files : {size_t{0}, size_t{3}}) {
    SCOPED_TRACE("max_files " + std::to_string(max_files));
    Options options = small_;
    options.max_files = max_files;
    std::filesystem::remove_all(dir_);
    auto wal = CreateWal(options);
    for (raft::Index i = 1; i <= 100; ++i) {
      ASSERT_TRUE(wal->Save({1, 1, i}, {MakeEntry(i, 1, 200)}).ok());
    }
    const size_t before = wal->SegmentCount();
    ASSERT_GT(before, 4u);
    ASSERT_TRUE(wal->SaveSnapshot({100, 1, {{1, 2, 3}, {}}}).ok());
    ASSERT_TRUE(wal->ReleaseTo(100).ok());
    EXPECT_EQ(wal->SegmentCount(), max_files == 0 ? before : max_files);
    EXPECT_EQ(testing::SegmentPaths(fs_, dir_).size(), wal->SegmentCount());
    Recovered r = Reopen(&wal, options);
    EXPECT_EQ(r.snapshot.index, 100u);
  }
}

TEST_F(WalTest, ReleaseToDeletesOnlyCoveredSegments) {
  auto wal = CreateWal(small_);
  for (raft::Index i = 1; i <= 100; ++i) {
    ASSERT_TRUE(wal->Save({1, 1, i}, {MakeEntry(i, 1, 200)}).ok());
  }
  size_t before = wal->SegmentCount();
  // No snapshot marker yet: nothing may go.
  ASSERT_TRUE(wal->ReleaseTo(100).ok());
  EXPECT_EQ(wal->SegmentCount(), before);

  ASSERT_TRUE(wal->SaveSnapshot({60, 1, {{1, 2, 3}, {}}}).ok());
  ASSERT_TRUE(wal->ReleaseTo(60).ok());
  size_t after = wal->SegmentCount();
  EXPECT_LT(after, before);
  EXPECT_GE(after, 2u);
  EXPECT_TRUE(testing::SegmentPaths(fs_, dir_).size() == after);

  Recovered r = Reopen(&wal, small_);
  EXPECT_EQ(r.snapshot, (raft::SnapshotMetadata{60, 1, {{1, 2, 3}, {}}}));
  EXPECT_EQ(r.entries, MakeEntries(61, 100, 1, 200));
  EXPECT_EQ(r.hard_state.commit, 100u);
  EXPECT_EQ(r.metadata, "member=1");

  // Releasing past the marker cannot drop entries the marker does not cover.
  for (raft::Index i = 101; i <= 150; ++i) {
    ASSERT_TRUE(wal->Save({1, 1, i}, {MakeEntry(i, 1, 200)}).ok());
  }
  ASSERT_TRUE(wal->ReleaseTo(150).ok());
  r = Reopen(&wal, small_);
  EXPECT_EQ(r.entries, MakeEntries(61, 150, 1, 200));
  // A newer marker lets everything before its segment go.
  ASSERT_TRUE(wal->SaveSnapshot({150, 1, {{1, 2, 3}, {}}}).ok());
  ASSERT_TRUE(wal->ReleaseTo(150).ok());
  EXPECT_EQ(wal->SegmentCount(), 1u);
  r = Reopen(&wal, small_);
  EXPECT_EQ(r.snapshot.index, 150u);
  EXPECT_TRUE(r.entries.empty());
  EXPECT_EQ(wal->LastIndex(), 150u);
  ASSERT_TRUE(wal->Save({}, {MakeEntry(151, 2)}).ok());
}

TEST_F(WalTest, SnapshotMarkerBeyondTheLogRestartsIt) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({1, 1, 3}, MakeEntries(1, 5, 1)).ok());
  ASSERT_TRUE(wal->SaveSnapshot({1000, 4, {{1}, {2}}}).ok());
  EXPECT_EQ(wal->LastIndex(), 1000u);
  ASSERT_TRUE(wal->Save({4, 1, 1000}, MakeEntries(1001, 1003, 4)).ok());
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.snapshot.index, 1000u);
  EXPECT_EQ(r.entries, MakeEntries(1001, 1003, 4));
}

TEST_F(WalTest, LeftoverTempSegmentFromAnInterruptedCutIsRemoved) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({}, MakeEntries(1, 3, 1)).ok());
  testing::WriteFileAt(fs_, dir_ + "/" + SegmentName(1, 4) + kTmpSuffix, 0, "partial");
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.entries.size(), 3u);
  EXPECT_FALSE(fs_->Exists(dir_ + "/" + SegmentName(1, 4) + kTmpSuffix));
}

}  // namespace
}  // namespace cairn::wal
