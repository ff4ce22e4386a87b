#include "server/mvcc/history_reader.h"

#include <algorithm>
#include <string>

#include "server/mvcc/errors.h"
#include "server/mvcc/key_span.h"
#include "server/mvcc/schema.h"

namespace cairn::mvcc {
namespace {

// Same column order as schema::KvColumn, plus sub at the end.
constexpr const char* kScanBounded =
    "SELECT key, create_rev, main, version, lease, value, sub FROM kv_history "
    "WHERE key >= ?1 AND key < ?2 AND main >= ?3 AND main <= ?4 ORDER BY key, main, sub";
constexpr const char* kScanUnbounded =
    "SELECT key, create_rev, main, version, lease, value, sub FROM kv_history "
    "WHERE key >= ?1 AND main >= ?3 AND main <= ?4 ORDER BY key, main, sub";
// The newest row of a key strictly before (main, sub): the prev_kv of the first event
// of that key in the scan.
constexpr const char* kPrevRow =
    "SELECT key, create_rev, main, version, lease, value FROM kv_history "
    "WHERE key = ?1 AND (main, sub) < (?2, ?3) ORDER BY main DESC, sub DESC LIMIT 1";
constexpr int kColSub = 6;

struct Row {
  mvccpb::KeyValue kv;  // tombstones keep only key and mod_revision
  int64_t sub = 0;
  bool tombstone = false;
};

Row ReadRow(const Query& q) {
  Row r;
  const auto key = q.Blob(schema::kColKey);
  r.kv.set_key(key.data(), key.size());
  r.kv.set_mod_revision(q.Int(schema::kColMod));
  r.tombstone = q.Int(schema::kColVersion) == 0;
  if (!r.tombstone) {
    r.kv.set_create_revision(q.Int(schema::kColCreate));
    r.kv.set_version(q.Int(schema::kColVersion));
    r.kv.set_lease(q.Int(schema::kColLease));
    const auto v = q.Blob(schema::kColValue);
    r.kv.set_value(v.data(), v.size());
  }
  return r;
}

struct Ordered {
  mvccpb::Event event;
  int64_t sub;
};

}  // namespace

Status HistoryReader::Read(ReadTxn& txn, std::string_view key, std::string_view range_end, int64_t from,
                           int64_t to, std::vector<mvccpb::Event>* out) {
  CAIRN_CHECK(from >= 1 && to <= txn.Revision());
  if (from <= txn.CompactRevision()) return ErrCompacted();
  if (from > to) return Status::Ok();
  sqlite3* db = txn.reader_->db.get();
  const KeySpan span = KeySpan::Of(key, range_end);
  if (span.bounded && span.hi <= span.lo) return Status::Ok();
  Stmt scan(db, span.bounded ? kScanBounded : kScanUnbounded);
  Stmt prev_stmt(db, kPrevRow);
  std::vector<Ordered> found;
  Query q(scan);
  q.BindBlob(1, span.lo);
  if (span.bounded) q.BindBlob(2, span.hi);
  q.Bind(3, from).Bind(4, to);
  Row previous;  // the row before the current one in (key, main, sub) order
  bool have_previous = false;
  while (q.Next()) {
    Row row = ReadRow(q);
    row.sub = q.Int(kColSub);
    Ordered& o = found.emplace_back();
    o.sub = row.sub;
    o.event.set_type(row.tombstone ? mvccpb::Event::DELETE : mvccpb::Event::PUT);
    if (have_previous && previous.kv.key() == row.kv.key()) {
      if (!previous.tombstone) *o.event.mutable_prev_kv() = previous.kv;
    } else {
      Query p(prev_stmt);
      p.BindBlob(1, row.kv.key()).Bind(2, row.kv.mod_revision()).Bind(3, row.sub);
      if (p.Next()) {
        Row before = ReadRow(p);
        if (!before.tombstone) *o.event.mutable_prev_kv() = std::move(before.kv);
      }
    }
    *o.event.mutable_kv() = row.kv;
    previous = std::move(row);
    have_previous = true;
  }
  std::stable_sort(found.begin(), found.end(), [](const Ordered& a, const Ordered& b) {
    if (a.event.kv().mod_revision() != b.event.kv().mod_revision()) {
      return a.event.kv().mod_revision() < b.event.kv().mod_revision();
    }
    return a.sub < b.sub;
  });
  out->reserve(out->size() + found.size());
  for (Ordered& o : found) out->push_back(std::move(o.event));
  return Status::Ok();
}

}  // namespace cairn::mvcc
