#include "operator/backup/object_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "operator/s3/sigv4.h"

namespace cairn::op::backup {
namespace {

namespace fs = std::filesystem;

class S3Store : public ObjectStore {
 public:
  S3Store(std::unique_ptr<s3::Client> client, std::string bucket) : client_(std::move(client)), bucket_(std::move(bucket)) {}

  std::string Url(const std::string& key) const override { return "s3://" + bucket_ + "/" + key; }
  Result<StoredObject> Put(const std::string& key, const ByteReader& read) override {
    auto up = client_->Upload(key, read);
    if (!up.ok()) return up.status();
    return StoredObject{key, up->size, up->sha256};
  }
  Result<StoredObject> Get(const std::string& key, const ByteWriter& write) override {
    auto got = client_->GetObject(key, write);
    if (!got.ok()) return got.status();
    return StoredObject{key, got->size, got->sha256};
  }
  Result<std::vector<std::string>> List(const std::string& prefix) override {
    auto objects = client_->ListObjectsV2(prefix);
    if (!objects.ok()) return objects.status();
    std::vector<std::string> keys;
    for (const auto& o : *objects) keys.push_back(o.key);
    return keys;
  }
  Status Delete(const std::string& key) override { return client_->DeleteObject(key); }

 private:
  std::unique_ptr<s3::Client> client_;
  std::string bucket_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Status Errno(const std::string& what) { return Status::IoError(what + ": " + std::strerror(errno)); }

class DirectoryStore : public ObjectStore {
 public:
  explicit DirectoryStore(std::string root) : root_(std::move(root)) {}

  std::string Url(const std::string& key) const override { return "file://" + Path(key); }

  Result<StoredObject> Put(const std::string& key, const ByteReader& read) override {
    CAIRN_RETURN_IF_ERROR(CheckKey(key));
    const std::string path = Path(key);
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) return Status::IoError("create directory for " + path + ": " + ec.message());
    // Written beside its final name and renamed once synced: the key never names a partial object.
    const std::string part = path + ".part";
    Fd fd(::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return Errno("create " + part);
    auto copied = Copy(read, fd.get(), part);
    Status st = copied.status();
    if (st.ok() && ::fsync(fd.get()) != 0) st = Errno("fsync " + part);
    if (st.ok() && ::rename(part.c_str(), path.c_str()) != 0) st = Errno("rename " + part);
    if (!st.ok()) {
      ::unlink(part.c_str());
      return st;
    }
    Fd dir(::open(fs::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) (void)::fsync(dir.get());
    return StoredObject{key, copied->first, copied->second};
  }

  Result<StoredObject> Get(const std::string& key, const ByteWriter& write) override {
    CAIRN_RETURN_IF_ERROR(CheckKey(key));
    const std::string path = Path(key);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) return Status::NotFound("no object " + Url(key));
      return Errno("open " + path);
    }
    s3::Sha256 sha;
    StoredObject out{key, 0, ""};
    std::vector<char> buf(1 << 20);
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("read " + path);
      if (n == 0) break;
      sha.Update(buf.data(), static_cast<size_t>(n));
      out.size += static_cast<uint64_t>(n);
      CAIRN_RETURN_IF_ERROR(write(buf.data(), static_cast<size_t>(n)));
    }
    out.sha256 = sha.HexDigest();
    return out;
  }

  Result<std::vector<std::string>> List(const std::string& prefix) override {
    std::vector<std::string> keys;
    std::error_code ec;
    if (!fs::exists(root_, ec)) return keys;
    for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string key = fs::relative(it->path(), root_).string();
      if (key.size() >= 5 && key.compare(key.size() - 5, 5, ".part") == 0) continue;
      if (key.rfind(prefix, 0) == 0) keys.push_back(std::move(key));
    }
    if (ec) return Status::IoError("list " + root_ + ": " + ec.message());
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  Status Delete(const std::string& key) override {
    CAIRN_RETURN_IF_ERROR(CheckKey(key));
    if (::unlink(Path(key).c_str()) != 0 && errno != ENOENT) return Errno("delete " + Path(key));
    return Status::Ok();
  }

 private:
  std::string Path(const std::string& key) const { return root_ + "/" + key; }
  static Status CheckKey(const std::string& key) {
    if (key.empty() || key[0] == '/' || key.find("..") != std::string::npos) {
      return Status::InvalidArgument("object key \"" + key + "\" must be a relative name without \"..\"");
    }
    return Status::Ok();
  }
  // Size and SHA-256 of what was copied.
  static Result<std::pair<uint64_t, std::string>> Copy(const ByteReader& read, int fd, const std::string& path) {
    s3::Sha256 sha;
    uint64_t size = 0;
    std::vector<char> buf(1 << 20);
    for (;;) {
      auto n = read(buf.data(), buf.size());
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      sha.Update(buf.data(), *n);
      for (size_t off = 0; off < *n;) {
        const ssize_t w = ::write(fd, buf.data() + off, *n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return Errno("write " + path);
        off += static_cast<size_t>(w);
      }
      size += *n;
    }
    return std::make_pair(size, sha.HexDigest());
  }

  std::string root_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewS3Store(std::unique_ptr<s3::Client> client, std::string bucket) {
  return std::make_unique<S3Store>(std::move(client), std::move(bucket));
}

std::unique_ptr<ObjectStore> NewDirectoryStore(std::string root) {
  return std::make_unique<DirectoryStore>(std::move(root));
}

}  // namespace cairn::op::backup
