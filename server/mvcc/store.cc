#include "server/mvcc/store.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/mvcc/schema.h"
#include "server/mvcc/schema_migration.h"

namespace cairn::mvcc {
namespace {

Result<Db> OpenDb(const std::string& path, int flags) {
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(handle);  // owns the handle even on failure
  if (rc != SQLITE_OK) {
    return Status::IoError("open " + path + ": " +
                           (handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc)));
  }
  // Readers can briefly see SQLITE_BUSY while another connection recovers the WAL index.
  sqlite3_busy_timeout(handle, 5000);
  return db;
}

}  // namespace

ReadTxn::Reader::Reader(Db handle, const KeyIndex* index)
    : db(std::move(handle)),
      kv(db.get(), index),
      begin(db.get(), "BEGIN"),
      commit(db.get(), "COMMIT"),
      meta(db.get(), "SELECT value FROM meta WHERE name = ?1") {}

ReadTxn::ReadTxn(Store* store, Reader* reader) : store_(store), reader_(reader) {
  Query(reader_->begin).Run();
  state_ = reader_->kv.ReadState();  // first read: fixes the snapshot
}

ReadTxn::~ReadTxn() {
  Query(reader_->commit).Run();
  store_->Release(reader_);
}

int64_t ReadTxn::CompactRevision() const {
  return std::max(state_.compact_rev, store_->index_.CompactedRevision());
}

Status ReadTxn::Range(const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* out) {
  return reader_->kv.Range(req, state_.current_rev, state_.compact_rev, out);
}

Result<KvHash> ReadTxn::HashKV(int64_t rev) {
  return reader_->kv.HashKV(rev, state_.current_rev);
}

std::optional<std::string> ReadTxn::GetMeta(std::string_view name) {
  Query q(reader_->meta);
  q.BindBlob(1, name);
  if (!q.Next()) return std::nullopt;
  return std::string(q.Blob(0));
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  CAIRN_CHECK(options.read_connections > 0);
  std::unique_ptr<Store> s(new Store());
  s->options_ = options;
  CAIRN_RETURN_IF_ERROR(s->OpenWriter(options));
  CAIRN_RETURN_IF_ERROR(s->OpenReaders(options));
  CAIRN_RETURN_IF_ERROR(s->StartCheckpointer(options));
  return s;
}

Store::~Store() {
  // REQUIRES: no ReadTxn or ApplyBatch outlives the store.
  CAIRN_CHECK(!batch_open_);
  if (writer_.get() != nullptr) sqlite3_wal_hook(writer_.get(), nullptr, nullptr);
  std::lock_guard<std::mutex> lock(pool_mu_);
  CAIRN_CHECK(free_.size() == readers_.size());
}

Status Store::OpenWriter(const StoreOptions& options) {
  auto db = OpenDb(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) return db.status();
  writer_ = std::move(*db);
  if (writer_.TryExec("PRAGMA journal_mode=WAL") != SQLITE_OK) {
    return Status::IoError("enable WAL on " + options.path + ": " + sqlite3_errmsg(writer_.get()));
  }
  writer_.Exec("PRAGMA synchronous=NORMAL");
  writer_.Exec("PRAGMA cache_size=-" + std::to_string(options.writer_cache_kib));
  CAIRN_RETURN_IF_ERROR(MigrateSchema(writer_));
  writer_.Exec("BEGIN IMMEDIATE");
  writer_.Exec(schema::kCreateRevisionsSql);
  writer_.Exec(schema::kCreateSql);
  writer_.Exec("COMMIT");
  writer_reader_ = std::make_unique<KvReader>(writer_.get(), &index_);
  stmts_ = std::make_unique<WriteStmts>(writer_.get());
  writer_.Exec("BEGIN");
  state_ = writer_reader_->ReadState();
  writer_.Exec("COMMIT");
  RebuildIndex();
  Publish(state_);
  return Status::Ok();
}

