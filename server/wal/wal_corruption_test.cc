// Reopening after every kind of on-disk damage: torn tails are repaired, anything else
// is DataLoss naming the file and offset, with all files left byte-identical.
#include <gtest/gtest.h>

#include "server/common/test_dir.h"
#include "server/wal/scan.h"
#include "server/wal/test_util.h"
#include "server/wal/wal.h"

namespace cairn::wal {
namespace {

using testing::FlipByte;
using testing::MakeEntries;
using testing::MakeEntry;

struct Span {
  uint64_t offset;
  uint64_t end;
};

class WalCorruptionTest : public ::testing::Test {
 protected:
  // `n` entries, one synced Save each, in segments of `segment_bytes`.
  void Build(raft::Index n, uint64_t segment_bytes = 64 << 10) {
    options_.segment_bytes = segment_bytes;
    auto wal = Wal::Create(fs_, dir_, "member=1", options_);
    ASSERT_TRUE(wal.ok());
    for (raft::Index i = 1; i <= n; ++i) {
      ASSERT_TRUE((*wal)->Save({1, 1, i}, {MakeEntry(i, 1, 40)}).ok());
    }
  }

  std::vector<Span> Records(const std::string& path) {
    std::string image = *fs_->ReadFile(path);
    SegmentScan scan;
    CAIRN_CHECK(ScanSegment(path, image, true, &scan).ok());
    std::vector<Span> out;
    for (const auto& r : scan.records) out.push_back({r.offset, r.end});
    return out;
  }

  std::string LastSegment() { return testing::SegmentPaths(fs_, dir_).back(); }

  Result<std::pair<std::unique_ptr<Wal>, Recovered>> Open() {
    return Wal::Open(fs_, dir_, options_);
  }

  // Opens, expecting success with entries 1..n.
  void ExpectRecovers(raft::Index n) {
    auto r = Open();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->second.entries, MakeEntries(1, n, 1, 40));
    EXPECT_EQ(r->first->LastIndex(), n);
  }

  // Opens, expecting DataLoss whose message contains each of `parts`, with no file changed.
  void ExpectDataLoss(const std::vector<std::string>& parts) {
    auto before = testing::DirImage(fs_, dir_);
    auto r = Open();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
    for (const auto& p : parts) {
      EXPECT_NE(r.status().message().find(p), std::string::npos)
          << "missing '" << p << "' in: " << r.status().message();
    }
    EXPECT_EQ(testing::DirImage(fs_, dir_), before);
  }

  static std::string At(uint64_t offset) { return "at offset " + std::to_string(offset) + ":"; }

  TempDir tmp_;
  FileSystem* fs_ = PosixFileSystem();
  std::string dir_ = tmp_.Join("wal");
  Options options_;
};

TEST_F(WalCorruptionTest, BadCrcMidLogIsDataLossAndLeavesFilesIdentical) {
  Build(20);
  std::string path = LastSegment();
  Span victim = Records(path)[10];
  FlipByte(fs_, path, victim.end - 1);
  ExpectDataLoss({"wal: corrupt record in " + path, At(victim.offset), "crc mismatch"});
}

TEST_F(WalCorruptionTest, BadCrcInTheLastRecordIsATornTail) {
  Build(20);
  std::string path = LastSegment();
  // The last Save wrote the entry and then the hard state; the entry's damage is followed
  // only by records of the same unattested write.
  auto recs = Records(path);
  FlipByte(fs_, path, recs[recs.size() - 2].end - 3);
  ExpectRecovers(19);
  // The repair is durable and the WAL appends after it.
  auto r = Open();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->first->Save({}, {MakeEntry(20, 1, 40)}).ok());
  r->first.reset();
  ExpectRecovers(20);
}

TEST_F(WalCorruptionTest, TailTruncatedAtEveryByteOfTheLastRecord) {
  Build(5);
  std::string path = LastSegment();
  // The hard state record follows the entry in each Save; cut through both.
  auto recs = Records(path);
  Span entry = recs[recs.size() - 2];
  Span hs = recs.back();
  std::string original = *fs_->ReadFile(path);
  for (uint64_t cut = entry.offset; cut < hs.end; ++cut) {
    testing::WriteFileAt(fs_, path, 0, original);
    ASSERT_TRUE(fs_->Truncate(path, cut).ok());
    ExpectRecovers(cut < entry.end ? 4 : 5);
    if (HasFailure()) {
      ADD_FAILURE() << "cut at " << cut;
      return;
    }
    EXPECT_EQ(*fs_->FileSize(path), options_.segment_bytes);
  }
}

TEST_F(WalCorruptionTest, TornTailZeroFilledInsidePreallocatedSpace) {
  Build(5);
  std::string path = LastSegment();
  auto recs = Records(path);
  Span entry = recs[recs.size() - 2];
  std::string original = *fs_->ReadFile(path);
  for (uint64_t cut = entry.offset; cut < recs.back().end; ++cut) {
    testing::WriteFileAt(fs_, path, 0, original);
    testing::WriteFileAt(fs_, path, cut, std::string(recs.back().end - cut, '\0'));
    ExpectRecovers(cut < entry.end ? 4 : 5);
    if (HasFailure()) {
      ADD_FAILURE() << "zeroed from " << cut;
      return;
    }
  }
}

TEST_F(WalCorruptionTest, GarbageWithoutValidRecordsAfterTheEndIsTorn) {
  Build(5);
  std::string path = LastSegment();
  std::string garbage;
  for (int i = 0; i < 500; ++i) garbage.push_back(static_cast<char>(i * 37 + 11));
  testing::WriteFileAt(fs_, path, Records(path).back().end, garbage);
  ExpectRecovers(5);
  std::string after = *fs_->ReadAt(path, Records(path).back().end, garbage.size());
  EXPECT_EQ(after, std::string(garbage.size(), '\0'));
}

