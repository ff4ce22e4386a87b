// RaftLog: the stable+unstable view, conflict detection and commit rules.
#include "server/raft/raft_log.h"

#include <gtest/gtest.h>

#include "server/raft/memory_storage.h"
#include "server/raft/to_string.h"

namespace cairn::raft {
namespace {

std::vector<Entry> Ents(std::initializer_list<std::pair<Index, Term>> ids) {
  std::vector<Entry> out;
  for (auto [i, t] : ids) out.push_back(Entry{t, i, EntryType::kNormal, ""});
  return out;
}

TEST(RaftLogTest, FindConflict) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_EQ(log.FindConflict({}), 0u);
  EXPECT_EQ(log.FindConflict(Ents({{2, 2}, {3, 3}})), 0u);
  EXPECT_EQ(log.FindConflict(Ents({{2, 2}, {3, 3}, {4, 4}})), 4u) << "new entries";
  EXPECT_EQ(log.FindConflict(Ents({{2, 1}, {3, 4}})), 2u);
}

TEST(RaftLogTest, FindConflictByTermSkipsNewerTerms) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append(Ents({{1, 1}, {2, 1}, {3, 4}, {4, 4}, {5, 4}}));
  EXPECT_EQ(log.FindConflictByTerm(5, 2), 2u);
  EXPECT_EQ(log.FindConflictByTerm(5, 4), 5u);
  EXPECT_EQ(log.FindConflictByTerm(9, 4), 9u) << "beyond the log: unchanged";
}

TEST(RaftLogTest, MaybeAppendRejectsMismatchAndTruncatesConflicts) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_FALSE(log.MaybeAppend(3, 2, 3, Ents({{4, 4}})).has_value());
  auto last = log.MaybeAppend(1, 1, 2, Ents({{2, 5}}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 2u);
  EXPECT_EQ(log.LastIndex(), 2u);
  EXPECT_EQ(*log.TermOf(2), 5u);
  EXPECT_EQ(log.committed(), 2u) << "min(leader commit, last new index)";
}

TEST(RaftLogTest, CommitOnlyForTermAndNeverBackwards) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append(Ents({{1, 1}, {2, 2}}));
  EXPECT_FALSE(log.MaybeCommit(1, 2));
  EXPECT_TRUE(log.MaybeCommit(2, 2));
  log.CommitTo(1);
  EXPECT_EQ(log.committed(), 2u);
}

TEST(RaftLogTest, IsUpToDate) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_TRUE(log.IsUpToDate(1, 4));
  EXPECT_FALSE(log.IsUpToDate(5, 2));
  EXPECT_TRUE(log.IsUpToDate(3, 3));
  EXPECT_FALSE(log.IsUpToDate(2, 3));
}

TEST(RaftLogTest, StableToIgnoresReplacedEntries) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append(Ents({{1, 1}, {2, 1}}));
  log.Append(Ents({{2, 2}}));
  log.StableTo(2, 1);  // A stale Ready: entry 2 was replaced by 2/2.
  EXPECT_EQ(log.UnstableEntries().size(), 2u);
  log.StableTo(2, 2);
  EXPECT_TRUE(log.UnstableEntries().empty());
}

TEST(RaftLogTest, SliceSpansStorageAndUnstable) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append(Ents({{1, 1}, {2, 1}})).ok());
  RaftLog log(&s, UINT64_MAX);
  log.Append(Ents({{3, 2}, {4, 2}}));
  auto all = log.Slice(1, 5, UINT64_MAX);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  EXPECT_EQ(log.Slice(1, 5, 0)->size(), 1u);
}

TEST(RaftLogTest, NextEntsRespectsByteLimit) {
  MemoryStorage s;
  RaftLog log(&s, 2 * EntrySize(Entry{}));
  log.Append(Ents({{1, 1}, {2, 1}, {3, 1}}));
  log.CommitTo(3);
  EXPECT_EQ(log.NextEnts().size(), 2u);
  log.AppliedTo(2);
  EXPECT_EQ(log.NextEnts().size(), 1u);
}

}  // namespace
}  // namespace cairn::raft
