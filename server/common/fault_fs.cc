#include "server/common/fault_fs.h"

#include <algorithm>
#include <vector>

namespace cairn {

namespace {

// How to put one unsynced change back: write `old_bytes` at `offset`, then set the
// length to `old_size`. Appends additionally remember their length so a crash can keep
// a prefix of them.
struct UndoRecord {
  uint64_t offset = 0;
  std::string old_bytes;
  uint64_t old_size = 0;
  uint64_t append_len = 0;
  bool is_append = false;
};

}  // namespace

struct FaultInjectingFileSystem::FileState {
  std::string path;
  std::vector<UndoRecord> undo;  // Oldest first.
  bool removed = false;
};

class FaultInjectingFileSystem::File final : public WritableFile {
 public:
  File(FaultInjectingFileSystem* fs, std::shared_ptr<FileState> st,
       std::unique_ptr<WritableFile> base, uint64_t generation)
      : fs_(fs), st_(std::move(st)), base_(std::move(base)), generation_(generation) {}

  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> l(fs_->mu_);
    CAIRN_RETURN_IF_ERROR(Alive());
    ++fs_->appends_;
    if (fs_->disk_full_) return NoSpaceError("write " + st_->path);
    size_t n = data.size();
    Status injected;
    if (fs_->fail_append_at_ == fs_->appends_) {
      fs_->fail_append_at_ = 0;
      n = std::min(fs_->fail_append_prefix_, data.size());
      injected = fs_->fail_append_error_;
    }
    if (n > 0) {
      CAIRN_RETURN_IF_ERROR(fs_->RecordUndo(st_.get(), base_->Size(), n, true));
      CAIRN_RETURN_IF_ERROR(base_->Append(data.substr(0, n)));
    }
    return injected;
  }

  Status Sync() override {
    std::lock_guard<std::mutex> l(fs_->mu_);
    CAIRN_RETURN_IF_ERROR(Alive());
    ++fs_->syncs_;
    if (fs_->fail_sync_at_ == fs_->syncs_) {
      fs_->fail_sync_at_ = 0;
      return fs_->fail_sync_error_;
    }
    CAIRN_RETURN_IF_ERROR(base_->Sync());
    st_->undo.clear();
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> l(fs_->mu_);
    CAIRN_RETURN_IF_ERROR(Alive());
    auto cur = fs_->base_->FileSize(st_->path);
    if (!cur.ok()) return cur.status();
    uint64_t removed = *cur > size ? *cur - size : 0;
    CAIRN_RETURN_IF_ERROR(fs_->RecordUndo(st_.get(), size, removed, false));
    return base_->Truncate(size);
  }

  Status Preallocate(uint64_t size) override {
    std::lock_guard<std::mutex> l(fs_->mu_);
    CAIRN_RETURN_IF_ERROR(Alive());
    if (fs_->disk_full_) return NoSpaceError("fallocate " + st_->path);
    CAIRN_RETURN_IF_ERROR(fs_->RecordUndo(st_.get(), 0, 0, false));
    return base_->Preallocate(size);
  }

  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }

 private:
  // REQUIRES: fs_->mu_ held.
  Status Alive() const {
    if (generation_ != fs_->generation_) {
      return Status::FailedPrecondition("io: " + st_->path + " was open across a simulated crash");
    }
    return Status::Ok();
  }

  FaultInjectingFileSystem* fs_;
  std::shared_ptr<FileState> st_;
  std::unique_ptr<WritableFile> base_;
  uint64_t generation_;
};

FaultInjectingFileSystem::FaultInjectingFileSystem(FileSystem* base) : base_(base) {}
FaultInjectingFileSystem::~FaultInjectingFileSystem() = default;

void FaultInjectingFileSystem::FailAppend(uint64_t nth, Status error, size_t prefix) {
  CAIRN_CHECK(nth > 0 && !error.ok());
  std::lock_guard<std::mutex> l(mu_);
  fail_append_at_ = appends_ + nth;
  fail_append_error_ = std::move(error);
  fail_append_prefix_ = prefix;
}

void FaultInjectingFileSystem::FailSync(uint64_t nth, Status error) {
  CAIRN_CHECK(nth > 0 && !error.ok());
  std::lock_guard<std::mutex> l(mu_);
  fail_sync_at_ = syncs_ + nth;
  fail_sync_error_ = std::move(error);
}

void FaultInjectingFileSystem::SetDiskFull(bool full) {
  std::lock_guard<std::mutex> l(mu_);
  disk_full_ = full;
}

uint64_t FaultInjectingFileSystem::appends() const {
  std::lock_guard<std::mutex> l(mu_);
  return appends_;
}

uint64_t FaultInjectingFileSystem::syncs() const {
  std::lock_guard<std::mutex> l(mu_);
  return syncs_;
}

std::shared_ptr<FaultInjectingFileSystem::FileState> FaultInjectingFileSystem::StateFor(
    const std::string& path) {
  auto& st = files_[path];
  if (!st) {
    st = std::make_shared<FileState>();
    st->path = path;
  }
  return st;
}

