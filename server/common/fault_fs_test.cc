#include "server/common/fault_fs.h"

#include <gtest/gtest.h>

#include "server/common/test_dir.h"

namespace cairn {
namespace {

class FaultFsTest : public ::testing::Test {
 protected:
  std::unique_ptr<WritableFile> Open(const std::string& name, uint64_t offset = 0) {
    auto f = fs_.OpenWritable(dir_.Join(name), offset);
    CAIRN_CHECK(f.ok());
    return std::move(*f);
  }
  std::string Read(const std::string& name) { return *fs_.ReadFile(dir_.Join(name)); }

  TempDir dir_;
  FaultInjectingFileSystem fs_{PosixFileSystem()};
};

TEST_F(FaultFsTest, CrashDropsUnsyncedData) {
  auto f = Open("f");
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("-volatile").ok());
  EXPECT_EQ(Read("f"), "durable-volatile");
  ASSERT_TRUE(fs_.Crash().ok());
  EXPECT_EQ(Read("f"), "durable");
  EXPECT_EQ(f->Append("x").code(), StatusCode::kFailedPrecondition);
}

TEST_F(FaultFsTest, CrashRestoresOverwrittenBytesTruncationAndPreallocation) {
  auto f = Open("f");
  ASSERT_TRUE(f->Append("0123456789").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Truncate(4).ok());
  ASSERT_TRUE(f->Append("abcdefghijkl").ok());
  ASSERT_TRUE(f->Preallocate(100).ok());
  ASSERT_TRUE(fs_.Crash().ok());
  EXPECT_EQ(Read("f"), "0123456789");
}

TEST_F(FaultFsTest, CrashCanKeepATornPrefix) {
  auto f = Open("f");
  ASSERT_TRUE(f->Append("AAAA").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("BBBB").ok());
  ASSERT_TRUE(f->Append("CCCC").ok());
  ASSERT_TRUE(fs_.Crash(6).ok());
  EXPECT_EQ(Read("f"), "AAAABBBBCC");
}

TEST_F(FaultFsTest, CreatedFileSurvivesEmptyAndRenameMovesUndo) {
  auto f = Open("tmp");
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(fs_.Rename(dir_.Join("tmp"), dir_.Join("final")).ok());
  ASSERT_TRUE(fs_.Crash().ok());
  EXPECT_FALSE(fs_.Exists(dir_.Join("tmp")));
  EXPECT_EQ(Read("final"), "");
}

TEST_F(FaultFsTest, FailAppendWritesPrefixThenFails) {
  auto f = Open("f");
  fs_.FailAppend(2, Status::IoError("injected"), 3);
  ASSERT_TRUE(f->Append("one").ok());
  Status st = f->Append("two-two");
  EXPECT_EQ(st, Status::IoError("injected"));
  EXPECT_EQ(Read("f"), "onetwo");
  EXPECT_TRUE(f->Append("!").ok());
  EXPECT_EQ(fs_.appends(), 3u);
}

TEST_F(FaultFsTest, FailedSyncLeavesDataVolatile) {
  auto f = Open("f");
  ASSERT_TRUE(f->Append("x").ok());
  fs_.FailSync(1, Status::IoError("EIO"));
  EXPECT_FALSE(f->Sync().ok());
  ASSERT_TRUE(fs_.Crash().ok());
  EXPECT_EQ(Read("f"), "");
}

TEST_F(FaultFsTest, DiskFull) {
  auto f = Open("f");
  fs_.SetDiskFull(true);
  EXPECT_EQ(f->Append("x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(f->Preallocate(4096).code(), StatusCode::kResourceExhausted);
  fs_.SetDiskFull(false);
  EXPECT_TRUE(f->Append("x").ok());
}

}  // namespace
}  // namespace cairn
