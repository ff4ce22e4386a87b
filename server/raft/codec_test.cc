// Codec: round trips, a frozen golden encoding, and hostile input (truncation, corruption).
#include "server/raft/codec.h"

#include <gtest/gtest.h>

#include "server/raft/prng.h"
#include "server/raft/to_string.h"

namespace cairn::raft {
namespace {

Message SampleMessage() {
  Message m;
  m.type = MessageType::MsgApp;
  m.to = 2;
  m.from = 1;
  m.term = 7;
  m.log_term = 6;
  m.index = 300;
  m.entries = {Entry{7, 301, EntryType::kNormal, "put k v"},
               Entry{7, 302, EntryType::kConfChange, std::string("\0\xff", 2)}};
  m.commit = 299;
  m.snapshot.metadata = SnapshotMetadata{250, 5, ConfState{{1, 2, 3}, {4}}};
  m.snapshot.data = "state";
  m.reject = true;
  m.reject_hint = 123456789012345ull;
  m.context = "ctx";
  return m;
}

TEST(CodecTest, RoundTripsEveryType) {
  const Message m = SampleMessage();
  EXPECT_EQ(*DecodeMessage(EncodeMessage(m)), m);
  EXPECT_EQ(*DecodeMessage(EncodeMessage(Message{})), Message{});
  const ConfChange cc{ConfChangeType::kRemoveNode, UINT64_MAX, "x"};
  EXPECT_EQ(*DecodeConfChange(EncodeConfChange(cc)), cc);
  const HardState hs{UINT64_MAX, 3, 1ull << 40};
  EXPECT_EQ(*DecodeHardState(EncodeHardState(hs)), hs);
  const ConfState cs{{1, 2, 3}, {9}};
  EXPECT_EQ(*DecodeConfState(EncodeConfState(cs)), cs);
  const SnapshotMetadata md{10, 2, cs};
  EXPECT_EQ(*DecodeSnapshotMetadata(EncodeSnapshotMetadata(md)), md);
  const Entry e{3, 4, EntryType::kNormal, std::string(1000, 'z')};
  EXPECT_EQ(*DecodeEntry(EncodeEntry(e)), e);
}

TEST(CodecTest, EncodingIsFrozen) {
  // Version 1, kind 3 (HardState), varints 5, 2, 300.
  EXPECT_EQ(EncodeHardState(HardState{5, 2, 300}), std::string("\x01\x03\x05\x02\xac\x02", 6));
  EXPECT_EQ(EncodeConfChange(ConfChange{ConfChangeType::kAddLearnerNode, 4, "a"}),
            std::string("\x01\x02\x01\x04\x01" "a", 6));
}

TEST(CodecTest, RejectsWrongVersionKindAndTrailingBytes) {
  std::string b = EncodeHardState(HardState{1, 1, 1});
  EXPECT_FALSE(DecodeConfState(b).ok()) << "kind mismatch";
  std::string v = b;
  v[0] = 2;
  EXPECT_FALSE(DecodeHardState(v).ok());
  EXPECT_FALSE(DecodeHardState(b + "x").ok());
  EXPECT_FALSE(DecodeHardState("").ok());
  EXPECT_EQ(DecodeHardState(b + "x").status().code(), StatusCode::kDataLoss);
}

TEST(CodecTest, RejectsOutOfRangeEnumsAndOverlongVarints) {
  Message m;
  std::string b = EncodeMessage(m);
  b[2] = static_cast<char>(kMaxMessageType + 1);
  EXPECT_FALSE(DecodeMessage(b).ok());
  std::string cc = EncodeConfChange(ConfChange{});
  cc[2] = 3;
  EXPECT_FALSE(DecodeConfChange(cc).ok());
  // Eleven continuation bytes cannot be a uint64.
  std::string hs("\x01\x03", 2);
  hs += std::string(10, '\xff');
  hs += '\x01';
  EXPECT_FALSE(DecodeHardState(hs).ok());
  // A list length far beyond the input must not allocate.
  std::string cs("\x01\x04\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11);
  EXPECT_FALSE(DecodeConfState(cs).ok());
}

TEST(CodecTest, EveryTruncationIsAnError) {
  const std::string b = EncodeMessage(SampleMessage());
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_FALSE(DecodeMessage(std::string_view(b).substr(0, n)).ok()) << "prefix " << n;
  }
}

// Fuzz-ish: random corruptions decode to an error or to some valid value, never crash.
// Run under ASan/UBSan (CAIRN_SANITIZE) to catch undefined behaviour.
TEST(CodecTest, RandomCorruptionNeverCrashes) {
  Prng rng(42);
  const std::string good = EncodeMessage(SampleMessage());
  size_t decoded = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b = good;
    const int flips = 1 + static_cast<int>(rng.Uniform(4));
    for (int i = 0; i < flips; ++i) b[rng.Uniform(b.size())] = static_cast<char>(rng.Next());
    if (rng.Uniform(3) == 0) b.resize(rng.Uniform(b.size() + 1));
    auto m = DecodeMessage(b);
    if (m.ok()) {
      ++decoded;
      // A value that decodes re-encodes to the same bytes (the encoding is canonical for
      // the fields it carries, except non-minimal varints which the encoder never emits).
      EXPECT_FALSE(ToString(*m).empty());
    }
  }
  for (int iter = 0; iter < 5000; ++iter) {
    std::string b(rng.Uniform(64), '\0');
    for (char& ch : b) ch = static_cast<char>(rng.Next());
    if (b.size() >= 2 && rng.Uniform(2) == 0) {
      b[0] = 1;
      b[1] = static_cast<char>(1 + rng.Uniform(6));
    }
    (void)DecodeMessage(b);
    (void)DecodeConfChange(b);
    (void)DecodeHardState(b);
    (void)DecodeConfState(b);
    (void)DecodeSnapshotMetadata(b);
    (void)DecodeEntry(b);
  }
  EXPECT_GT(decoded, 0u);
}

}  // namespace
}  // namespace cairn::raft
