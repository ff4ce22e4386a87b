// FileSystem: the seam between durable-storage code and the operating system.
//
// Everything that must survive a crash (the WAL, snapshots) goes through this interface
// so tests can substitute FaultInjectingFileSystem and model I/O errors, a full disk,
// torn writes and the loss of unsynced data. PosixFileSystem() is the real thing.
//
// Durability contract (what callers may rely on):
//   - WritableFile::Sync() makes the file's data (and the size needed to read it) durable.
//   - Creating a file (OpenWritable on a missing path), Rename, Remove and CreateDir are
//     durable when they return OK: the implementation fsyncs the parent directory.
//   - FileSystem::Truncate is durable when it returns OK (the file is fsynced).
// Errors are values: IoError (code kInternal) for failed syscalls, ResourceExhausted for
// ENOSPC (see NoSpaceError), NotFound for missing paths, FailedPrecondition for a held lock.
//
// Thread-safety: FileSystem implementations are safe for concurrent use. A WritableFile
// is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace cairn {

// The error every FileSystem reports for ENOSPC, so callers can test for it by code.
inline Status NoSpaceError(const std::string& what) {
  return Status::ResourceExhausted("io: " + what + ": No space left on device");
}

class WritableFile {
 public:
  virtual ~WritableFile() = default;

  // Writes all of `data` at offset Size() and advances Size() by data.size(). On failure
  // a prefix of `data` may have reached the file and Size() is unspecified: the caller
  // must treat the tail as unknown (truncate it or stop using the file).
  virtual Status Append(std::string_view data) = 0;
  // fdatasync: data written so far, and the file length, are durable on OK.
  virtual Status Sync() = 0;
  // Sets the file length to `size` and moves the append position there. Not durable
  // until Sync().
  virtual Status Truncate(uint64_t size) = 0;
  // Reserves zero-filled space so the file is at least `size` bytes long, without moving
  // the append position. Lets later Syncs avoid file-size metadata updates. Not durable
  // until Sync().
  virtual Status Preallocate(uint64_t size) = 0;
  // Releases the descriptor without syncing. Idempotent; destruction also closes.
  virtual Status Close() = 0;
  // The append position: where the next Append lands (not the on-disk length, which
  // preallocation may make larger).
  virtual uint64_t Size() const = 0;
};

// An exclusive advisory lock (flock). Released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens `path` for writing with the append position at `offset`, creating the file if
  // it does not exist (durably). Existing contents are kept.
  virtual Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                             uint64_t offset) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Reads up to `n` bytes at `offset`; shorter only at end of file.
  virtual Result<std::string> ReadAt(const std::string& path, uint64_t offset, size_t n) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Entry names (not paths) in `dir`, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates `dir` and any missing parents. OK if it already exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created if missing) without blocking; fails with
  // FailedPrecondition if anyone else, including this process, holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// The process-wide POSIX implementation. Never null; never destroyed.
FileSystem* PosixFileSystem();

// "a/b/c" -> "a/b"; "c" -> "."; "/c" -> "/".
std::string DirName(const std::string& path);

}  // namespace cairn
