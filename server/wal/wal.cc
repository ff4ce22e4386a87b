#include "server/wal/wal.h"

#include <algorithm>
#include <limits>
#include <random>

#include "server/wal/format.h"
#include "server/wal/record.h"
#include "server/wal/scan.h"

namespace cairn::wal {
namespace {

uint32_t RandomSalt() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<uint32_t>(rng());
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Wal::Wal(FileSystem* fs, std::string dir, std::string metadata, Options options,
         std::unique_ptr<FileLock> lock)
    : fs_(fs),
      dir_(std::move(dir)),
      metadata_(std::move(metadata)),
      options_(options),
      lock_(std::move(lock)) {}

// Closing without syncing is deliberate: durability is decided by Save's sync flag only.
Wal::~Wal() {
  if (file_) (void)file_->Close();
}

Status Wal::ValidateOptions(const Options& options) {
  if (options.segment_bytes < kMinSegmentBytes || options.segment_bytes > kMaxSegmentBytes) {
    return Status::InvalidArgument("wal: segment_bytes " + std::to_string(options.segment_bytes) +
                                   " out of range");
  }
  return Status::Ok();
}

Result<std::unique_ptr<FileLock>> Wal::Lock(FileSystem* fs, const std::string& dir) {
  return fs->LockFile(dir + "/" + kLockFileName);
}

bool Wal::Exists(FileSystem* fs, const std::string& dir) {
  auto names = fs->ListDir(dir);
  if (!names.ok()) return false;
  return std::any_of(names->begin(), names->end(),
                     [](const std::string& n) { return ParseSegmentName(n).has_value(); });
}

Result<std::unique_ptr<Wal>> Wal::Create(FileSystem* fs, const std::string& dir,
                                         std::string metadata, Options options) {
  CAIRN_RETURN_IF_ERROR(ValidateOptions(options));
  CAIRN_RETURN_IF_ERROR(fs->CreateDir(dir));
  auto lock = Lock(fs, dir);
  if (!lock.ok()) return lock.status();
  if (Exists(fs, dir)) return Status(StatusCode::kAlreadyExists, "wal: " + dir + " already holds a WAL");
  std::unique_ptr<Wal> wal(new Wal(fs, dir, std::move(metadata), options, std::move(*lock)));
  CAIRN_RETURN_IF_ERROR(wal->StartSegment(0, 1));
  return wal;
}

Result<std::pair<std::unique_ptr<Wal>, Recovered>> Wal::Open(FileSystem* fs,
                                                             const std::string& dir,
                                                             Options options) {
  CAIRN_RETURN_IF_ERROR(ValidateOptions(options));
  auto lock = Lock(fs, dir);
  if (!lock.ok()) return lock.status();
  auto names = fs->ListDir(dir);
  if (!names.ok()) return names.status();
  std::vector<std::pair<SegmentId, std::string>> ids;
  std::vector<std::string> leftovers;
  for (const std::string& name : *names) {
    if (auto id = ParseSegmentName(name)) {
      ids.emplace_back(*id, dir + "/" + name);
    } else if (EndsWith(name, kTmpSuffix)) {
      leftovers.push_back(dir + "/" + name);
    }
  }
  if (ids.empty()) return Status::NotFound("wal: no segments in " + dir);
  std::sort(ids.begin(), ids.end(),
            [](const auto& a, const auto& b) { return a.first.seq < b.first.seq; });

  // Validate everything before touching anything, so DataLoss leaves the files intact.
  Replayer replayer;
  std::vector<Segment> segments;
  SegmentScan last_scan;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& [id, path] = ids[i];
    if (i > 0 && id.seq != ids[i - 1].first.seq + 1) {
      return Status::DataLoss("wal: missing segment between " + ids[i - 1].second + " and " + path);
    }
    auto image = fs->ReadFile(path);
    if (!image.ok()) return image.status();
    bool last = i + 1 == ids.size();
    SegmentScan scan;
    CAIRN_RETURN_IF_ERROR(ScanSegment(path, *image, last, &scan));
    if (scan.header.seq != id.seq || scan.header.first_index != id.first_index) {
      return Status::DataLoss("wal: bad segment header in " + path +
                              " at offset 0: does not match the file name");
    }
    if (scan.records.empty()) {
      return CorruptAt(path, kSegmentHeaderSize, "segment has no metadata record");
    }
    Segment seg{id.seq, path, {}};
    CAIRN_RETURN_IF_ERROR(replayer.BeginSegment(path, scan.header));
    for (const RecordView& rec : scan.records) {
      CAIRN_RETURN_IF_ERROR(replayer.Apply(path, rec, &seg.contents));
    }
    segments.push_back(std::move(seg));
    if (last) last_scan = std::move(scan);
  }
  auto recovered = replayer.Finish(ids.front().second);
  if (!recovered.ok()) return recovered.status();

