// KeyIndex: visibility at a revision, spans, undo, compaction (what it keeps and what
// it forgets), prev-revision lookups and the compacted error.
#include "server/mvcc/key_index.h"

#include <gtest/gtest.h>

#include "server/mvcc/errors.h"

#include <string>
#include <vector>

namespace cairn::mvcc {
namespace {

IndexedRevision PutAt(int64_t main, int64_t create, int64_t version, int64_t lease = 0, int64_t sub = 0) {
  return {main, sub, create, version, lease};
}
IndexedRevision TombAt(int64_t main, int64_t sub = 0) { return {main, sub, 0, 0, 0}; }
const std::string kFromKey("\0", 1);  // range_end: every key >= key

std::string LiveAt(const KeyIndex& index, const KeySpan& span, int64_t at) {
  std::string out;
  Status s = index.Visit(span, at, [&](std::string_view key, const IndexedRevision& r) {
    out += std::string(out.empty() ? "" : ",") + std::string(key) + "@" + std::to_string(r.main);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// a: put 2, put 3, tombstone 5, put 7.  b: put 4.  c: put 6 (lease 9).
class KeyIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    index_.Append("a", PutAt(2, 2, 1));
    index_.Append("a", PutAt(3, 2, 2));
    index_.Append("b", PutAt(4, 4, 1));
    index_.Append("a", TombAt(5));
    index_.Append("c", PutAt(6, 6, 1, 9));
    index_.Append("a", PutAt(7, 7, 1));
  }
  KeyIndex index_;
};

TEST_F(KeyIndexTest, GetSeesTheNewestRevisionAtOrBelowAndNothingAfterATombstone) {
  EXPECT_FALSE(index_.Get("a", 1)->has_value());
  EXPECT_EQ(index_.Get("a", 2)->value().main, 2);
  EXPECT_EQ(index_.Get("a", 4)->value().main, 3);
  EXPECT_EQ(index_.Get("a", 4)->value().version, 2);
  EXPECT_FALSE(index_.Get("a", 5)->has_value());
  EXPECT_FALSE(index_.Get("a", 6)->has_value());
  EXPECT_EQ(index_.Get("a", 7)->value().create_rev, 7);
  EXPECT_FALSE(index_.Get("zz", 7)->has_value());
}

TEST_F(KeyIndexTest, VisitHonoursSpansAndRevisionAndStopsEarly) {
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("a", kFromKey), 7), "a@7,b@4,c@6");
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("a", kFromKey), 5), "b@4");
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("a", "c"), 4), "a@3,b@4");
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("b", ""), 7), "b@4");
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("c", "a"), 7), "");
  int seen = 0;
  ASSERT_TRUE(index_.Visit(KeySpan::Of("a", "z"), 7, [&](std::string_view, const IndexedRevision&) {
    return ++seen < 2;
  }).ok());
  EXPECT_EQ(seen, 2);
}

TEST_F(KeyIndexTest, SubRevisionsOfOneMainRevisionResolveToTheLast) {
  index_.Append("d", PutAt(8, 8, 1, 0, 0));
  index_.Append("d", TombAt(8, 1));
  EXPECT_FALSE(index_.Get("d", 8)->has_value());
}

TEST_F(KeyIndexTest, RemoveNewestUndoesAnAppend) {
  index_.Append("a", PutAt(8, 7, 2));
  index_.Append("new", PutAt(8, 8, 1, 0, 1));
  index_.RemoveNewest("new", 8, 1);
  index_.RemoveNewest("a", 8, 0);
  EXPECT_EQ(index_.Get("a", 8)->value().main, 7);
  EXPECT_FALSE(index_.Get("new", 8)->has_value());
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("a", "z"), 8), "a@7,b@4,c@6");
}

TEST_F(KeyIndexTest, CompactKeepsTheNewestLiveRevisionAtOrBelowAndEverythingAbove) {
  index_.Compact(4);
  EXPECT_EQ(index_.CompactedRevision(), 4);
  EXPECT_FALSE(index_.Contains("a", 2, 0));  // superseded at 4
  EXPECT_TRUE(index_.Contains("a", 3, 0));
  EXPECT_TRUE(index_.Contains("a", 5, 0));
  EXPECT_TRUE(index_.Contains("b", 4, 0));
  EXPECT_EQ(index_.Get("a", 4)->value().main, 3);
  EXPECT_EQ(index_.Get("a", 3).status().ToString(), ErrCompacted().ToString());
  const auto [kept, at] = index_.KeptRevisions();
  EXPECT_EQ(at, 4);
  EXPECT_EQ(kept, (RevisionSet{{3, 0}, {4, 0}}));
}

TEST_F(KeyIndexTest, CompactAtATombstoneForgetsItAndTheGenerationBeforeIt) {
  index_.Compact(5);
  EXPECT_FALSE(index_.Contains("a", 3, 0));
  EXPECT_FALSE(index_.Contains("a", 5, 0));
  EXPECT_TRUE(index_.Contains("a", 7, 0));
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("a", "z"), 5), "b@4");
  index_.Append("b", TombAt(8));
  index_.Compact(8);
  EXPECT_FALSE(index_.Contains("b", 4, 0));
  EXPECT_FALSE(index_.Contains("b", 8, 0));
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("a", "z"), 8), "a@7,c@6");
}

TEST_F(KeyIndexTest, ReadsBelowTheCompactedRevisionFail) {
  index_.Compact(6);
  EXPECT_FALSE(index_.Visit(KeySpan::Of("a", "z"), 5, [](std::string_view, const IndexedRevision&) {
    ADD_FAILURE() << "visited below the compacted revision";
    return true;
  }).ok());
  EXPECT_TRUE(index_.Get("a", 6).ok());
  EXPECT_FALSE(index_.RevisionsBefore({{"a", 7, 0}}, 6).ok());
  EXPECT_TRUE(index_.RevisionsBefore({{"a", 7, 0}}, 7).ok());
}

TEST_F(KeyIndexTest, RevisionsBeforeFindsThePreviousRevisionTombstoneOrNot) {
  auto r = index_.RevisionsBefore({{"a", 7, 0}, {"a", 5, 0}, {"a", 2, 0}, {"b", 4, 0}, {"none", 3, 0}}, 1);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 5u);
  EXPECT_TRUE((*r)[0]->tombstone());
  EXPECT_EQ((*r)[0]->main, 5);
  EXPECT_EQ((*r)[1]->main, 3);
  EXPECT_FALSE((*r)[2].has_value());
  EXPECT_FALSE((*r)[3].has_value());
  EXPECT_FALSE((*r)[4].has_value());
}

TEST_F(KeyIndexTest, LeasedKeysAreTheLiveKeysWhoseNewestRevisionHasALease) {
  index_.Append("b", PutAt(8, 4, 2, 5));
  index_.Append("c", TombAt(9));
  const std::vector<std::pair<std::string, int64_t>> want = {{"b", 5}};
  EXPECT_EQ(index_.LeasedKeys(), want);
}

TEST_F(KeyIndexTest, ClearForgetsEverythingIncludingTheCompaction) {
  index_.Compact(4);
  index_.Clear();
  EXPECT_EQ(index_.CompactedRevision(), 0);
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("a", kFromKey), 100), "");
}

}  // namespace
}  // namespace cairn::mvcc
