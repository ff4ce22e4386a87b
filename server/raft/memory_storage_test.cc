// MemoryStorage: the reference Storage implementation (etcd semantics).
#include "server/raft/memory_storage.h"

#include <gtest/gtest.h>

#include "server/raft/errors.h"
#include "server/raft/to_string.h"

namespace cairn::raft {
namespace {

// Log with snapshot at 3/3 and entries 4/4, 5/5.
MemoryStorage Sample() {
  MemoryStorage s;
  EXPECT_TRUE(s.ApplySnapshot(Snapshot{SnapshotMetadata{3, 3, {}}, ""}).ok());
  EXPECT_TRUE(s.Append({Entry{4, 4, EntryType::kNormal, ""}, Entry{5, 5, EntryType::kNormal, ""}}).ok());
  return s;
}

TEST(MemoryStorageTest, Bounds) {
  MemoryStorage s = Sample();
  EXPECT_EQ(s.FirstIndex(), 4u);
  EXPECT_EQ(s.LastIndex(), 5u);
  EXPECT_EQ(s.TermOf(2).status(), kErrCompacted);
  EXPECT_EQ(*s.TermOf(3), 3u);
  EXPECT_EQ(*s.TermOf(5), 5u);
  EXPECT_EQ(s.TermOf(6).status(), kErrUnavailable);
}

TEST(MemoryStorageTest, EntriesRespectsSizeButReturnsAtLeastOne) {
  MemoryStorage s = Sample();
  EXPECT_EQ(s.Entries(3, 5, UINT64_MAX).status(), kErrCompacted);
  EXPECT_EQ(s.Entries(4, 6, UINT64_MAX)->size(), 2u);
  EXPECT_EQ(s.Entries(4, 6, 0)->size(), 1u);
  EXPECT_EQ(s.Entries(4, 6, 2 * EntrySize(Entry{})) ->size(), 2u);
}

TEST(MemoryStorageTest, AppendTruncatesConflictsAndSkipsCompacted) {
  MemoryStorage s = Sample();
  ASSERT_TRUE(s.Append({Entry{6, 5, EntryType::kNormal, "x"}, Entry{6, 6, EntryType::kNormal, ""}}).ok());
  EXPECT_EQ(*s.TermOf(5), 6u);
  EXPECT_EQ(s.LastIndex(), 6u);
  ASSERT_TRUE(s.Append({Entry{3, 3, EntryType::kNormal, ""}, Entry{4, 4, EntryType::kNormal, ""}}).ok());
  EXPECT_EQ(s.LastIndex(), 4u) << "overwrote from 4, truncating the rest";
  ASSERT_TRUE(s.Append({Entry{1, 1, EntryType::kNormal, ""}}).ok()) << "fully compacted: ignored";
  EXPECT_EQ(s.LastIndex(), 4u);
}

TEST(MemoryStorageTest, CompactAndCreateSnapshot) {
  MemoryStorage s = Sample();
  EXPECT_EQ(s.Compact(3), kErrCompacted);
  ASSERT_TRUE(s.Compact(4).ok());
  EXPECT_EQ(s.FirstIndex(), 5u);
  EXPECT_EQ(*s.TermOf(4), 4u);
  ConfState cs{{1, 2}, {}};
  auto snap = s.CreateSnapshot(5, &cs, "data");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata, (SnapshotMetadata{5, 5, cs}));
  EXPECT_EQ(s.CreateSnapshot(4, nullptr, "").status(), kErrSnapOutOfDate);
  EXPECT_EQ(s.GetInitialState()->conf_state, cs);
}

TEST(MemoryStorageTest, ApplySnapshotReplacesLogAndRejectsOlder) {
  MemoryStorage s = Sample();
  EXPECT_EQ(s.ApplySnapshot(Snapshot{SnapshotMetadata{2, 2, {}}, ""}), kErrSnapOutOfDate);
  ASSERT_TRUE(s.ApplySnapshot(Snapshot{SnapshotMetadata{10, 7, ConfState{{1}, {}}}, "d"}).ok());
  EXPECT_EQ(s.FirstIndex(), 11u);
  EXPECT_EQ(s.LastIndex(), 10u);
  EXPECT_EQ(*s.TermOf(10), 7u);
  EXPECT_EQ(s.Entries(11, 11, UINT64_MAX).status(), kErrUnavailable);
}

TEST(MemoryStorageTest, BootstrapWritesMembershipAsCommittedEntries) {
  MemoryStorage s;
  ASSERT_TRUE(s.Bootstrap(ConfState{{1, 2}, {3}}).ok());
  EXPECT_EQ(s.LastIndex(), 3u);
  EXPECT_EQ(s.hard_state(), (HardState{1, kNoNode, 3}));
  EXPECT_FALSE(s.Bootstrap(ConfState{{1}, {}}).ok());
}

}  // namespace
}  // namespace cairn::raft