  for (const std::string& path : leftovers) CAIRN_RETURN_IF_ERROR(fs->Remove(path));
  std::unique_ptr<Wal> wal(new Wal(fs, dir, recovered->metadata, options, std::move(*lock)));
  const std::string& last_path = segments.back().path;
  auto file = fs->OpenWritable(last_path, last_scan.end);
  if (!file.ok()) return file.status();
  // Truncating first drops the torn bytes; preallocating again zero-fills where they were,
  // so the next recovery sees a clean end of data.
  if (last_scan.torn) CAIRN_RETURN_IF_ERROR((*file)->Truncate(last_scan.end));
  CAIRN_RETURN_IF_ERROR((*file)->Preallocate(options.segment_bytes));
  // Records that survived a process crash may still be only in the page cache.
  CAIRN_RETURN_IF_ERROR((*file)->Sync());

  wal->segments_ = std::move(segments);
  wal->file_ = std::move(*file);
  wal->salt_ = last_scan.header.salt;
  wal->synced_offset_ = last_scan.end;
  wal->head_end_ = last_scan.records.front().end;
  wal->hard_state_ = recovered->hard_state;
  wal->snapshot_ = recovered->snapshot;
  wal->last_index_ = replayer.last_index();
  return std::make_pair(std::move(wal), std::move(*recovered));
}

Status Wal::CheckUsable() const {
  if (failed_.ok()) return Status::Ok();
  return Status::FailedPrecondition("wal: refusing writes after an earlier I/O failure: " +
                                    failed_.message());
}

Status Wal::Fail(Status st) {
  if (failed_.ok()) failed_ = st;
  return st;
}

Status Wal::StartSegment(uint64_t seq, raft::Index first_index) {
  std::string path = dir_ + "/" + SegmentName(seq, first_index);
  std::string tmp = path + kTmpSuffix;
  auto file = fs_->OpenWritable(tmp, 0);
  if (!file.ok()) return file.status();
  uint32_t salt = RandomSalt();
  buf_.clear();
  AppendSegmentHeader(&buf_, SegmentHeader{salt, seq, first_index});
  RecordEncoder enc(&buf_, buf_.size(), salt, 0);
  enc.Metadata(metadata_);
  if (!hard_state_.empty()) enc.HardState(hard_state_);
  if (snapshot_.index > 0) enc.Snapshot(snapshot_);

  WritableFile* f = file->get();
  Status st = f->Truncate(0);
  if (st.ok()) st = f->Preallocate(options_.segment_bytes);
  if (st.ok()) st = f->Append(buf_);
  if (st.ok()) st = f->Sync();
  if (!st.ok()) {
    // Nothing refers to the temp file yet, so the log itself is still intact.
    (void)f->Close();
    (void)fs_->Remove(tmp);
    return st;
  }
  // Once renamed (and the directory synced) recovery will treat this as the last segment.
  st = fs_->Rename(tmp, path);
  if (!st.ok()) return Fail(st);

  if (file_) (void)file_->Close();
  file_ = std::move(*file);
  salt_ = salt;
  synced_offset_ = head_end_ = buf_.size();
  Segment seg{seq, path, {}};
  if (snapshot_.index > 0) seg.contents.markers.push_back(snapshot_.index);
  segments_.push_back(std::move(seg));
  return Status::Ok();
}

Status Wal::Cut() {
  // A non-last segment must be complete on disk: recovery reports any damage in one as
  // corruption. Trimming the preallocated tail returns the unused space.
  Status st = file_->Sync();
  if (st.ok()) st = file_->Truncate(file_->Size());
  if (st.ok()) st = file_->Sync();
  if (!st.ok()) return Fail(st);
  synced_offset_ = file_->Size();
  return StartSegment(segments_.back().seq + 1, last_index_ + 1);
}

Status Wal::PrepareBatch(size_t bytes) {
  CAIRN_RETURN_IF_ERROR(CheckUsable());
  if (file_->Size() > head_end_ && file_->Size() + bytes > options_.segment_bytes) {
    CAIRN_RETURN_IF_ERROR(Cut());
  }
  if (file_->Size() + bytes > std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument("wal: batch of " + std::to_string(bytes) + " bytes too large");
  }
  buf_.clear();
  return Status::Ok();
}

Status Wal::CommitBatch(bool sync) {
  Status st = file_->Append(buf_);
  if (!st.ok()) return Fail(st);
  if (sync) {
    st = file_->Sync();
    if (!st.ok()) return Fail(st);
    synced_offset_ = file_->Size();
  }
  return Status::Ok();
}

Status Wal::Save(const raft::HardState& hs, const std::vector<raft::Entry>& entries, bool sync) {
  CAIRN_RETURN_IF_ERROR(CheckUsable());
  size_t bytes = hs.empty() ? 0 : HardStateRecordSize();
  for (size_t i = 0; i < entries.size(); ++i) {
    const raft::Entry& e = entries[i];
    if (i == 0 && (e.index == 0 || e.index > last_index_ + 1 || e.index <= snapshot_.index)) {
      return Status::InvalidArgument("wal: entry " + std::to_string(e.index) +
                                     " does not continue the log (last " +
                                     std::to_string(last_index_) + ", snapshot " +
                                     std::to_string(snapshot_.index) + ")");
    }
    if (i > 0 && e.index != entries[i - 1].index + 1) {
      return Status::InvalidArgument("wal: entries not consecutive at " + std::to_string(e.index));
    }
    if (e.data.size() > kMaxRecordPayload - 17) {
      return Status::InvalidArgument("wal: entry " + std::to_string(e.index) + " too large");
    }
    bytes += EntryRecordSize(e);
  }
  if (bytes == 0) {
    // Nothing to write, but a caller may be asking to make earlier unsynced Saves durable.
    if (!sync || synced_offset_ == file_->Size()) return Status::Ok();
    buf_.clear();
    return CommitBatch(true);
  }
  CAIRN_RETURN_IF_ERROR(PrepareBatch(bytes));
  RecordEncoder enc(&buf_, file_->Size(), salt_, static_cast<uint32_t>(synced_offset_));
  for (const raft::Entry& e : entries) enc.Entry(e);
  if (!hs.empty()) enc.HardState(hs);
  CAIRN_RETURN_IF_ERROR(CommitBatch(sync));
  if (!entries.empty()) {
    last_index_ = entries.back().index;
    auto& c = segments_.back().contents;
    c.max_entry_index = std::max(c.max_entry_index, last_index_);
  }
  if (!hs.empty()) hard_state_ = hs;
  return Status::Ok();
}

Status Wal::SaveSnapshot(const raft::SnapshotMetadata& snap) {
  CAIRN_RETURN_IF_ERROR(CheckUsable());
  if (snap.index < snapshot_.index) {
    return Status::InvalidArgument("wal: snapshot marker " + std::to_string(snap.index) +
                                   " below earlier marker " + std::to_string(snapshot_.index));
  }
  CAIRN_RETURN_IF_ERROR(PrepareBatch(SnapshotRecordSize(snap)));
  RecordEncoder enc(&buf_, file_->Size(), salt_, static_cast<uint32_t>(synced_offset_));
  enc.Snapshot(snap);
  CAIRN_RETURN_IF_ERROR(CommitBatch(true));
  snapshot_ = snap;
  last_index_ = std::max(last_index_, snap.index);
  segments_.back().contents.markers.push_back(snap.index);
  return Status::Ok();
}

Status Wal::ReleaseTo(raft::Index index) {
  CAIRN_RETURN_IF_ERROR(CheckUsable());
  raft::Index covered = 0;
  size_t marker_segment = 0;
  bool found = false;
  for (size_t i = 0; i < segments_.size(); ++i) {
    for (raft::Index m : segments_[i].contents.markers) {
      if (m > index) continue;
      covered = std::max(covered, m);
      marker_segment = i;
      found = true;
    }
  }
  if (!found) return Status::Ok();
  size_t n = 0;
  const size_t deletable = options_.max_files == 0 || segments_.size() <= options_.max_files
                              ? 0
                              : segments_.size() - options_.max_files;
  while (n < marker_segment && n < deletable && n + 1 < segments_.size() &&
         segments_[n].contents.max_entry_index <= covered) {
    ++n;
  }
  // Oldest first, so a crash part-way leaves a contiguous run of segments.
  for (size_t i = 0; i < n; ++i) {
    Status st = fs_->Remove(segments_[i].path);
    if (!st.ok()) {
      segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(i));
      return st;
    }
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(n));
  return Status::Ok();
}

}  // namespace cairn::wal
