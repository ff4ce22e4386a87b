// KeyIndex: visibility at a revision, spans, undo, compaction (what it keeps and what
// it forgets), prev-revision lookups and the compacted error.
#include "server/mvcc/key_index.h"

#include <gtest/gtest.h>

#include "server/mvcc/errors.h"
#include "server/mvcc/key_revisions.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <tuple>
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

TEST_F(KeyIndexTest, LoadReplacesEverythingIncludingTheCompaction) {
  index_.Compact(4);
  index_.Load({}, 0);
  EXPECT_EQ(index_.CompactedRevision(), 0);
  EXPECT_EQ(LiveAt(index_, KeySpan::Of("a", kFromKey), 100), "");
}


// A random history: requests of one to three writes to distinct keys out of a few, each
// a put (with or without a lease) or, for a live key, a delete.
std::vector<KeyIndex::Row> RandomHistory(std::mt19937_64& rng, const std::vector<std::string>& keys, int64_t revisions) {
  std::map<std::string_view, IndexedRevision> newest;
  std::vector<KeyIndex::Row> rows;
  for (int64_t main = 2; main < 2 + revisions; ++main) {
    std::vector<std::string_view> picked;
    for (const std::string& k : keys) picked.push_back(k);
    std::shuffle(picked.begin(), picked.end(), rng);
    picked.resize(1 + rng() % 3);
    for (size_t sub = 0; sub < picked.size(); ++sub) {
      const std::string_view key = picked[sub];
      auto prev = newest.find(key);
      const bool live = prev != newest.end() && !prev->second.tombstone();
      IndexedRevision rev;
      if (live && rng() % 4 == 0) {
        rev = TombAt(main, static_cast<int64_t>(sub));
      } else {
        rev = PutAt(main, live ? prev->second.create_rev : main, live ? prev->second.version + 1 : 1,
                    rng() % 3 == 0 ? static_cast<int64_t>(rng() % 5 + 1) : 0, static_cast<int64_t>(sub));
      }
      newest[key] = rev;
      rows.push_back({key, rev});
    }
  }
  return rows;
}

// Everything the index answers about `rows` (every row ever written) at and above its
// compacted revision: two indexes with equal fingerprints hold the same revisions.
std::string Fingerprint(const KeyIndex& index, const std::vector<KeyIndex::Row>& rows, int64_t newest) {
  const int64_t compacted = index.CompactedRevision();
  std::string out = "compacted " + std::to_string(compacted) + "\n";
  auto show = [](const std::optional<IndexedRevision>& r) {
    if (!r) return std::string("-");
    return std::to_string(r->main) + "." + std::to_string(r->sub) + "/" + std::to_string(r->create_rev) + "/" +
           std::to_string(r->version) + "/" + std::to_string(r->lease);
  };
  for (const KeyIndex::Row& r : rows) {
    auto before = index.RevisionsBefore({{r.key, r.rev.main, r.rev.sub + 1}}, compacted + 1);
    EXPECT_TRUE(before.ok());
    out += std::string(r.key) + (index.Contains(r.key, r.rev.main, r.rev.sub) ? " has " : " lacks ") +
           std::to_string(r.rev.main) + "." + std::to_string(r.rev.sub) + ", before it " + show(before->at(0)) + "\n";
  }
  for (int64_t at = std::max<int64_t>(compacted, 1); at <= newest; ++at) {
    out += std::to_string(at) + ": " + LiveAt(index, KeySpan::Of("", kFromKey), at) + "\n";
  }
  auto [kept, kept_at] = index.KeptRevisions();
  std::vector<std::pair<int64_t, int64_t>> sorted(kept.begin(), kept.end());
  std::sort(sorted.begin(), sorted.end());
  out += "kept at " + std::to_string(kept_at) + ":";
  for (const auto& [main, sub] : sorted) out += " " + std::to_string(main) + "." + std::to_string(sub);
  out += "\nleased:";
  for (const auto& [key, lease] : index.LeasedKeys()) out += " " + key + "=" + std::to_string(lease);
  return out;
}

