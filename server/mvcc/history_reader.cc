#include "server/mvcc/history_reader.h"

#include <string>
#include <unordered_map>

#include "server/mvcc/errors.h"
#include "server/mvcc/key_span.h"
#include "server/mvcc/schema.h"

namespace cairn::mvcc {
namespace {

const std::string kScan = std::string("SELECT ") + schema::kRowColumns +
                          " FROM kv_revisions WHERE main >= ?1 AND main <= ?2 ORDER BY main, sub";
const std::string kRowAt = std::string("SELECT ") + schema::kRowColumns +
                           " FROM kv_revisions WHERE main = ?1 AND sub = ?2";

// A tombstone keeps only key and mod_revision.
mvccpb::KeyValue ReadKv(const Query& q) {
  mvccpb::KeyValue kv;
  const auto key = q.Blob(schema::kColKey);
  kv.set_key(key.data(), key.size());
  kv.set_mod_revision(q.Int(schema::kColMain));
  if (q.Int(schema::kColVersion) != 0) {
    kv.set_create_revision(q.Int(schema::kColCreate));
    kv.set_version(q.Int(schema::kColVersion));
    kv.set_lease(q.Int(schema::kColLease));
    const auto v = q.Blob(schema::kColValue);
    kv.set_value(v.data(), v.size());
  }
  return kv;
}

bool InSpan(const KeySpan& span, std::string_view key) {
  return key >= span.lo && (!span.bounded || key < span.hi);
}

}  // namespace

Status HistoryReader::Read(ReadTxn& txn, std::string_view key, std::string_view range_end, int64_t from,
                           int64_t to, std::vector<mvccpb::Event>* out) {
  CAIRN_CHECK(from >= 1 && to <= txn.Revision());
  if (from <= txn.CompactRevision()) return ErrCompacted();
  if (from > to) return Status::Ok();
  sqlite3* db = txn.reader_->db.get();
  const KeySpan span = KeySpan::Of(key, range_end);
  if (span.bounded && span.hi <= span.lo) return Status::Ok();
  const size_t first = out->size();
  // Index in *out of the previous event of each key seen so far.
  std::unordered_map<std::string, size_t> latest;
  std::vector<size_t> first_of_key;
  {
    Stmt scan(db, kScan);
    Query q(scan);
    q.Bind(1, from).Bind(2, to);
    while (q.Next()) {
      if (!InSpan(span, q.Blob(schema::kColKey))) continue;
      mvccpb::Event& ev = out->emplace_back();
      const bool tombstone = q.Int(schema::kColVersion) == 0;
      ev.set_type(tombstone ? mvccpb::Event::DELETE : mvccpb::Event::PUT);
      *ev.mutable_kv() = ReadKv(q);
      auto [it, inserted] = latest.try_emplace(ev.kv().key(), out->size() - 1);
      if (inserted) {
        first_of_key.push_back(out->size() - 1);
        continue;
      }
      const mvccpb::Event& before = (*out)[it->second];
      if (before.type() == mvccpb::Event::PUT) *ev.mutable_prev_kv() = before.kv();
      it->second = out->size() - 1;
    }
  }
  // The first event of each key takes its prev_kv from before `from`.
  std::vector<KeyIndex::Before> queries;
  queries.reserve(first_of_key.size());
  for (size_t i : first_of_key) {
    const mvccpb::KeyValue& kv = (*out)[i].kv();
    queries.push_back({kv.key(), kv.mod_revision(), 0});
  }
  auto prev = txn.store_->index_.RevisionsBefore(queries, from);
  if (!prev.ok()) {
    out->resize(first);
    return prev.status();
  }
  Stmt row_at(db, kRowAt);
  for (size_t n = 0; n < first_of_key.size(); ++n) {
    const std::optional<IndexedRevision>& p = (*prev)[n];
    if (!p.has_value() || p->tombstone()) continue;
    Query q(row_at);
    q.Bind(1, p->main).Bind(2, p->sub);
    CAIRN_CHECK(q.Next());  // indexed revisions below the snapshot are in it
    *(*out)[first_of_key[n]].mutable_prev_kv() = ReadKv(q);
  }
  return Status::Ok();
}

}  // namespace cairn::mvcc