void Store::RebuildIndex() {
  // The keys live in large chunks for the length of the load: one allocation per
  // megabyte of keys rather than one per row.
  std::vector<std::unique_ptr<char[]>> chunks;
  size_t chunk_left = 0;
  char* chunk_at = nullptr;
  auto keep = [&](std::string_view key) {
    if (key.size() > chunk_left) {
      chunk_left = std::max<size_t>(key.size(), size_t{1} << 20);
      chunks.push_back(std::make_unique<char[]>(chunk_left));
      chunk_at = chunks.back().get();
    }
    std::copy(key.begin(), key.end(), chunk_at);
    const std::string_view kept(chunk_at, key.size());
    chunk_at += key.size();
    chunk_left -= key.size();
    return kept;
  };
  std::vector<KeyIndex::Row> rows;
  writer_.Exec("BEGIN");
  {
    const Stmt scan(writer_.get(), "SELECT main, sub, key, create_rev, version, lease FROM kv_revisions");
    Query q(scan);
    while (q.Next()) rows.push_back({keep(q.Blob(2)), {q.Int(0), q.Int(1), q.Int(3), q.Int(4), q.Int(5)}});
  }
  writer_.Exec("COMMIT");
  // Rows a pending physical compaction has yet to delete are still in the table.
  index_.Load(std::move(rows), state_.compact_rev);
}

Store::LeaseState Store::LoadLeaseState() {
  CAIRN_CHECK(!batch_open_);
  LeaseState state;
  writer_.Exec("BEGIN");
  {
    const Stmt leases(writer_.get(), "SELECT id, ttl, remaining_ttl FROM leases");
    Query q(leases);
    while (q.Next()) state.leases.push_back({q.Int(0), q.Int(1), q.Int(2)});
  }
  writer_.Exec("COMMIT");
  state.leased_keys = index_.LeasedKeys();
  return state;
}

Status Store::StartCheckpointer(const StoreOptions& options) {
  auto db = OpenDb(options.path, SQLITE_OPEN_READWRITE);
  if (!db.ok()) return db.status();
  checkpointer_ = std::make_unique<Checkpointer>(std::move(*db), options.wal_autocheckpoint_pages);
  // Replaces SQLite's inline auto-checkpoint on the writer: commits only report the WAL size.
  sqlite3_wal_hook(
      writer_.get(),
      [](void* checkpointer, sqlite3* db, const char*, int pages) {
        if (static_cast<Checkpointer*>(checkpointer)->Nudge(pages)) {
          sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        }
        return SQLITE_OK;
      },
      checkpointer_.get());
  return Status::Ok();
}

Status Store::OpenReaders(const StoreOptions& options) {
  for (int i = 0; i < options.read_connections; ++i) {
    auto db = OpenDb(options.path, SQLITE_OPEN_READONLY);
    if (!db.ok()) return db.status();
    db->Exec("PRAGMA cache_size=-" + std::to_string(options.reader_cache_kib));
    auto r = std::make_unique<ReadTxn::Reader>(std::move(*db), &index_);
    free_.push_back(r.get());
    readers_.push_back(std::move(r));
  }
  return Status::Ok();
}

ReadTxn::Reader* Store::Acquire() {
  std::unique_lock<std::mutex> lock(pool_mu_);
  pool_cv_.wait(lock, [&] { return !free_.empty() && !replacing_; });
  ReadTxn::Reader* r = free_.back();
  free_.pop_back();
  return r;
}

void Store::Release(ReadTxn::Reader* r) {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    free_.push_back(r);
  }
  pool_cv_.notify_one();
}

void Store::Publish(const StoreState& s) {
  current_rev_.store(s.current_rev, std::memory_order_release);
  compact_rev_.store(s.compact_rev, std::memory_order_release);
  applied_index_.store(static_cast<uint64_t>(s.applied_index), std::memory_order_release);
  compact_pending_.store(s.compact_pending_rev != 0, std::memory_order_release);
}

Result<Store::CopyInfo> Store::CopyTo(const std::string& path) {
  ReadTxn::Reader* r = Acquire();
  std::string quoted;
  for (char c : path) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  // VACUUM INTO reads one consistent snapshot of the database and writes it compacted.
  const int rc = r->db.TryExec("VACUUM INTO '" + quoted + "'");
  const std::string error = rc == SQLITE_OK ? "" : sqlite3_errmsg(r->db.get());
  Release(r);
  if (rc != SQLITE_OK) return Status::IoError("copy store to " + path + ": " + error);
  auto copy = OpenDb(path, SQLITE_OPEN_READONLY);
  if (!copy.ok()) return copy.status();
  CopyInfo info;
  {
    const Stmt state(copy->get(), "SELECT applied_index, current_rev FROM store_state WHERE id = 0");
    Query q(state);
    if (!q.Next()) return Status::DataLoss("store copy " + path + " has no state row");
    info.applied_index = static_cast<uint64_t>(q.Int(0));
    info.revision = q.Int(1);
  }
  {
    const Stmt meta(copy->get(), "SELECT name, value FROM meta");
    Query q(meta);
    while (q.Next()) info.meta.emplace(std::string(q.Blob(0)), std::string(q.Blob(1)));
  }
  return info;
}