Status FaultInjectingFileSystem::RecordUndo(FileState* st, uint64_t offset, uint64_t len,
                                            bool is_append) {
  if (st->removed) return Status::Ok();
  auto size = base_->FileSize(st->path);
  if (!size.ok()) return size.status();
  UndoRecord rec;
  rec.offset = offset;
  rec.old_size = *size;
  rec.is_append = is_append;
  rec.append_len = is_append ? len : 0;
  if (offset < *size && len > 0) {
    auto old = base_->ReadAt(st->path, offset, static_cast<size_t>(std::min(len, *size - offset)));
    if (!old.ok()) return old.status();
    rec.old_bytes = std::move(*old);
  }
  st->undo.push_back(std::move(rec));
  return Status::Ok();
}

Status FaultInjectingFileSystem::Undo(FileState* st, uint64_t keep_bytes) {
  // Find the first change that does not survive; an append straddling the budget
  // survives partially (a torn write).
  size_t cut = st->undo.size();
  uint64_t partial = 0;
  uint64_t budget = keep_bytes;
  for (size_t i = 0; i < st->undo.size(); ++i) {
    const UndoRecord& r = st->undo[i];
    if (budget == 0) {
      cut = i;
      break;
    }
    if (!r.is_append) continue;
    if (r.append_len > budget) {
      cut = i;
      partial = budget;
      break;
    }
    budget -= r.append_len;
  }
  for (size_t j = st->undo.size(); j-- > cut;) {
    const UndoRecord& r = st->undo[j];
    uint64_t keep = j == cut ? partial : 0;
    auto f = base_->OpenWritable(st->path, r.offset + keep);
    if (!f.ok()) return f.status();
    if (r.old_bytes.size() > keep) {
      CAIRN_RETURN_IF_ERROR((*f)->Append(std::string_view(r.old_bytes).substr(keep)));
    }
    CAIRN_RETURN_IF_ERROR((*f)->Truncate(keep > 0 ? std::max(r.old_size, r.offset + keep)
                                                  : r.old_size));
    CAIRN_RETURN_IF_ERROR((*f)->Sync());
    CAIRN_RETURN_IF_ERROR((*f)->Close());
  }
  st->undo.clear();
  return Status::Ok();
}

Status FaultInjectingFileSystem::Crash(uint64_t keep_unsynced_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  ++generation_;
  for (auto& [path, st] : files_) CAIRN_RETURN_IF_ERROR(Undo(st.get(), keep_unsynced_bytes));
  return Status::Ok();
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::OpenWritable(
    const std::string& path, uint64_t offset) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = base_->OpenWritable(path, offset);
  if (!f.ok()) return f.status();
  return std::unique_ptr<WritableFile>(new File(this, StateFor(path), std::move(*f), generation_));
}

Result<std::string> FaultInjectingFileSystem::ReadFile(const std::string& path) {
  return base_->ReadFile(path);
}

Result<std::string> FaultInjectingFileSystem::ReadAt(const std::string& path, uint64_t offset,
                                                     size_t n) {
  return base_->ReadAt(path, offset, n);
}

Result<uint64_t> FaultInjectingFileSystem::FileSize(const std::string& path) {
  return base_->FileSize(path);
}

Result<std::vector<std::string>> FaultInjectingFileSystem::ListDir(const std::string& dir) {
  return base_->ListDir(dir);
}

Status FaultInjectingFileSystem::CreateDir(const std::string& dir) {
  return base_->CreateDir(dir);
}

Status FaultInjectingFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(mu_);
  CAIRN_RETURN_IF_ERROR(base_->Rename(from, to));
  if (auto it = files_.find(to); it != files_.end()) {
    it->second->removed = true;
    files_.erase(it);
  }
  if (auto it = files_.find(from); it != files_.end()) {
    auto st = it->second;
    files_.erase(it);
    st->path = to;
    files_[to] = std::move(st);
  }
  return Status::Ok();
}

Status FaultInjectingFileSystem::Remove(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  CAIRN_RETURN_IF_ERROR(base_->Remove(path));
  if (auto it = files_.find(path); it != files_.end()) {
    it->second->removed = true;
    it->second->undo.clear();
    files_.erase(it);
  }
  return Status::Ok();
}

Status FaultInjectingFileSystem::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  CAIRN_RETURN_IF_ERROR(base_->Truncate(path, size));
  // The base fsyncs the file, which makes every earlier write durable too.
  if (auto it = files_.find(path); it != files_.end()) it->second->undo.clear();
  return Status::Ok();
}

Status FaultInjectingFileSystem::SyncDir(const std::string& dir) { return base_->SyncDir(dir); }

bool FaultInjectingFileSystem::Exists(const std::string& path) { return base_->Exists(path); }

Result<std::unique_ptr<FileLock>> FaultInjectingFileSystem::LockFile(const std::string& path) {
  return base_->LockFile(path);
}

}  // namespace cairn
