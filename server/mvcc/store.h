// Store: Cairn's MVCC key-value store on SQLite (schema in schema.h).
//
// Threading model
//   * One apply thread owns the writer connection: it opens ApplyBatch objects (one at a
//     time), runs WriteTxn requests in them, and calls Checkpoint(). Nothing else ever
//     touches the writer connection, so it needs no lock.
//   * Any thread may read: Range()/HashKV()/BeginRead() lease a read-only connection
//     from a small pool (pool_mu_ guards free_; readers wait on pool_cv_ when all are
//     busy). Each read runs in its own SQLite read transaction, so it sees a consistent
//     snapshot that includes every batch committed before it started (WAL mode).
//   * CurrentRevision()/CompactRevision()/AppliedIndex() are atomics published after a
//     batch commits; they never run ahead of what a new reader can see.
//   * The key index (key_index.h) is shared by all of them and locks internally.
// Invariants: current_rev >= compact_rev; the key index holds exactly the rows of
// kv_revisions that its compaction keeps, plus the open batch's; store_state.applied_index
// is committed atomically with the data.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/common/status.h"
#include "server/mvcc/checkpointer.h"
#include "server/mvcc/key_index.h"
#include "server/mvcc/kv_reader.h"
#include "server/mvcc/read_view.h"
#include "server/mvcc/sqlite.h"
#include "server/mvcc/store_state.h"
#include "server/mvcc/write_stmts.h"

namespace cairn::mvcc {

struct StoreOptions {
  std::string path;              // SQLite database file; created if missing
  int read_connections = 4;      // size of the reader pool
  // Page cache of the writer connection. Writes append at the right edge of
  // kv_revisions, so the pages they touch are few and stay cached; the rest only held
  // pages written long ago (the whole cache, in a large store) and its reads come from
  // the OS page cache anyway.
  int writer_cache_kib = 8192;
  int reader_cache_kib = 16384;  // page cache of each reader connection
  // SQLite's WAL is checkpointed into the db file, by a background thread (see
  // checkpointer.h), once it holds this many pages.
  int wal_autocheckpoint_pages = 10000;
};

class Store;

// A consistent read-only snapshot on a pooled connection. Destroying it ends the
// snapshot and returns the connection. Use from one thread; keep it short-lived (an
// open snapshot pins WAL frames and stalls SQLite's checkpoints).
class ReadTxn final : public ReadView {
 public:
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  ~ReadTxn() override;

  int64_t Revision() const override { return state_.current_rev; }
  // The snapshot's compacted revision, or a newer compaction already applied: reads
  // below either fail.
  int64_t CompactRevision() const override;
  int64_t AppliedIndex() const { return state_.applied_index; }
  Status Range(const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* out) override;
  // rev <= 0 means the current revision.
  Result<KvHash> HashKV(int64_t rev);
  std::optional<std::string> GetMeta(std::string_view name);

 private:
  friend class Store;
  friend class HistoryReader;  // history_reader.h: watch catch-up reads on this snapshot
  struct Reader;
  ReadTxn(Store* store, Reader* reader);

  Store* store_;
  Reader* reader_;
  StoreState state_;
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  // ---- Any thread ----
  ReadTxn BeginRead();
  Status Range(const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* out);
  Result<KvHash> HashKV(int64_t rev);
  int64_t CurrentRevision() const { return current_rev_.load(std::memory_order_acquire); }
  int64_t CompactRevision() const { return compact_rev_.load(std::memory_order_acquire); }
  uint64_t AppliedIndex() const { return applied_index_.load(std::memory_order_acquire); }
  // True while a compaction's physical deletion still has rows to examine.
  // Background checkpoints of SQLite's WAL completed so far (for tests and metrics).
  int BackgroundCheckpoints() const { return checkpointer_->checkpoints_run(); }
  bool CompactionPending() const { return compact_pending_.load(std::memory_order_acquire); }
  // Size of the database file (pages * page size) and the part not on the free list.
  int64_t DbSizeBytes();
  int64_t DbSizeInUseBytes();

