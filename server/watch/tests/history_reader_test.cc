// HistoryReader: events read back from storage equal the events the apply batch
// emitted for the same requests (types, kvs, prev_kvs, order), restricted to the range
// and revision window; compacted history is refused.
#include "server/mvcc/history_reader.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>

#include "server/mvcc/tests/store_fixture.h"

namespace cairn::mvcc::testing {
namespace {

using HistoryReaderTest = StoreTest;

class Recorder {
 public:
  explicit Recorder(Store& store) : store_(store) {}
  // One request: puts of `puts` then a delete of [del, del_end) if del is not empty.
  void Txn(const std::vector<std::pair<std::string, std::string>>& puts, const std::string& del = "",
           const std::string& del_end = "") {
    ApplyBatch b(store_);
    b.EnableEvents();
    {
      WriteTxn w(b);
      for (const auto& [k, v] : puts) {
        etcdserverpb::PutRequest p;
        p.set_key(k);
        p.set_value(v);
        ASSERT_TRUE(w.Put(p, nullptr).ok());
      }
      if (!del.empty()) w.DeleteRange(del, del_end, nullptr);
      w.Commit();
    }
    b.Commit(store_.AppliedIndex() + 1);
    for (auto& e : b.TakeEvents()) events_.push_back(std::move(e));
  }
  // The emitted events in [from, to] whose key is in [lo, hi).
  std::vector<mvccpb::Event> Expected(const std::string& lo, const std::string& hi, int64_t from, int64_t to) const {
    std::vector<mvccpb::Event> out;
    for (const auto& e : events_) {
      const auto rev = e.kv().mod_revision();
      if (rev >= from && rev <= to && e.kv().key() >= lo && e.kv().key() < hi) out.push_back(e);
    }
    return out;
  }

 private:
  Store& store_;
  std::vector<mvccpb::Event> events_;
};

void ExpectSame(const std::vector<mvccpb::Event>& got, const std::vector<mvccpb::Event>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got[i], want[i]))
        << i << ": got " << got[i].ShortDebugString() << "\nwant " << want[i].ShortDebugString();
  }
}

TEST_F(HistoryReaderTest, ReadsBackExactlyTheAppliedEvents) {
  Recorder rec(*store_);
  rec.Txn({{"a", "1"}, {"b", "1"}});                 // 2
  rec.Txn({{"b", "2"}, {"a", "2"}, {"c", "1"}});     // 3: subs out of key order
  rec.Txn({}, "a", "c");                             // 4: deletes a and b
  rec.Txn({{"a", "3"}});                             // 5: recreated after a tombstone
  rec.Txn({{"c", "2"}}, "b");                        // 6: delete of a missing key writes nothing
  rec.Txn({{"zz", "1"}});                            // 7
  const int64_t current = store_->CurrentRevision();
  ASSERT_EQ(current, 7);
  struct Case { std::string key, end, lo, hi; int64_t from, to; };
  const std::vector<Case> cases = {
      {"a", "", "a", std::string("a\0", 2), 1, current},
      {"a", "c", "a", "c", 2, current},
      {"a", std::string(1, '\0'), "a", "\xff", 1, current},
      {"b", "zz", "b", "zz", 3, 5},
      {"a", "d", "a", "d", 4, 4},
      {"c", "d", "c", "d", 7, 7},
  };
  for (const Case& c : cases) {
    ReadTxn txn = store_->BeginRead();
    std::vector<mvccpb::Event> got;
    ASSERT_TRUE(HistoryReader::Read(txn, c.key, c.end, c.from, c.to, &got).ok());
    SCOPED_TRACE(c.key + ".." + c.end + " @" + std::to_string(c.from) + "-" + std::to_string(c.to));
    ExpectSame(got, rec.Expected(c.lo, c.hi, c.from, c.to));
  }
}

TEST_F(HistoryReaderTest, RefusesRevisionsAtOrBelowTheCompactRevision) {
  Recorder rec(*store_);
  for (int i = 0; i < 5; ++i) rec.Txn({{"k", std::to_string(i)}});  // revisions 2..6
  ASSERT_TRUE(Compact(4).ok());
  ReadTxn txn = store_->BeginRead();
  std::vector<mvccpb::Event> got;
  EXPECT_EQ(HistoryReader::Read(txn, "k", "", 4, 6, &got).code(), StatusCode::kOutOfRange);
  ASSERT_TRUE(HistoryReader::Read(txn, "k", "", 5, 6, &got).ok());
  ExpectSame(got, rec.Expected("k", std::string("k\0", 2), 5, 6));
  // prev_kv of the first event after compaction is the surviving revision 4.
  EXPECT_EQ(got[0].prev_kv().mod_revision(), 4);
}

}  // namespace
}  // namespace cairn::mvcc::testing