void Store::CloseAll() {
  if (writer_.get() != nullptr) sqlite3_wal_hook(writer_.get(), nullptr, nullptr);
  checkpointer_.reset();
  free_.clear();
  readers_.clear();
  stmts_.reset();
  writer_reader_.reset();
  writer_ = Db();
}

Status Store::ReplaceWith(const std::string& path) {
  CAIRN_CHECK(!batch_open_);
  std::unique_lock<std::mutex> lock(pool_mu_);
  replacing_ = true;
  pool_cv_.wait(lock, [&] { return free_.size() == readers_.size(); });
  CloseAll();
  // The new file replaces the old one whole; the old WAL and shared-memory files
  // belong to the old contents and must not be replayed into the new.
  if (std::rename(path.c_str(), options_.path.c_str()) != 0) {
    return Status::IoError("install snapshot " + path + " as " + options_.path + ": " + std::strerror(errno));
  }
  std::remove((options_.path + "-wal").c_str());
  std::remove((options_.path + "-shm").c_str());
  lock.unlock();
  CAIRN_RETURN_IF_ERROR(OpenWriter(options_));
  {
    std::lock_guard<std::mutex> relock(pool_mu_);
    CAIRN_RETURN_IF_ERROR(OpenReaders(options_));
    replacing_ = false;
  }
  pool_cv_.notify_all();
  CAIRN_RETURN_IF_ERROR(StartCheckpointer(options_));
  // Made durable now: the WAL's snapshot marker written next must not point at contents
  // that a crash could lose.
  return Checkpoint();
}

ReadTxn Store::BeginRead() { return ReadTxn(this, Acquire()); }

Status Store::Range(const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* out) {
  ReadTxn txn = BeginRead();
  return txn.Range(req, out);
}

Result<KvHash> Store::HashKV(int64_t rev) {
  ReadTxn txn = BeginRead();
  return txn.HashKV(rev);
}

int64_t Store::PragmaInt(const char* sql) {
  ReadTxn::Reader* r = Acquire();
  int64_t v = 0;
  {
    const Stmt stmt(r->db.get(), sql);
    Query q(stmt);
    CAIRN_CHECK(q.Next());
    v = q.Int(0);
  }
  Release(r);
  return v;
}

int64_t Store::DbSizeBytes() {
  return PragmaInt("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
}

int64_t Store::DbSizeInUseBytes() {
  return PragmaInt(
      "SELECT (page_count - freelist_count) * page_size "
      "FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()");
}

Status Store::RebaseAppliedIndex(uint64_t applied_index) {
  CAIRN_CHECK(!batch_open_);
  const std::string sql = "UPDATE store_state SET applied_index = " + std::to_string(applied_index) + " WHERE id = 0";
  if (writer_.TryExec(sql) != SQLITE_OK) {
    return Status::IoError(std::string("rebase applied index: ") + sqlite3_errmsg(writer_.get()));
  }
  state_.applied_index = static_cast<int64_t>(applied_index);
  applied_index_.store(applied_index, std::memory_order_release);
  return Status::Ok();
}

Status Store::Defragment() {
  CAIRN_CHECK(!batch_open_);
  if (writer_.TryExec("VACUUM") != SQLITE_OK) {
    return Status::IoError(std::string("defragment: ") + sqlite3_errmsg(writer_.get()));
  }
  // Make it durable and fold the rewritten pages back into the database file now
  // rather than at the next automatic checkpoint.
  return Checkpoint();
}

Status Store::Checkpoint() {
  CAIRN_CHECK(!batch_open_);
  // Under synchronous=FULL a WAL commit fsyncs the WAL file, which makes every earlier
  // (NORMAL, unsynced) commit durable too. Rewriting the state row forces a commit
  // frame without changing anything.
  writer_.Exec("PRAGMA synchronous=FULL");
  writer_.Exec("BEGIN IMMEDIATE; UPDATE store_state SET id = 0 WHERE id = 0; COMMIT");
  writer_.Exec("PRAGMA synchronous=NORMAL");
  int log_frames = 0;
  int checkpointed = 0;
  const int rc = sqlite3_wal_checkpoint_v2(writer_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &log_frames, &checkpointed);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    return Status::IoError(std::string("wal checkpoint: ") + sqlite3_errmsg(writer_.get()));
  }
  return Status::Ok();
}

}  // namespace cairn::mvcc
