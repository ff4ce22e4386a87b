#include "operator/backup/delta_segment.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstring>

namespace cairn::op::backup {
namespace {

mvccpb::Event Put(const std::string& key, const std::string& value, int64_t create, int64_t mod, int64_t version,
                  int64_t lease = 0) {
  mvccpb::Event e;
  e.set_type(mvccpb::Event::PUT);
  auto* kv = e.mutable_kv();
  kv->set_key(key);
  kv->set_value(value);
  kv->set_create_revision(create);
  kv->set_mod_revision(mod);
  kv->set_version(version);
  kv->set_lease(lease);
  return e;
}

mvccpb::Event Delete(const std::string& key, int64_t mod) {
  mvccpb::Event e;
  e.set_type(mvccpb::Event::DELETE);
  e.mutable_kv()->set_key(key);
  e.mutable_kv()->set_mod_revision(mod);
  return e;
}

// Revisions 41..43: a put with a lease, a txn of two writes (a put and a delete), and a
// binary key and value.
std::vector<DeltaRevision> Sample() {
  std::vector<DeltaRevision> out(3);
  out[0] = {41, 1'700'000'000'000'000'001, {Put("a", "1", 41, 41, 1, 0x1234)}};
  out[1] = {42, 1'700'000'000'500'000'000, {Put("a", "2", 41, 42, 2), Delete("b", 42)}};
  out[2] = {43, 1'700'000'001'000'000'000, {Put(std::string("k\0\xff", 3), std::string(3000, '\0'), 43, 43, 1)}};
  return out;
}

void ExpectSame(const std::vector<DeltaRevision>& got, const std::vector<DeltaRevision>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].revision, want[i].revision);
    EXPECT_EQ(got[i].seen_unix_nanos, want[i].seen_unix_nanos);
    ASSERT_EQ(got[i].events.size(), want[i].events.size());
    for (size_t j = 0; j < got[i].events.size(); ++j) {
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got[i].events[j], want[i].events[j]))
          << got[i].events[j].DebugString();
    }
  }
}

TEST(DeltaSegmentTest, RoundTripsRevisionsEventsAndTimes) {
  const std::string body = EncodeDeltaBody(41, Sample());
  EXPECT_EQ(body.compare(0, 12, kDeltaMagic), 0);
  auto decoded = DecodeDeltaBody(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->first, 41);
  EXPECT_EQ(decoded->last, 43);
  ExpectSame(decoded->revisions, Sample());
}

TEST(DeltaSegmentTest, StreamingDecoderReadsAnyChunking) {
  const std::string body = EncodeDeltaBody(41, Sample());
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{1} << 20}) {
    size_t pos = 0;
    DeltaDecoder dec([&](char* buf, size_t cap) -> Result<size_t> {
      const size_t n = std::min({cap, chunk, body.size() - pos});
      std::memcpy(buf, body.data() + pos, n);
      pos += n;
      return n;
    });
    std::vector<DeltaRevision> got;
    for (;;) {
      auto r = dec.Next();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      if (!*r) break;
      got.push_back(std::move(**r));
    }
    ExpectSame(got, Sample());
    EXPECT_EQ(dec.last_revision(), 43);
  }
}

TEST(DeltaSegmentTest, AnEmptyBodyEndsBeforeItsFirstRevision) {
  auto decoded = DecodeDeltaBody(EncodeDeltaBody(100, {}));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->first, 100);
  EXPECT_EQ(decoded->last, 99);
  EXPECT_TRUE(decoded->revisions.empty());
}

// Every damaged byte, every truncation and anything appended is refused as DataLoss:
// a segment is either exactly what was written or not used at all.
TEST(DeltaSegmentTest, AnyDamageTruncationOrTrailingByteIsDataLoss) {
  const std::string body = EncodeDeltaBody(41, Sample());
  for (size_t i = 0; i < body.size(); ++i) {
    std::string bad = body;
    bad[i] ^= 0x01;
    auto d = DecodeDeltaBody(bad);
    ASSERT_EQ(d.status().code(), StatusCode::kDataLoss) << "flipped byte " << i;
  }
  for (size_t n = 0; n < body.size(); ++n) {
    ASSERT_EQ(DecodeDeltaBody(body.substr(0, n)).status().code(), StatusCode::kDataLoss) << "truncated to " << n;
  }
  EXPECT_EQ(DecodeDeltaBody(body + "x").status().code(), StatusCode::kDataLoss);
  // The streaming decoder, which checks the checksum where it is, names what follows it.
  const std::string longer = body + "x";
  DeltaDecoder dec(StringReader(longer));
  Status end = Status::Ok();
  for (int i = 0; i < 10 && end.ok(); ++i) end = dec.Next().status();
  EXPECT_EQ(end.code(), StatusCode::kDataLoss);
  EXPECT_NE(end.message().find("trailing"), std::string::npos) << end.ToString();
  auto flipped = DecodeDeltaBody(body.substr(0, body.size() - 1) + static_cast<char>(body.back() ^ 0x80));
  EXPECT_NE(flipped.status().message().find("checksum"), std::string::npos) << flipped.status().ToString();
}

TEST(DeltaSegmentTest, EncoderRefusesGapsRepeatsAndEmptyRevisions) {
  std::string out;
  DeltaEncoder enc(10, [&](const char* p, size_t n) {
    out.append(p, n);
    return Status::Ok();
  });
  EXPECT_EQ(enc.Add({11, 0, {Put("a", "x", 11, 11, 1)}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(enc.Add({10, 0, {}}).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(enc.Add({10, 0, {Put("a", "x", 10, 10, 1)}}).ok());
  EXPECT_EQ(enc.Add({10, 0, {Put("a", "y", 10, 10, 2)}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(enc.last_revision(), 10);
  ASSERT_TRUE(enc.Finish().ok());
  auto decoded = DecodeDeltaBody(out);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->last, 10);
}

TEST(DeltaSegmentTest, NamesCarryRevisionsAndCodecAndSortByRevision) {
  const std::string name = DeltaSegmentName("team/ns/c/", 41, 1000, Compression::kZstd);
  EXPECT_EQ(name, "team/ns/c/delta-00000000000000000041-00000000000000001000.rev.zst");
  auto k = ParseDeltaSegmentName("team/ns/c/", name);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->first, 41);
  EXPECT_EQ(k->last, 1000);
  EXPECT_EQ(k->compression, Compression::kZstd);
  EXPECT_EQ(ParseDeltaSegmentName("team/ns/c/", DeltaSegmentName("team/ns/c/", 5, 5, Compression::kNone))->compression,
            Compression::kNone);
  EXPECT_LT(DeltaSegmentName("p/", 9, 20, Compression::kGzip), DeltaSegmentName("p/", 21, 22, Compression::kGzip));
  for (const std::string bad :
       {"team/ns/c/full-20260101T000000Z-00000000000000000041.db", "other/delta-00000000000000000041-00000000000000001000.rev",
        "team/ns/c/delta-00000000000000000041-00000000000000001000.rev.lz4",
        "team/ns/c/delta-00000000000000001000-00000000000000000041.rev",
        "team/ns/c/delta-0000000000000000004x-00000000000000001000.rev",
        "team/ns/c/delta-00000000000000000000-00000000000000001000.rev"}) {
    EXPECT_FALSE(ParseDeltaSegmentName("team/ns/c/", bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace cairn::op::backup
