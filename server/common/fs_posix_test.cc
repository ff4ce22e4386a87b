#include <gtest/gtest.h>

#include "server/common/fs.h"
#include "server/common/test_dir.h"

namespace cairn {
namespace {

TEST(PosixFs, WriteReadSizeAndOffsets) {
  TempDir dir;
  FileSystem* fs = PosixFileSystem();
  std::string path = dir.Join("f");
  EXPECT_FALSE(fs->Exists(path));
  auto f = fs->OpenWritable(path, 0);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->Append("hello ").ok());
  ASSERT_TRUE((*f)->Append("world").ok());
  EXPECT_EQ((*f)->Size(), 11u);
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(*fs->ReadFile(path), "hello world");
  EXPECT_EQ(*fs->ReadAt(path, 6, 100), "world");
  EXPECT_EQ(*fs->FileSize(path), 11u);

  auto g = fs->OpenWritable(path, 6);
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE((*g)->Append("WORLD!").ok());
  EXPECT_EQ(*fs->ReadFile(path), "hello WORLD!");
  ASSERT_TRUE((*g)->Truncate(5).ok());
  EXPECT_EQ((*g)->Size(), 5u);
  EXPECT_EQ(*fs->ReadFile(path), "hello");
}

TEST(PosixFs, PreallocateZeroFillsWithoutMovingAppendPosition) {
  TempDir dir;
  FileSystem* fs = PosixFileSystem();
  auto f = fs->OpenWritable(dir.Join("p"), 0);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Preallocate(8192).ok());
  EXPECT_EQ((*f)->Size(), 0u);
  ASSERT_TRUE((*f)->Append("abc").ok());
  std::string data = *fs->ReadFile(dir.Join("p"));
  ASSERT_EQ(data.size(), 8192u);
  EXPECT_EQ(data.substr(0, 3), "abc");
  EXPECT_EQ(data.substr(3), std::string(8189, '\0'));
}

TEST(PosixFs, DirectoriesRenameRemoveTruncate) {
  TempDir dir;
  FileSystem* fs = PosixFileSystem();
  std::string sub = dir.Join("a/b/c");
  ASSERT_TRUE(fs->CreateDir(sub).ok());
  ASSERT_TRUE(fs->CreateDir(sub).ok());
  ASSERT_TRUE((*fs->OpenWritable(sub + "/x", 0))->Append("12345").ok());
  ASSERT_TRUE(fs->Rename(sub + "/x", sub + "/y").ok());
  EXPECT_EQ(*fs->ListDir(sub), std::vector<std::string>{"y"});
  ASSERT_TRUE(fs->Truncate(sub + "/y", 2).ok());
  EXPECT_EQ(*fs->ReadFile(sub + "/y"), "12");
  ASSERT_TRUE(fs->Remove(sub + "/y").ok());
  EXPECT_TRUE(fs->ListDir(sub)->empty());
  EXPECT_EQ(fs->ReadFile(sub + "/y").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs->Remove(sub + "/y").code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs->ListDir(dir.Join("missing")).ok());
}

TEST(PosixFs, LockIsExclusiveEvenWithinAProcess) {
  TempDir dir;
  FileSystem* fs = PosixFileSystem();
  auto a = fs->LockFile(dir.Join("LOCK"));
  ASSERT_TRUE(a.ok());
  auto b = fs->LockFile(dir.Join("LOCK"));
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition);
  a.value().reset();
  EXPECT_TRUE(fs->LockFile(dir.Join("LOCK")).ok());
}

TEST(PosixFs, DirName) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
}

}  // namespace
}  // namespace cairn
