// I/O failures and crashes through FaultInjectingFileSystem: failed syncs and writes are
// never papered over, and after a crash every synced Save is recovered.
#include <gtest/gtest.h>

#include <random>

#include "server/common/fault_fs.h"
#include "server/common/test_dir.h"
#include "server/wal/test_util.h"
#include "server/wal/wal.h"

namespace cairn::wal {
namespace {

using testing::MakeEntries;
using testing::MakeEntry;

class WalFaultTest : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> CreateWal() {
    auto w = Wal::Create(&fs_, dir_, "member=1", options_);
    CAIRN_CHECK(w.ok());
    return std::move(*w);
  }
  Recovered Reopen(std::unique_ptr<Wal>* wal) {
    wal->reset();
    auto r = Wal::Open(&fs_, dir_, options_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    CAIRN_CHECK(r.ok());
    *wal = std::move(r->first);
    return std::move(r->second);
  }

  TempDir tmp_;
  FaultInjectingFileSystem fs_{PosixFileSystem()};
  std::string dir_ = tmp_.Join("wal");
  Options options_{.segment_bytes = 4096};
};

TEST_F(WalFaultTest, FailedSyncIsReportedAndTheWalRefusesFurtherWrites) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({1, 1, 1}, MakeEntries(1, 3, 1)).ok());
  fs_.FailSync(1, Status::IoError("fdatasync: Input/output error"));
  Status st = wal->Save({1, 1, 2}, {MakeEntry(4, 1)});
  EXPECT_EQ(st, Status::IoError("fdatasync: Input/output error"));
  // A retried fsync may "succeed" after the kernel dropped the dirty pages: never retry.
  EXPECT_EQ(wal->Save({1, 1, 2}, {MakeEntry(4, 1)}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(wal->SaveSnapshot({1, 1, {}}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(wal->ReleaseTo(1).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(fs_.Crash().ok());
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.entries, MakeEntries(1, 3, 1));
  EXPECT_EQ(r.hard_state.commit, 1u);
  ASSERT_TRUE(wal->Save({}, {MakeEntry(4, 2)}).ok());
}

TEST_F(WalFaultTest, FailedWriteLeavingATornPrefixIsRepairedOnReopen) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({1, 1, 1}, MakeEntries(1, 3, 1)).ok());
  fs_.FailAppend(1, Status::IoError("write: Input/output error"), 30);
  EXPECT_FALSE(wal->Save({}, MakeEntries(4, 6, 1)).ok());
  EXPECT_EQ(wal->Save({}, MakeEntries(4, 6, 1)).code(), StatusCode::kFailedPrecondition);
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.entries, MakeEntries(1, 3, 1));
  ASSERT_TRUE(wal->Save({}, MakeEntries(4, 6, 1)).ok());
  r = Reopen(&wal);
  EXPECT_EQ(r.entries, MakeEntries(1, 6, 1));
}

TEST_F(WalFaultTest, DiskFullOnAppendIsReportedAndSticky) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({}, MakeEntries(1, 2, 1)).ok());
  fs_.SetDiskFull(true);
  EXPECT_EQ(wal->Save({}, {MakeEntry(3, 1)}).code(), StatusCode::kResourceExhausted);
  fs_.SetDiskFull(false);
  EXPECT_EQ(wal->Save({}, {MakeEntry(3, 1)}).code(), StatusCode::kFailedPrecondition);
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.entries, MakeEntries(1, 2, 1));
}

TEST_F(WalFaultTest, DiskFullWhileCuttingASegmentKeepsTheWalUsable) {
  // Learn, on a scratch WAL, which Save cuts the first segment.
  raft::Index cutting = 0;
  {
    auto scratch = Wal::Create(&fs_, tmp_.Join("scratch"), "member=1", options_);
    ASSERT_TRUE(scratch.ok());
    while ((*scratch)->SegmentCount() == 1) {
      ASSERT_TRUE((*scratch)->Save({}, {MakeEntry(++cutting, 1, 300)}).ok());
    }
  }
  auto wal = CreateWal();
  for (raft::Index i = 1; i < cutting; ++i) ASSERT_TRUE(wal->Save({}, {MakeEntry(i, 1, 300)}).ok());
  fs_.SetDiskFull(true);
  // Preallocating the next segment fails before anything reaches the log.
  EXPECT_EQ(wal->Save({}, {MakeEntry(cutting, 1, 300)}).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(wal->SegmentCount(), 1u);
  fs_.SetDiskFull(false);
  ASSERT_TRUE(wal->Save({}, {MakeEntry(cutting, 1, 300)}).ok());
  EXPECT_EQ(wal->SegmentCount(), 2u);
  EXPECT_EQ(testing::SegmentPaths(&fs_, dir_).size(), 2u);
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.entries, MakeEntries(1, cutting, 1, 300));
}

