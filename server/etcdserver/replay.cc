#include "server/etcdserver/replay.h"

#include <fstream>
#include <unordered_set>

#include "operator/backup/delta_segment.h"
#include "server/mvcc/apply_batch.h"

namespace cairn::etcdserver {
namespace {

using op::backup::DeltaDecoder;
using op::backup::DeltaRevision;

// Revisions per SQLite write transaction: large enough to be fast, small enough to keep
// SQLite's WAL from growing with the whole replay.
constexpr int kRevisionsPerBatch = 1000;

// Reads `path` through a DeltaDecoder, which must start at revision `first`, calling
// `apply` for each revision.
template <typename F>
Status ForEachRevision(const std::string& path, int64_t first, F&& apply) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open delta file " + path);
  DeltaDecoder decoder([&](char* buf, size_t cap) -> Result<size_t> {
    in.read(buf, static_cast<std::streamsize>(cap));
    if (in.bad()) return Status::IoError("cannot read delta file " + path);
    return static_cast<size_t>(in.gcount());
  });
  auto starts = decoder.FirstRevision();
  if (!starts.ok()) return Status(starts.status().code(), path + ": " + starts.status().message());
  if (*starts != first) {
    return Status::FailedPrecondition("delta file " + path + " starts at revision " + std::to_string(*starts) +
                                      ", but the snapshot ends at revision " + std::to_string(first - 1));
  }
  for (;;) {
    auto r = decoder.Next();
    if (!r.ok()) return Status(r.status().code(), path + ": " + r.status().message());
    if (!*r) return Status::Ok();
    CAIRN_RETURN_IF_ERROR(apply(**r));
  }
}

Status Mismatch(int64_t rev, const std::string& what) {
  return Status::DataLoss("delta revision " + std::to_string(rev) + " does not replay onto this snapshot: " + what);
}

}  // namespace

Result<ReplayResult> ReplayDeltas(mvcc::Store& store, const std::string& path) {
  // First pass: the whole file is intact and continues this store's revisions.
  const int64_t first = store.CurrentRevision() + 1;
  CAIRN_RETURN_IF_ERROR(ForEachRevision(path, first, [](const DeltaRevision&) { return Status::Ok(); }));

  std::unordered_set<int64_t> leases;
  for (const auto& l : store.LoadLeaseState().leases) leases.insert(l.id);
  ReplayResult result;
  std::unique_ptr<mvcc::ApplyBatch> batch;
  int in_batch = 0;
  Status st = ForEachRevision(path, first, [&](const DeltaRevision& r) -> Status {
    if (batch == nullptr) batch = std::make_unique<mvcc::ApplyBatch>(store);
    mvcc::WriteTxn txn(*batch);
    for (const auto& e : r.events) {
      const auto& kv = e.kv();
      if (e.type() == mvccpb::Event::PUT) {
        etcdserverpb::PutRequest put;
        put.set_key(kv.key());
        put.set_value(kv.value());
        if (kv.lease() != 0 && leases.contains(kv.lease())) {
          put.set_lease(kv.lease());
        } else if (kv.lease() != 0) {
          ++result.unleased_puts;
        }
        auto done = txn.Put(put, nullptr);
        if (!done.ok()) return Mismatch(r.revision, done.status().message());
        if (done->existed != (kv.version() > 1)) {
          return Mismatch(r.revision, "key " + kv.key() + " at version " + std::to_string(kv.version()) +
                                          (done->existed ? " already exists" : " does not exist"));
        }
      } else {
        if (txn.DeleteRange(kv.key(), "", nullptr).deleted != 1) {
          return Mismatch(r.revision, "deleted key " + kv.key() + " does not exist");
        }
      }
    }
    const int64_t rev = txn.Commit();
    if (rev != r.revision) return Mismatch(r.revision, "it applied as revision " + std::to_string(rev));
    ++result.revisions;
    if (++in_batch == kRevisionsPerBatch) {
      batch->Commit(store.AppliedIndex());
      batch.reset();
      in_batch = 0;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (batch != nullptr) batch->Commit(store.AppliedIndex());
  return result;
}

}  // namespace cairn::etcdserver
