// Range semantics: every range_end form, limit/more/count, sorts, filters, keys_only,
// count_only, historical reads and revision errors.
#include <gtest/gtest.h>

#include "server/mvcc/tests/store_fixture.h"

namespace cairn::mvcc::testing {
namespace {

using etcdserverpb::RangeRequest;

class RangeTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    Put("a", "3");   // rev 2
    Put("b", "1");   // rev 3
    Put("c", "2");   // rev 4
    Put("b", "0");   // rev 5: b version 2
    Put("d", "9");   // rev 6
  }
};

TEST_F(RangeTest, SingleKey) {
  auto r = Range(Req("b"));
  ASSERT_EQ(r.kvs_size(), 1);
  EXPECT_EQ(r.kvs(0).value(), "0");
  EXPECT_EQ(r.kvs(0).create_revision(), 3);
  EXPECT_EQ(r.kvs(0).mod_revision(), 5);
  EXPECT_EQ(r.kvs(0).version(), 2);
  EXPECT_EQ(r.count(), 1);
  EXPECT_EQ(r.header().revision(), 6);
  EXPECT_EQ(Range(Req("bb")).kvs_size(), 0);
}

TEST_F(RangeTest, RangeEndForms) {
  EXPECT_EQ(Keys(Range(Req("b", "d"))), "b,c");
  EXPECT_EQ(Keys(Range(Req("b", std::string(1, '\0')))), "b,c,d");
  EXPECT_EQ(Keys(Range(Req(std::string(1, '\0'), std::string(1, '\0')))), "a,b,c,d");
  EXPECT_EQ(Keys(Range(Req("c", "b"))), "");
}

TEST_F(RangeTest, LimitMoreCount) {
  auto req = Req("a", "z");
  req.set_limit(2);
  auto r = Range(req);
  EXPECT_EQ(Keys(r), "a,b");
  EXPECT_TRUE(r.more());
  EXPECT_EQ(r.count(), 4);
  req.set_limit(4);
  r = Range(req);
  EXPECT_FALSE(r.more());
  EXPECT_EQ(r.count(), 4);
}

TEST_F(RangeTest, Sorts) {
  auto req = Req("a", "z");
  req.set_sort_order(RangeRequest::DESCEND);
  EXPECT_EQ(Keys(Range(req)), "d,c,b,a");
  req.set_sort_target(RangeRequest::VALUE);
  EXPECT_EQ(Keys(Range(req)), "d,a,c,b");
  req.set_sort_order(RangeRequest::NONE);  // NONE with a non-KEY target means ASCEND
  EXPECT_EQ(Keys(Range(req)), "b,c,a,d");
  req.set_sort_target(RangeRequest::MOD);
  req.set_sort_order(RangeRequest::DESCEND);
  req.set_limit(2);
  auto r = Range(req);
  EXPECT_EQ(Keys(r), "d,b");
  EXPECT_TRUE(r.more());
  req.set_sort_target(RangeRequest::CREATE);
  req.set_sort_order(RangeRequest::ASCEND);
  req.set_limit(0);
  EXPECT_EQ(Keys(Range(req)), "a,b,c,d");
  req.set_sort_target(RangeRequest::VERSION);
  req.set_sort_order(RangeRequest::DESCEND);
  EXPECT_EQ(Keys(Range(req)).substr(0, 1), "b");
}

TEST_F(RangeTest, FiltersApplyBeforeLimitAndDoNotChangeCount) {
  auto req = Req("a", "z");
  req.set_min_mod_revision(4);
  auto r = Range(req);
  EXPECT_EQ(Keys(r), "b,c,d");
  EXPECT_EQ(r.count(), 4);
  req.set_max_mod_revision(5);
  req.set_limit(1);
  r = Range(req);
  EXPECT_EQ(Keys(r), "b");
  EXPECT_TRUE(r.more());
  req = Req("a", "z");
  req.set_max_create_revision(3);
  req.set_min_create_revision(3);
  EXPECT_EQ(Keys(Range(req)), "b");
}

TEST_F(RangeTest, KeysOnlyAndCountOnly) {
  auto req = Req("a", "z");
  req.set_keys_only(true);
  auto r = Range(req);
  ASSERT_EQ(r.kvs_size(), 4);
  EXPECT_EQ(r.kvs(0).value(), "");
  EXPECT_EQ(r.kvs(0).mod_revision(), 2);
  req = Req("a", "z");
  req.set_count_only(true);
  r = Range(req);
  EXPECT_EQ(r.kvs_size(), 0);
  EXPECT_EQ(r.count(), 4);
}

TEST_F(RangeTest, Historical) {
  Delete("c");  // rev 7
  EXPECT_EQ(Keys(Range(Req("a", "z"))), "a,b,d");
  auto r = Range(Req("a", "z", 4));
  EXPECT_EQ(Keys(r), "a,b,c");
  EXPECT_EQ(r.kvs(1).value(), "1");
  EXPECT_EQ(r.kvs(1).version(), 1);
  EXPECT_EQ(r.count(), 3);
  EXPECT_EQ(r.header().revision(), 7);
  EXPECT_EQ(Keys(Range(Req("a", "z", 1))), "");
  EXPECT_EQ(Keys(Range(Req("a", "z", 6))), "a,b,c,d");

  auto req = Req("a", "z", 6);
  req.set_limit(2);
  req.set_sort_order(RangeRequest::DESCEND);
  req.set_sort_target(RangeRequest::VALUE);
  r = Range(req);
  EXPECT_EQ(Keys(r), "d,a");
  EXPECT_TRUE(r.more());
  EXPECT_EQ(r.count(), 4);
  req = Req("a", "z", 6);
  req.set_min_mod_revision(5);
  req.set_keys_only(true);
  r = Range(req);
  EXPECT_EQ(Keys(r), "b,d");
  EXPECT_EQ(r.kvs(0).value(), "");
  req = Req("a", "z", 6);
  req.set_count_only(true);
  r = Range(req);
  EXPECT_EQ(r.count(), 4);
  EXPECT_EQ(r.kvs_size(), 0);
}

TEST_F(RangeTest, FutureRevision) {
  etcdserverpb::RangeResponse resp;
  Status s = store_->Range(Req("a", "", 7), &resp);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(), "etcdserver: mvcc: required revision is a future revision");
}

TEST_F(RangeTest, BinaryKeysUseByteOrder) {
  Put(std::string("\x00\x01", 2), "x");
  Put(std::string("\xff", 1), "y");
  auto r = Range(Req(std::string(1, '\0'), std::string(1, '\0')));
  ASSERT_EQ(r.kvs_size(), 6);
  EXPECT_EQ(r.kvs(0).key(), std::string("\x00\x01", 2));
  EXPECT_EQ(r.kvs(5).key(), "\xff");
}

}  // namespace
}  // namespace cairn::mvcc::testing