// The unused tail must be entirely zero: one stray byte anywhere in it, up to the very
// last byte of the segment, is damage (a torn tail in the last segment).
TEST_F(WalCorruptionTest, AStrayByteAnywhereInTheUnusedTailIsNoticed) {
  Build(5);
  const std::string path = LastSegment();
  const std::string original = *fs_->ReadFile(path);
  const uint64_t end = Records(path).back().end;
  SegmentScan clean;
  ASSERT_TRUE(ScanSegment(path, original, /*last=*/false, &clean).ok());
  EXPECT_FALSE(clean.torn);
  for (uint64_t at : {end, end + 1, end + 4097, uint64_t{original.size() - 2}, uint64_t{original.size() - 1}}) {
    std::string image = original;
    image[at] = '\x01';
    SegmentScan scan;
    EXPECT_EQ(ScanSegment(path, image, /*last=*/false, &scan).code(), StatusCode::kDataLoss) << at;
    ASSERT_TRUE(ScanSegment(path, image, /*last=*/true, &scan).ok()) << at;
    EXPECT_TRUE(scan.torn) << at;
    EXPECT_EQ(scan.end, end) << at;
  }
}

TEST_F(WalCorruptionTest, HugeLengthInTheLastRecordIsTorn) {
  Build(5);
  std::string path = LastSegment();
  testing::WriteFileAt(fs_, path, Records(path).back().offset + 4, "\xff\xff\xff\xff");
  ExpectRecovers(5);
}

TEST_F(WalCorruptionTest, HugeLengthMidLogIsDataLoss) {
  Build(20);
  std::string path = LastSegment();
  Span victim = Records(path)[7];
  testing::WriteFileAt(fs_, path, victim.offset + 4, "\xff\xff\xff\x7f");
  ExpectDataLoss({path, At(victim.offset), "bad record length"});
}

TEST_F(WalCorruptionTest, ZeroedRecordsMidLogAreDataLoss) {
  Build(20);
  std::string path = LastSegment();
  auto recs = Records(path);
  testing::WriteFileAt(fs_, path, recs[8].offset, std::string(recs[9].end - recs[8].offset, '\0'));
  ExpectDataLoss({path, At(recs[8].offset)});
}

TEST_F(WalCorruptionTest, AnyBadRecordInANonLastSegmentIsDataLoss) {
  Build(100, 4096);
  auto paths = testing::SegmentPaths(fs_, dir_);
  ASSERT_GE(paths.size(), 3u);
  // Its very last record: in the last segment this would be a torn tail.
  Span victim = Records(paths[1]).back();
  FlipByte(fs_, paths[1], victim.end - 1);
  ExpectDataLoss({paths[1], At(victim.offset), "crc mismatch"});
}

TEST_F(WalCorruptionTest, LengthPastEofInANonLastSegmentIsDataLoss) {
  Build(100, 4096);
  auto paths = testing::SegmentPaths(fs_, dir_);
  Span victim = Records(paths[0]).back();
  uint32_t len = static_cast<uint32_t>(victim.end - victim.offset - kRecordHeaderSize + 100);
  testing::WriteFileAt(fs_, paths[0], victim.offset + 4, std::string(reinterpret_cast<char*>(&len), 4));
  ExpectDataLoss({paths[0], At(victim.offset), "record length runs past end of file"});
}

TEST_F(WalCorruptionTest, TruncatedNonLastSegmentIsDataLoss) {
  Build(100, 4096);
  auto paths = testing::SegmentPaths(fs_, dir_);
  Span victim = Records(paths[0]).back();
  ASSERT_TRUE(fs_->Truncate(paths[0], victim.end - 1).ok());
  ExpectDataLoss({paths[0], At(victim.offset)});
}

TEST_F(WalCorruptionTest, CorruptSegmentHeaderIsDataLoss) {
  Build(100, 4096);
  auto paths = testing::SegmentPaths(fs_, dir_);
  for (const std::string& path : {paths[1], paths.back()}) {
    FlipByte(fs_, path, 20);
    ExpectDataLoss({"bad segment header in " + path + " at offset 0", "header crc mismatch"});
    FlipByte(fs_, path, 20);
  }
  FlipByte(fs_, paths[0], 2);
  ExpectDataLoss({"bad segment header in " + paths[0], "bad magic"});
}

TEST_F(WalCorruptionTest, SegmentRenamedToTheWrongIndexIsDataLoss) {
  Build(100, 4096);
  auto paths = testing::SegmentPaths(fs_, dir_);
  auto id = *ParseSegmentName(paths[1].substr(dir_.size() + 1));
  std::string renamed = dir_ + "/" + SegmentName(id.seq, id.first_index + 1);
  ASSERT_TRUE(fs_->Rename(paths[1], renamed).ok());
  ExpectDataLoss({"bad segment header in " + renamed, "does not match the file name"});
}

TEST_F(WalCorruptionTest, MissingSegmentInTheMiddleIsDataLoss) {
  Build(100, 4096);
  auto paths = testing::SegmentPaths(fs_, dir_);
  ASSERT_GE(paths.size(), 3u);
  ASSERT_TRUE(fs_->Remove(paths[1]).ok());
  ExpectDataLoss({"missing segment between " + paths[0] + " and " + paths[2]});
}

TEST_F(WalCorruptionTest, MissingFirstSegmentWithoutASnapshotIsDataLoss) {
  Build(100, 4096);
  auto paths = testing::SegmentPaths(fs_, dir_);
  ASSERT_TRUE(fs_->Remove(paths[0]).ok());
  ExpectDataLoss({"but the latest snapshot marker is at 0"});
}

}  // namespace
}  // namespace cairn::wal
