#include "server/wal/record.h"

#include <gtest/gtest.h>

#include "server/wal/test_util.h"

namespace cairn::wal {
namespace {

TEST(Format, SegmentNamesRoundTrip) {
  EXPECT_EQ(SegmentName(2, 0x401), "0000000000000002-0000000000000401.wal");
  auto id = ParseSegmentName("0000000000000002-0000000000000401.wal");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->seq, 2u);
  EXPECT_EQ(id->first_index, 0x401u);
  EXPECT_FALSE(ParseSegmentName("0000000000000002-0000000000000401.wal.tmp"));
  EXPECT_FALSE(ParseSegmentName("000000000000000G-0000000000000401.wal"));
  EXPECT_FALSE(ParseSegmentName("wal.lock"));
}

TEST(Record, SegmentHeaderRoundTripAndRejectsDamage) {
  std::string buf;
  AppendSegmentHeader(&buf, SegmentHeader{0xdeadbeef, 7, 1234});
  ASSERT_EQ(buf.size(), kSegmentHeaderSize);
  SegmentHeader h;
  EXPECT_EQ(ParseSegmentHeader(buf, &h), "");
  EXPECT_EQ(h.salt, 0xdeadbeefu);
  EXPECT_EQ(h.seq, 7u);
  EXPECT_EQ(h.first_index, 1234u);
  std::string bad = buf;
  bad[20] ^= 1;
  EXPECT_EQ(ParseSegmentHeader(bad, &h), "header crc mismatch");
  bad = buf;
  bad[0] = 'X';
  EXPECT_EQ(ParseSegmentHeader(bad, &h), "bad magic");
  EXPECT_NE(ParseSegmentHeader(buf.substr(0, 39), &h), "");
}

TEST(Record, AllTypesRoundTrip) {
  std::string seg(100, '\0');
  RecordEncoder enc(&seg, 100, 42, 60);
  raft::Entry e = testing::MakeEntry(5, 3, 100);
  raft::HardState hs{9, 2, 4};
  raft::SnapshotMetadata snap{10, 3, {{1, 2, 3}, {4}}};
  enc.Metadata("cluster=1");
  enc.Entry(e);
  enc.HardState(hs);
  enc.Snapshot(snap);
  EXPECT_EQ(seg.size(), 100 + MetadataRecordSize("cluster=1") + EntryRecordSize(e) +
                            HardStateRecordSize() + SnapshotRecordSize(snap));

  uint64_t pos = 100;
  RecordView rec;
  const char* why = nullptr;
  ASSERT_EQ(ParseRecordAt(seg, pos, 42, &rec, &why), ParseOutcome::kValid);
  EXPECT_EQ(rec.type, RecordType::kMetadata);
  EXPECT_EQ(rec.payload, "cluster=1");
  EXPECT_EQ(rec.synced, 60u);
  pos = rec.end;
  ASSERT_EQ(ParseRecordAt(seg, pos, 42, &rec, &why), ParseOutcome::kValid);
  raft::Entry e2;
  ASSERT_TRUE(DecodeEntry(rec.payload, &e2));
  EXPECT_EQ(e2, e);
  pos = rec.end;
  ASSERT_EQ(ParseRecordAt(seg, pos, 42, &rec, &why), ParseOutcome::kValid);
  raft::HardState hs2;
  ASSERT_TRUE(DecodeHardState(rec.payload, &hs2));
  EXPECT_EQ(hs2, hs);
  pos = rec.end;
  ASSERT_EQ(ParseRecordAt(seg, pos, 42, &rec, &why), ParseOutcome::kValid);
  raft::SnapshotMetadata snap2;
  ASSERT_TRUE(DecodeSnapshot(rec.payload, &snap2));
  EXPECT_EQ(snap2, snap);
  EXPECT_EQ(rec.end, seg.size());
  EXPECT_EQ(ParseRecordAt(seg, rec.end, 42, &rec, &why), ParseOutcome::kZero);
}

TEST(Record, CrcIsSeededBySaltAndOffset) {
  std::string seg(64, '\0');
  RecordEncoder(&seg, 64, 1, 0).Entry(testing::MakeEntry(1, 1));
  RecordView rec;
  const char* why = nullptr;
  EXPECT_EQ(ParseRecordAt(seg, 64, 1, &rec, &why), ParseOutcome::kValid);
  EXPECT_EQ(ParseRecordAt(seg, 64, 2, &rec, &why), ParseOutcome::kInvalid);
  EXPECT_STREQ(why, "crc mismatch");
  // The same bytes one position later (as after a bad length) do not validate.
  std::string shifted = std::string(65, '\0') + seg.substr(64);
  EXPECT_EQ(ParseRecordAt(shifted, 65, 1, &rec, &why), ParseOutcome::kInvalid);
}

TEST(Record, RejectsBadLengths) {
  std::string seg(64, '\0');
  RecordEncoder(&seg, 64, 1, 0).Entry(testing::MakeEntry(1, 1));
  RecordView rec;
  const char* why = nullptr;
  EXPECT_EQ(ParseRecordAt(seg.substr(0, seg.size() - 1), 64, 1, &rec, &why),
            ParseOutcome::kInvalid);
  EXPECT_STREQ(why, "record length runs past end of file");
  std::string huge = seg;
  huge[64 + 7] = '\x7f';
  EXPECT_EQ(ParseRecordAt(huge, 64, 1, &rec, &why), ParseOutcome::kInvalid);
  EXPECT_STREQ(why, "bad record length");
  EXPECT_EQ(ParseRecordAt(seg.substr(0, 70), 64, 1, &rec, &why), ParseOutcome::kInvalid);
  EXPECT_STREQ(why, "truncated record header");
}

TEST(Record, DecodersRejectShortPayloads) {
  raft::Entry e;
  raft::HardState hs;
  raft::SnapshotMetadata s;
  EXPECT_FALSE(DecodeEntry(std::string(16, '\0'), &e));
  EXPECT_FALSE(DecodeHardState(std::string(23, '\0'), &hs));
  EXPECT_FALSE(DecodeHardState(std::string(25, '\0'), &hs));
  std::string snap(16, '\0');
  snap += std::string("\xff\xff\xff\x0f", 4);  // A voter count far beyond the payload.
  EXPECT_FALSE(DecodeSnapshot(snap, &s));
}

}  // namespace
}  // namespace cairn::wal
