// The hand-written WatchResponse encoder must produce exactly protobuf's bytes for the
// same responses, fragments included; anything else would be a wire incompatibility
// with every etcd client.
#include "server/api/watch_response_encoder.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cairn::api {
namespace {

using watch::Delivery;

std::string Bytes(const grpc::ByteBuffer& b) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(b.Dump(&slices).ok());
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// What gRPC sends for `d`: each response serialized through its SerializationTraits.
std::vector<std::string> Encoded(Delivery d, const HeaderFields& h, size_t limit) {
  std::deque<OutgoingWatchResponse> out;
  AppendResponses(std::move(d), h, limit, &out);
  std::vector<std::string> bytes;
  for (const auto& r : out) {
    grpc::ByteBuffer b;
    bool own = false;
    EXPECT_TRUE(grpc::SerializationTraits<OutgoingWatchResponse>::Serialize(r, &b, &own).ok());
    EXPECT_TRUE(own);
    bytes.push_back(Bytes(b));
  }
  return bytes;
}

std::vector<std::string> Reference(const Delivery& d, const HeaderFields& h, size_t limit) {
  std::vector<std::string> bytes;
  for (const auto& r : BuildResponses(d, h, limit)) bytes.push_back(r.SerializeAsString());
  return bytes;
}

watch::SharedEvent Event(std::mt19937_64& rng, bool with_prev) {
  mvccpb::Event e;
  e.set_type(rng() % 2 == 0 ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
  auto fill = [&](mvccpb::KeyValue* kv) {
    kv->set_key("key/" + std::to_string(rng() % 1000));
    kv->set_value(std::string(rng() % 300, 'v'));
    kv->set_create_revision(static_cast<int64_t>(rng() % 100000));
    kv->set_mod_revision(static_cast<int64_t>(rng() >> 1));
    kv->set_version(static_cast<int64_t>(rng() % 5));
    kv->set_lease(static_cast<int64_t>(rng() % 3 == 0 ? rng() >> 1 : 0));
  };
  fill(e.mutable_kv());
  if (with_prev) fill(e.mutable_prev_kv());
  return std::make_shared<const watch::WatchEvent>(std::move(e));
}

TEST(WatchResponseEncoderTest, EventsResponsesAreProtobufsBytes) {
  std::mt19937_64 rng(7);
  const int64_t ids[] = {0, 1, 127, 128, -1, INT64_MAX};
  const uint64_t header_values[] = {0, 1, 300, UINT64_MAX};
  for (int round = 0; round < 2000; ++round) {
    Delivery d;
    d.kind = Delivery::Kind::kEvents;
    d.watch_id = ids[rng() % 6];
    // Watchers sharing the delivery: each gets the same responses under its own id.
    for (int more = static_cast<int>(rng() % 4); more > 0; --more) d.more_watch_ids.push_back(ids[rng() % 6]);
    d.revision = static_cast<int64_t>(rng() % 4 == 0 ? 0 : rng() >> 1);
    d.prev_kv = rng() % 2 == 0;
    d.fragment = rng() % 2 == 0;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) d.events.push_back(Event(rng, rng() % 2 == 0));
    const HeaderFields h{header_values[rng() % 4], header_values[rng() % 4], header_values[rng() % 4]};
    const size_t limit = 50 + rng() % 2000;
    const auto got = Encoded(d, h, limit);
    ASSERT_EQ(got, Reference(d, h, limit)) << "round " << round;
    // Each watcher's responses end with the one fragment = false; a fragment is always
    // followed by the rest of the same watcher's response.
    size_t lasts = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      etcdserverpb::WatchResponse r;
      ASSERT_TRUE(r.ParseFromString(got[i]));
      if (!r.fragment()) {
        ++lasts;
        continue;
      }
      EXPECT_TRUE(d.fragment);
      ASSERT_LT(i + 1, got.size());
      etcdserverpb::WatchResponse next;
      ASSERT_TRUE(next.ParseFromString(got[i + 1]));
      EXPECT_EQ(next.watch_id(), r.watch_id());
    }
    EXPECT_EQ(lasts, 1 + d.more_watch_ids.size());
  }
}

TEST(WatchResponseEncoderTest, FragmentsFollowEtcdsSendFragments) {
  std::mt19937_64 rng(1);
  Delivery d;
  d.kind = Delivery::Kind::kEvents;
  d.watch_id = 3;
  d.revision = 9;
  d.fragment = true;
  for (int i = 0; i < 10; ++i) d.events.push_back(Event(rng, false));
  const HeaderFields h{1, 2, 3};
  const size_t limit = 700;
  const auto got = Encoded(d, h, limit);
  ASSERT_GT(got.size(), 1u);
  size_t events = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    etcdserverpb::WatchResponse r;
    ASSERT_TRUE(r.ParseFromString(got[i]));
    ASSERT_GE(r.events_size(), 1);
    EXPECT_EQ(r.fragment(), i + 1 < got.size());
    // Under the limit unless a single event alone reaches it.
    if (r.events_size() > 1) {
      EXPECT_LT(got[i].size(), limit);
    }
    for (const auto& e : r.events()) EXPECT_EQ(e.SerializeAsString(), d.events[events++]->Encoded(false));
  }
  EXPECT_EQ(events, d.events.size());
  d.fragment = false;
  EXPECT_EQ(Encoded(d, h, limit).size(), 1u);
}

TEST(WatchResponseEncoderTest, ControlResponses) {
  const HeaderFields h{0x1234, 0x5678, 3};
  Delivery created;
  created.kind = Delivery::Kind::kCreated;
  created.watch_id = -1;
  created.revision = 5;
  created.cancel_reason = "mvcc: watcher range is empty";
  Delivery compacted;
  compacted.kind = Delivery::Kind::kCompacted;
  compacted.watch_id = 4;
  compacted.compact_revision = 17;
  for (const Delivery& d : {created, compacted}) {
    const auto got = Encoded(d, h, 1000);
    ASSERT_EQ(got.size(), 1u);
    etcdserverpb::WatchResponse r;
    ASSERT_TRUE(r.ParseFromString(got[0]));
    EXPECT_EQ(r.header().cluster_id(), 0x1234u);
    EXPECT_TRUE(r.canceled());
    EXPECT_EQ(r.watch_id(), d.watch_id);
    EXPECT_EQ(r.created(), d.kind == Delivery::Kind::kCreated);
    EXPECT_EQ(r.cancel_reason(), d.cancel_reason);
    EXPECT_EQ(r.compact_revision(), d.compact_revision);
  }
}

TEST(WatchEventTest, EncodingWithoutPrevKvDropsOnlyPrevKv) {
  std::mt19937_64 rng(3);
  const auto e = Event(rng, true);
  mvccpb::Event without;
  ASSERT_TRUE(without.ParseFromString(e->Encoded(false)));
  EXPECT_FALSE(without.has_prev_kv());
  EXPECT_EQ(without.kv().SerializeAsString(), e->kv().SerializeAsString());
  EXPECT_EQ(without.type(), e->type());
  EXPECT_EQ(e->Encoded(true), e->proto().SerializeAsString());
}

}  // namespace
}  // namespace cairn::api
