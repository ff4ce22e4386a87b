#include "server/mvcc/kv_reader.h"

#include <algorithm>
#include <limits>

#include "server/mvcc/crc32c.h"
#include "server/mvcc/errors.h"
#include "server/mvcc/schema.h"

namespace cairn::mvcc {
namespace {

using etcdserverpb::RangeRequest;
using mvccpb::KeyValue;

constexpr int64_t kNoLimit = -1;

// etcd's normalisation: NONE with a non-KEY target sorts ASCEND; KEY/ASCEND is the
// natural key order. Variant 0 = key asc, 1 = key desc, 2.. = (target, direction).
int SortVariant(const RangeRequest& r) {
  auto order = r.sort_order();
  const auto target = r.sort_target();
  if (target == RangeRequest::KEY) return order == RangeRequest::DESCEND ? 1 : 0;
  const int t = std::clamp(static_cast<int>(target), 1, 4);
  return 2 + (t - 1) * 2 + (order == RangeRequest::DESCEND ? 1 : 0);
}

const char* SortSql(int variant) {
  static const char* const kSql[] = {
      "key ASC",         "key DESC",         "version ASC, key", "version DESC, key",
      "create_rev ASC, key", "create_rev DESC, key", "mod_rev ASC, key", "mod_rev DESC, key",
      "value ASC, key",  "value DESC, key"};
  return kSql[variant];
}

bool HasFilters(const RangeRequest& r) {
  return r.min_mod_revision() != 0 || r.max_mod_revision() != 0 || r.min_create_revision() != 0 ||
         r.max_create_revision() != 0;
}

bool PassesFilters(const RangeRequest& r, const KeyValue& kv) {
  if (r.max_mod_revision() != 0 && kv.mod_revision() > r.max_mod_revision()) return false;
  if (r.min_mod_revision() != 0 && kv.mod_revision() < r.min_mod_revision()) return false;
  if (r.max_create_revision() != 0 && kv.create_revision() > r.max_create_revision()) return false;
  if (r.min_create_revision() != 0 && kv.create_revision() < r.min_create_revision()) return false;
  return true;
}

void FillKv(const Query& q, bool with_value, KeyValue* kv) {
  const auto key = q.Blob(schema::kColKey);
  kv->set_key(key.data(), key.size());
  kv->set_create_revision(q.Int(schema::kColCreate));
  kv->set_mod_revision(q.Int(schema::kColMod));
  kv->set_version(q.Int(schema::kColVersion));
  kv->set_lease(q.Int(schema::kColLease));
  if (with_value) {
    const auto v = q.Blob(schema::kColValue);
    kv->set_value(v.data(), v.size());
  }
}

// Orders kvs by the (normalised) sort request; ties keep key order.
bool Less(int variant, const KeyValue& a, const KeyValue& b) {
  switch ((variant - 2) / 2) {
    case 0: return a.version() < b.version();
    case 1: return a.create_revision() < b.create_revision();
    case 2: return a.mod_revision() < b.mod_revision();
    default: return a.value() < b.value();
  }
}

}  // namespace

const Stmt& KvReader::Cached(Stmt& slot, const std::string& sql) {
  if (!slot.valid()) slot = Stmt(db_, sql);
  return slot;
}

StoreState KvReader::ReadState() {
  Query q(Cached(state_,
                 "SELECT applied_index, current_rev, compact_rev, compact_pending_rev, "
                 "compact_cursor_key, compact_cursor_main, compact_cursor_sub "
                 "FROM store_state WHERE id = 0"));
  CAIRN_CHECK(q.Next());
  StoreState s;
  s.applied_index = q.Int(0);
  s.current_rev = q.Int(1);
  s.compact_rev = q.Int(2);
  s.compact_pending_rev = q.Int(3);
  s.cursor_key = std::string(q.Blob(4));
  s.cursor_main = q.Int(5);
  s.cursor_sub = q.Int(6);
  return s;
}

Status KvReader::Range(const RangeRequest& req, int64_t current, int64_t compact,
                       etcdserverpb::RangeResponse* out) {
  int64_t rev = req.revision();
  if (rev > current) return ErrFutureRev();
  if (rev <= 0) rev = current;
  if (rev < compact) return ErrCompacted();
  out->mutable_header()->set_revision(current);
  const Span span = KeySpan::Of(req.key(), req.range_end());
  if (rev == current) {
    RangeCurrent(req, span, out);
  } else {
    RangeHistorical(req, span, rev, out);
  }
  return Status::Ok();
}

int64_t KvReader::CountLive(const Span& span) {
  const Stmt& s = Cached(count_[span.bounded],
                         span.bounded ? "SELECT count(*) FROM kv_live WHERE key >= ?1 AND key < ?2"
                                      : "SELECT count(*) FROM kv_live WHERE key >= ?1");
  Query q(s);
  q.BindBlob(1, span.lo);
  if (span.bounded) q.BindBlob(2, span.hi);
  CAIRN_CHECK(q.Next());
  return q.Int(0);
}

void KvReader::RangeCurrent(const RangeRequest& req, const Span& span,
                            etcdserverpb::RangeResponse* out) {
  if (req.count_only()) {
    out->set_count(CountLive(span));
    return;
  }
  const int variant = SortVariant(req);
  const bool keys_only = req.keys_only();
  Stmt& slot = live_[(span.bounded * kSortVariants + variant) * 2 + keys_only];
  if (!slot.valid()) {
    std::string sql = "SELECT key, create_rev, mod_rev, version, lease, ";
    sql += keys_only ? "x''" : "value";
    sql += " FROM kv_live WHERE key >= ?1";
    if (span.bounded) sql += " AND key < ?2";
    sql += " AND mod_rev >= ?3 AND mod_rev <= ?4 AND create_rev >= ?5 AND create_rev <= ?6"
           " ORDER BY ";
    sql += SortSql(variant);
    sql += " LIMIT ?7";
    slot = Stmt(db_, sql);
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t limit = req.limit();
  Query q(slot);
  q.BindBlob(1, span.lo);
  if (span.bounded) q.BindBlob(2, span.hi);
  q.Bind(3, req.min_mod_revision());
  q.Bind(4, req.max_mod_revision() != 0 ? req.max_mod_revision() : kMax);
  q.Bind(5, req.min_create_revision());
  q.Bind(6, req.max_create_revision() != 0 ? req.max_create_revision() : kMax);
  q.Bind(7, limit > 0 && limit < kMax ? limit + 1 : kNoLimit);
  auto* kvs = out->mutable_kvs();
  while (q.Next()) FillKv(q, !keys_only, kvs->Add());
  const bool truncated = limit > 0 && kvs->size() > limit;
  if (truncated) {
    kvs->DeleteSubrange(static_cast<int>(limit), kvs->size() - static_cast<int>(limit));
    out->set_more(true);
  }
  out->set_count(truncated || HasFilters(req) ? CountLive(span) : kvs->size());
}

void KvReader::RangeHistorical(const RangeRequest& req, const Span& span, int64_t rev,
                               etcdserverpb::RangeResponse* out) {
  const Stmt& next = Cached(
      next_key_[span.bounded],
      span.bounded ? "SELECT key FROM kv_history WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT 1"
                   : "SELECT key FROM kv_history WHERE key >= ?1 ORDER BY key LIMIT 1");
  const Stmt& latest = Cached(
      latest_,
      "SELECT key, create_rev, main, version, lease, value FROM kv_history "
      "WHERE key = ?1 AND main <= ?2 ORDER BY main DESC, sub DESC LIMIT 1");
  const int variant = SortVariant(req);
  const bool natural = variant == 0;
  const int64_t limit = req.limit();
  const bool collect = !req.count_only();
  auto* kvs = out->mutable_kvs();
  int64_t count = 0;
  // The smallest key strictly greater than the previous one is previous + "\0".
  std::string cursor(span.lo);
  while (true) {
    {
      Query nq(next);
      nq.BindBlob(1, cursor);
      if (span.bounded) nq.BindBlob(2, span.hi);
      if (!nq.Next()) break;
      cursor.assign(nq.Blob(0));
    }
    Query lq(latest);
    lq.BindBlob(1, cursor).Bind(2, rev);
    if (lq.Next() && lq.Int(schema::kColVersion) != 0) {
      ++count;
      // In natural order nothing past limit+1 rows can reach the response.
      const bool room = !natural || limit <= 0 || kvs->size() <= limit;
      if (collect && room) {
        KeyValue* kv = kvs->Add();
        FillKv(lq, !req.keys_only(), kv);
        if (!PassesFilters(req, *kv)) kvs->RemoveLast();
      }
    }
    cursor.push_back('\0');
  }
  out->set_count(count);
  if (!natural) {
    auto begin = kvs->pointer_begin();
    auto end = kvs->pointer_end();
    if (variant == 1) {
      std::reverse(begin, end);
    } else {
      const bool desc = variant % 2 == 1;
      std::stable_sort(begin, end, [&](const KeyValue* a, const KeyValue* b) {
        return desc ? Less(variant, *b, *a) : Less(variant, *a, *b);
      });
    }
  }
  if (limit > 0 && kvs->size() > limit) {
    kvs->DeleteSubrange(static_cast<int>(limit), kvs->size() - static_cast<int>(limit));
    out->set_more(true);
  }
}

Result<KvHash> KvReader::HashKV(int64_t rev, int64_t current, int64_t compact) {
  if (rev > current) return ErrFutureRev();
  if (rev <= 0) rev = current;
  if (rev < compact) return ErrCompacted();
  const Stmt& s = Cached(hash_,
                         "SELECT key, main, sub, create_rev, version, lease, value FROM kv_history "
                         "WHERE main <= ?1 ORDER BY key, main, sub");
  Crc32c crc;
  // Rows <= compact: only each key's newest one survives compaction, and only if it is
  // not a tombstone. Buffer it until the key's next row (or key) shows it is the newest.
  std::string held_key;
  std::string held_row;
  bool holding = false;
  auto flush = [&] {
    if (holding) crc.Update(held_row);
    holding = false;
  };
  Query q(s);
  q.Bind(1, rev);
  std::string row;
  while (q.Next()) {
    const auto key = q.Blob(0);
    const int64_t main = q.Int(1);
    row.clear();
    AppendU32(&row, static_cast<uint32_t>(key.size()));
    row.append(key);
    for (int c = 1; c <= 5; ++c) AppendU64(&row, static_cast<uint64_t>(q.Int(c)));
    const auto value = q.Blob(6);
    AppendU32(&row, static_cast<uint32_t>(value.size()));
    row.append(value);
    if (holding && key != held_key) flush();
    if (main <= compact) {
      holding = q.Int(4) != 0;  // a tombstone <= compact is gone, and so is all before it
      held_key.assign(key);
      held_row.swap(row);
    } else {
      flush();
      crc.Update(row);
    }
  }
  flush();
  return KvHash{crc.value(), compact, rev};
}

}  // namespace cairn::mvcc