  // ---- Apply thread only ----
  // Makes every committed batch durable (fsyncs SQLite's WAL through a synchronous=FULL
  // commit, which does not wait for readers) and then checkpoints what it can without
  // blocking. The driver calls it before releasing Cairn WAL segments.
  // REQUIRES: no ApplyBatch open.
  Status Checkpoint();

  // Restore only (etcdserver/restore.h): the store now belongs to a new Raft log, which
  // starts over; its applied index becomes `applied_index`, lower than before.
  // REQUIRES: no ApplyBatch open.
  Status RebaseAppliedIndex(uint64_t applied_index);

  // etcd's defragmentation: rewrites the database without its free pages (SQLite's
  // VACUUM, one write transaction: a crash leaves the old database intact). Readers
  // keep their snapshots meanwhile. REQUIRES: no ApplyBatch open.
  Status Defragment();

  // The persisted lease state, for the lessor's recovery at start-up: every lease, and
  // every live key that is attached to one. REQUIRES: no ApplyBatch open.
  struct LeaseRecord {
    int64_t id;
    int64_t ttl;
    int64_t remaining_ttl;
  };
  struct LeaseState {
    std::vector<LeaseRecord> leases;
    std::vector<std::pair<std::string, int64_t>> leased_keys;  // (key, lease id)
  };
  LeaseState LoadLeaseState();

  // ---- Snapshots: what a member too far behind for the log receives instead ----
  struct CopyInfo {
    uint64_t applied_index = 0;
    int64_t revision = 0;  // the copy's current revision
    std::map<std::string, std::string> meta;  // the copy's meta table
  };
  // Any thread. Writes a consistent copy of the whole store, as of one applied index,
  // to `path` (which must not exist) and reports what it holds.
  Result<CopyInfo> CopyTo(const std::string& path);
  // Apply thread only. REQUIRES: no ApplyBatch open. Replaces the store's contents with
  // the database at `path` (a CopyTo() output, moved into place): readers wait meanwhile
  // and see either the old or the new contents. On error the store is unusable and the
  // caller must stop (the old file may already be gone).
  Status ReplaceWith(const std::string& path);

 private:
  friend class ApplyBatch;
  friend class WriteTxn;
  friend class ReadTxn;
  friend class HistoryReader;

  Store() = default;
  void CloseAll();
  Status OpenWriter(const StoreOptions& options);
  void RebuildIndex();
  Status OpenReaders(const StoreOptions& options);
  Status StartCheckpointer(const StoreOptions& options);
  ReadTxn::Reader* Acquire();
  void Release(ReadTxn::Reader* r);
  void Publish(const StoreState& s);
  int64_t PragmaInt(const char* sql);

  KeyIndex index_;

  // Writer side: apply thread only.
  Db writer_;
  std::unique_ptr<Checkpointer> checkpointer_;  // fed by writer_'s WAL hook
  std::unique_ptr<KvReader> writer_reader_;
  std::unique_ptr<WriteStmts> stmts_;
  StoreState state_;  // as of the last committed batch
  bool batch_open_ = false;
  StoreOptions options_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<ReadTxn::Reader>> readers_;  // immutable after Open
  std::vector<ReadTxn::Reader*> free_;                     // guarded by pool_mu_
  bool replacing_ = false;                                 // guarded by pool_mu_

  std::atomic<int64_t> current_rev_{0};
  std::atomic<int64_t> compact_rev_{0};
  std::atomic<uint64_t> applied_index_{0};
  std::atomic<bool> compact_pending_{false};
};

// One pooled read-only connection with its statement cache.
struct ReadTxn::Reader {
  Db db;
  KvReader kv;
  Stmt begin;
  Stmt commit;
  Stmt meta;
  Reader(Db handle, const KeyIndex* index);
};

}  // namespace cairn::mvcc