TEST(KeyIndexLoadTest, LoadingATablesRowsEqualsAppendingThemAndCompacting) {
  const std::vector<std::string> keys = {"a", "b", "ba", "c", std::string("\0x", 2), "key/1", "key/2", "zz"};
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const int64_t revisions = 1 + static_cast<int64_t>(rng() % 40);
    const std::vector<KeyIndex::Row> history = RandomHistory(rng, keys, revisions);
    const int64_t newest = 1 + revisions;
    // Appended one by one, compacted now and then, as the apply thread does.
    KeyIndex appended;
    int64_t compacted = 0;
    for (size_t i = 0; i < history.size(); ++i) {
      const KeyIndex::Row& r = history[i];
      appended.Append(r.key, r.rev);
      // A compaction comes between requests, at most at the revision just written.
      const bool request_done = i + 1 == history.size() || history[i + 1].rev.main != r.rev.main;
      if (request_done && rng() % 10 == 0) {
        compacted = compacted + static_cast<int64_t>(rng() % static_cast<uint64_t>(r.rev.main - compacted + 1));
        if (compacted > 0) appended.Compact(compacted);
      }
    }
    // The table: every row the index keeps, and the others from where a physical
    // compaction still running has got to (it deletes in revision order) on.
    std::vector<KeyIndex::Row> table;
    const size_t cursor = rng() % (history.size() + 1);
    for (size_t i = 0; i < history.size(); ++i) {
      const KeyIndex::Row& r = history[i];
      if (appended.Contains(r.key, r.rev.main, r.rev.sub) || i >= cursor) table.push_back(r);
    }
    std::shuffle(table.begin(), table.end(), rng);
    KeyIndex loaded;
    loaded.Append("stale", PutAt(1, 1, 1));  // Load replaces whatever was there
    loaded.Load(table, compacted);
    ASSERT_EQ(Fingerprint(loaded, history, newest), Fingerprint(appended, history, newest));
    // Both go on the same way afterwards.
    for (KeyIndex* index : {&appended, &loaded}) {
      index->Append("b", PutAt(newest + 1, newest + 1, 1, 0, 0));
      index->Append("new", PutAt(newest + 1, newest + 1, 1, 7, 1));
      index->Compact(newest);
    }
    ASSERT_EQ(Fingerprint(loaded, history, newest + 1), Fingerprint(appended, history, newest + 1));
  }
}

// KeyRevisions against a vector doing the same, for keys of every length around the
// block's padding (including empty and embedded NULs) and moves.
TEST(KeyRevisionsTest, BehavesLikeAKeyAndAVector) {
  std::mt19937_64 rng(7);
  for (size_t key_size = 0; key_size < 40; ++key_size) {
    std::string key(key_size, '\0');
    for (char& c : key) c = static_cast<char>(rng());
    std::vector<IndexedRevision> want;
    for (int i = 0; i < 3; ++i) want.push_back(PutAt(2 + i, 2, 1 + i, i, i));
    KeyRevisions revs = KeyRevisions::Make(key, want.data(), want.size());
    for (int step = 0; step < 200; ++step) {
      const uint64_t op = rng() % 4;
      if (op <= 1) {
        want.push_back(PutAt(100 + step, 7, step, static_cast<int64_t>(rng()), step));
        revs.PushBack(want.back());
      } else if (op == 2 && !want.empty()) {
        want.pop_back();
        revs.PopBack();
      } else if (!want.empty()) {
        const size_t n = rng() % (want.size() + 1);
        want.erase(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(n));
        revs.EraseFront(n);
      }
      if (step % 50 == 0) {
        KeyRevisions moved(std::move(revs));
        EXPECT_TRUE(revs.empty());
        revs = std::move(moved);
      }
      ASSERT_EQ(revs.key(), key);
      ASSERT_EQ(revs.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        const IndexedRevision& got = revs.begin()[i];
        ASSERT_EQ(std::tie(got.main, got.sub, got.create_rev, got.version, got.lease),
                  std::tie(want[i].main, want[i].sub, want[i].create_rev, want[i].version, want[i].lease));
      }
    }
  }
}

}  // namespace
}  // namespace cairn::mvcc
