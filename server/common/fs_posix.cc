// POSIX FileSystem. Retries EINTR and short transfers; fsyncs parent directories after
// namespace changes so a created, renamed or removed name survives a crash.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "server/common/fs.h"

namespace cairn {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  if (err == ENOSPC || err == EDQUOT) return NoSpaceError(what + " " + path);
  std::string msg = what + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound("io: " + msg);
  return Status::IoError(msg);
}

int OpenRetry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// close() must not be retried on EINTR on Linux: the descriptor is already released.
int CloseFd(int fd) { return ::close(fd); }

Status FsyncPath(const std::string& path, int extra_flags) {
  int fd = OpenRetry(path.c_str(), O_RDONLY | extra_flags);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  Status st;
  if (::fsync(fd) != 0) st = ErrnoStatus("fsync", path, errno);
  CloseFd(fd);
  return st;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t pos)
      : path_(std::move(path)), fd_(fd), pos_(pos) {}
  ~PosixWritableFile() override { (void)Close(); }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::FailedPrecondition("io: append to closed file " + path_);
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(pos_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      // A zero-byte write of a non-empty buffer would loop forever; the kernel only
      // does that when the device is full.
      if (n == 0) return NoSpaceError("write " + path_);
      p += n;
      left -= static_cast<size_t>(n);
      pos_ += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (fd_ < 0) return Status::FailedPrecondition("io: sync of closed file " + path_);
    int rc;
    do {
      rc = ::fdatasync(fd_);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Status::FailedPrecondition("io: truncate of closed file " + path_);
    int rc;
    do {
      rc = ::ftruncate(fd_, static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoStatus("ftruncate", path_, errno);
    pos_ = size;
    return Status::Ok();
  }

  Status Preallocate(uint64_t size) override {
    if (fd_ < 0) return Status::FailedPrecondition("io: preallocate of closed file " + path_);
    // posix_fallocate uses fallocate(2) where supported and writes zeros otherwise; it
    // reports errors through its return value, not errno.
    int rc;
    do {
      rc = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    } while (rc == EINTR);
    if (rc != 0) return ErrnoStatus("fallocate", path_, rc);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int fd = fd_;
    fd_ = -1;
    if (CloseFd(fd) != 0 && errno != EINTR) return ErrnoStatus("close", path_, errno);
    return Status::Ok();
  }

  uint64_t Size() const override { return pos_; }

 private:
  std::string path_;
  int fd_;
  uint64_t pos_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { CloseFd(fd_); }

 private:
  int fd_;
};

class PosixFs final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     uint64_t offset) override {
    int fd = OpenRetry(path.c_str(), O_WRONLY);
    if (fd < 0 && errno == ENOENT) {
      fd = OpenRetry(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (fd < 0) return ErrnoStatus("create", path, errno);
      Status st = SyncDir(DirName(path));
      if (!st.ok()) {
        CloseFd(fd);
        return st;
      }
    }
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, offset));
  }

  Result<std::string> ReadFile(const std::string& path) override {
    auto size = FileSize(path);
    if (!size.ok()) return size.status();
    return ReadAt(path, 0, static_cast<size_t>(*size));
  }

  Result<std::string> ReadAt(const std::string& path, uint64_t offset, size_t n) override {
    int fd = OpenRetry(path.c_str(), O_RDONLY);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        CloseFd(fd);
        return ErrnoStatus("read", path, err);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    CloseFd(fd);
    out.resize(got);
    return out;
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus("opendir", dir, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus("readdir", dir, err);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status CreateDir(const std::string& dir) override {
    if (dir.empty()) return Status::InvalidArgument("io: empty directory name");
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = dir.find('/', pos + 1);
      std::string prefix = dir.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0755) == 0) {
        CAIRN_RETURN_IF_ERROR(SyncDir(DirName(prefix)));
      } else if (errno != EEXIST) {
        return ErrnoStatus("mkdir", prefix, errno);
      }
    }
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("stat", dir, errno);
    if (!S_ISDIR(st.st_mode)) return Status::IoError("mkdir " + dir + ": not a directory");
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename", from, errno);
    CAIRN_RETURN_IF_ERROR(SyncDir(DirName(to)));
    if (DirName(from) != DirName(to)) return SyncDir(DirName(from));
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return SyncDir(DirName(path));
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncate", path, errno);
    }
    return FsyncPath(path, O_RDONLY);
  }

  Status SyncDir(const std::string& dir) override { return FsyncPath(dir, O_DIRECTORY); }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = OpenRetry(path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      int err = errno;
      CloseFd(fd);
      if (err == EWOULDBLOCK) {
        return Status::FailedPrecondition("io: " + path + " is locked by another process");
      }
      return ErrnoStatus("flock", path, err);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }
};

}  // namespace

FileSystem* PosixFileSystem() {
  static PosixFs* fs = new PosixFs();
  return fs;
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace cairn