TEST_F(WalFaultTest, EmptySyncedSaveMakesEarlierUnsyncedSavesDurable) {
  auto wal = CreateWal();
  ASSERT_TRUE(wal->Save({1, 1, 0}, MakeEntries(1, 3, 1), false).ok());
  ASSERT_TRUE(wal->Save({}, {}, true).ok());
  ASSERT_TRUE(wal->Save({1, 1, 3}, MakeEntries(4, 5, 1), false).ok());
  ASSERT_TRUE(fs_.Crash().ok());
  Recovered r = Reopen(&wal);
  EXPECT_EQ(r.entries, MakeEntries(1, 3, 1));
  EXPECT_EQ(r.hard_state, (raft::HardState{1, 1, 0}));
}

// The log as the WAL was asked to write it, one record at a time, to compare recovery
// against every prefix that a crash may have left.
struct Op {
  bool is_entry;
  raft::Entry entry;
  raft::HardState hs;
};

struct Model {
  std::vector<raft::Entry> entries;  // After the snapshot.
  raft::HardState hs;
  void Apply(const Op& op) {
    if (!op.is_entry) {
      hs = op.hs;
      return;
    }
    while (!entries.empty() && entries.back().index >= op.entry.index) entries.pop_back();
    entries.push_back(op.entry);
  }
};

TEST_F(WalFaultTest, CrashAtRandomPointsNeverLosesSyncedSaves) {
  std::mt19937 rng(20240611);
  auto wal = CreateWal();
  Model durable;          // State recovered at the start of this life.
  raft::Index snap = 0;
  for (int life = 0; life < 60; ++life) {
    std::vector<Op> ops;
    size_t synced_ops = 0;
    raft::Term term = static_cast<raft::Term>(life + 1);
    int saves = static_cast<int>(rng() % 25);
    for (int s = 0; s < saves; ++s) {
      raft::Index last = wal->LastIndex();
      raft::Index first = last + 1;
      // Now and then Raft overwrites a few uncommitted entries.
      if (rng() % 6 == 0 && last > snap + 3) first = last - rng() % 3;
      std::vector<raft::Entry> batch;
      size_t n = rng() % 5;
      for (size_t k = 0; k < n; ++k) batch.push_back(MakeEntry(first + k, term, rng() % 600));
      raft::HardState hs{term, 1, first > 1 ? first - 1 : 0};
      bool sync = rng() % 3 != 0;
      ASSERT_TRUE(wal->Save(hs, batch, sync).ok());
      for (auto& e : batch) ops.push_back({true, e, {}});
      ops.push_back({false, {}, hs});
      if (sync) synced_ops = ops.size();
      if (rng() % 10 == 0 && sync && first > snap + 1) {
        snap = first - 1;
        ASSERT_TRUE(wal->SaveSnapshot({snap, term, {{1}, {}}}).ok());
        ASSERT_TRUE(wal->ReleaseTo(snap).ok());
      }
    }
    ASSERT_TRUE(fs_.Crash(rng() % 3 == 0 ? rng() % 4000 : 0).ok());
    Recovered r = Reopen(&wal);
    EXPECT_EQ(r.metadata, "member=1");
    EXPECT_EQ(r.snapshot.index, snap);

    // Recovery must equal the state after some prefix of the writes at least as long as
    // the synced one.
    auto visible = [&](Model m) {
      std::vector<raft::Entry> out;
      for (auto& e : m.entries) {
        if (e.index > snap) out.push_back(e);
      }
      return out;
    };
    Model m = durable;
    bool matched = false;
    for (size_t p = 0; p <= ops.size(); ++p) {
      if (p > 0) m.Apply(ops[p - 1]);
      if (p >= synced_ops && visible(m) == r.entries && m.hs == r.hard_state) {
        matched = true;
        break;
      }
    }
    ASSERT_TRUE(matched) << "life " << life << ": recovered " << r.entries.size()
                         << " entries, last " << wal->LastIndex() << ", synced ops "
                         << synced_ops << " of " << ops.size();
    durable.entries = r.entries;
    durable.hs = r.hard_state;
  }
}

}  // namespace
}  // namespace cairn::wal
