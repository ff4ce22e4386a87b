// FaultInjectingFileSystem: a FileSystem wrapper for crash and error tests.
//
// It forwards to a real FileSystem (usually PosixFileSystem() on a temp dir) and can:
//   - fail the Nth Append or Sync from now with a chosen Status, optionally after letting
//     a prefix of the Append reach the file (a short write, e.g. ENOSPC mid-write);
//   - report ENOSPC for every Append/Preallocate while the disk is "full";
//   - Crash(): roll every file back to its content at its last successful Sync, keeping
//     optionally a prefix of the unsynced appends (a torn write). Files opened before the
//     crash become unusable, as their process would be gone.
// Model: file data is volatile until WritableFile::Sync() (or FileSystem::Truncate)
// succeeds; namespace operations (create, rename, remove) are durable at once, matching
// PosixFileSystem's contract of fsyncing the parent directory. A failed Sync leaves the
// data volatile, so a later Crash still drops it.
// Undo information is kept in memory for every unsynced change, so this is for tests
// with small files. Thread-safety: all methods are safe for concurrent use.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "server/common/fs.h"

namespace cairn {

class FaultInjectingFileSystem final : public FileSystem {
 public:
  // REQUIRES: base outlives this object.
  explicit FaultInjectingFileSystem(FileSystem* base);
  ~FaultInjectingFileSystem() override;

  // The nth Append from now (1-based, over all files) writes data[0, prefix) and then
  // fails with `error`.
  void FailAppend(uint64_t nth, Status error, size_t prefix = 0);
  // The nth Sync from now (1-based, over all files) fails with `error`; nothing becomes
  // durable.
  void FailSync(uint64_t nth, Status error);
  // While set, Append and Preallocate write nothing and return NoSpaceError.
  void SetDiskFull(bool full);
  // Rolls back every unsynced change; per file, the first `keep_unsynced_bytes` bytes of
  // unsynced Appends (in write order) survive. Invalidates all open WritableFiles.
  Status Crash(uint64_t keep_unsynced_bytes = 0);

  uint64_t appends() const;
  uint64_t syncs() const;

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     uint64_t offset) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<std::string> ReadAt(const std::string& path, uint64_t offset, size_t n) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status CreateDir(const std::string& dir) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  bool Exists(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  struct FileState;  // Per-path undo log; public only for the file wrapper.

 private:
  class File;

  std::shared_ptr<FileState> StateFor(const std::string& path);  // REQUIRES: mu_ held.
  // Both REQUIRE: mu_ held.
  Status RecordUndo(FileState* st, uint64_t offset, uint64_t len, bool is_append);
  Status Undo(FileState* st, uint64_t keep_bytes);

  FileSystem* const base_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_;
  uint64_t generation_ = 0;  // Bumped by Crash; files from older generations are dead.
  uint64_t appends_ = 0;
  uint64_t syncs_ = 0;
  uint64_t fail_append_at_ = 0;  // 0: none.
  size_t fail_append_prefix_ = 0;
  Status fail_append_error_;
  uint64_t fail_sync_at_ = 0;
  Status fail_sync_error_;
  bool disk_full_ = false;
};

}  // namespace cairn
