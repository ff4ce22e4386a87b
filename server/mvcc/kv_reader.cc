#include "server/mvcc/kv_reader.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "server/mvcc/crc32c.h"
#include "server/mvcc/errors.h"
#include "server/mvcc/key_span.h"
#include "server/mvcc/schema.h"

namespace cairn::mvcc {
namespace {

using etcdserverpb::RangeRequest;
using mvccpb::KeyValue;

// etcd's normalisation: NONE with a non-KEY target sorts ASCEND; KEY/ASCEND is the
// natural key order. Variant 0 = key asc, 1 = key desc, 2.. = (target, direction).
int SortVariant(const RangeRequest& r) {
  auto order = r.sort_order();
  const auto target = r.sort_target();
  if (target == RangeRequest::KEY) return order == RangeRequest::DESCEND ? 1 : 0;
  const int t = std::clamp(static_cast<int>(target), 1, 4);
  return 2 + (t - 1) * 2 + (order == RangeRequest::DESCEND ? 1 : 0);
}
constexpr int kSortByValue = 3;  // (variant - 2) / 2 for VALUE

bool PassesFilters(const RangeRequest& r, const IndexedRevision& rev) {
  if (r.max_mod_revision() != 0 && rev.main > r.max_mod_revision()) return false;
  if (r.min_mod_revision() != 0 && rev.main < r.min_mod_revision()) return false;
  if (r.max_create_revision() != 0 && rev.create_rev > r.max_create_revision()) return false;
  if (r.min_create_revision() != 0 && rev.create_rev < r.min_create_revision()) return false;
  return true;
}

struct Candidate {
  std::string key;
  IndexedRevision rev;
  std::optional<std::string> value;  // fetched early only to sort by it
};

int64_t SortField(int by, const IndexedRevision& r) {
  switch (by) {
    case 0: return r.version;
    case 1: return r.create_rev;
    default: return r.main;
  }
}

}  // namespace

KvReader::KvReader(sqlite3* db, const KeyIndex* index)
    : db_(db),
      index_(index),
      state_(db,
             "SELECT applied_index, current_rev, compact_rev, compact_pending_rev, "
             "compact_cursor_main, compact_cursor_sub FROM store_state WHERE id = 0"),
      value_(db, "SELECT value FROM kv_revisions WHERE main = ?1 AND sub = ?2"),
      hash_(db, std::string("SELECT ") + schema::kRowColumns +
                    " FROM kv_revisions WHERE main <= ?1 ORDER BY main, sub") {}

StoreState KvReader::ReadState() {
  Query q(state_);
  CAIRN_CHECK(q.Next());
  StoreState s;
  s.applied_index = q.Int(0);
  s.current_rev = q.Int(1);
  s.compact_rev = q.Int(2);
  s.compact_pending_rev = q.Int(3);
  s.cursor_main = q.Int(4);
  s.cursor_sub = q.Int(5);
  return s;
}

std::string KvReader::ValueAt(int64_t main, int64_t sub) {
  Query q(value_);
  q.Bind(1, main).Bind(2, sub);
  CAIRN_CHECK(q.Next());  // indexed revisions at or below the snapshot are in it
  const auto v = q.Blob(0);
  return std::string(v);
}

Status KvReader::Range(const RangeRequest& req, int64_t current, int64_t compact,
                       etcdserverpb::RangeResponse* out) {
  int64_t rev = req.revision();
  if (rev > current) return ErrFutureRev();
  if (rev <= 0) rev = current;
  if (rev < compact) return ErrCompacted();
  const int variant = SortVariant(req);
  const int64_t limit = req.limit() > 0 ? req.limit() : 0;
  const bool count_only = req.count_only();
  // In key order nothing past limit+1 rows passing the filters can reach the response.
  const size_t cap = variant == 0 && limit > 0 ? static_cast<size_t>(limit) + 1
                                               : std::numeric_limits<size_t>::max();
  std::vector<Candidate> found;
  int64_t count = 0;
  const KeySpan span = KeySpan::Of(req.key(), req.range_end());
  CAIRN_RETURN_IF_ERROR(index_->Visit(span, rev, [&](std::string_view key, const IndexedRevision& r) {
    ++count;
    if (!count_only && found.size() < cap && PassesFilters(req, r)) found.push_back({std::string(key), r, std::nullopt});
    return true;
  }));
  out->mutable_header()->set_revision(current);
  out->set_count(count);
  if (count_only) return Status::Ok();

  if (variant == 1) {
    std::reverse(found.begin(), found.end());
  } else if (variant >= 2) {
    const int by = (variant - 2) / 2;
    const bool desc = variant % 2 == 1;
    if (by == kSortByValue) {
      for (Candidate& c : found) c.value = ValueAt(c.rev.main, c.rev.sub);
    }
    // Stable: ties keep key order, as etcd's.
    std::stable_sort(found.begin(), found.end(), [&](const Candidate& a, const Candidate& b) {
      const Candidate& x = desc ? b : a;
      const Candidate& y = desc ? a : b;
      if (by == kSortByValue) return *x.value < *y.value;
      return SortField(by, x.rev) < SortField(by, y.rev);
    });
  }
  if (limit > 0 && static_cast<int64_t>(found.size()) > limit) {
    found.resize(static_cast<size_t>(limit));
    out->set_more(true);
  }
  auto* kvs = out->mutable_kvs();
  kvs->Reserve(static_cast<int>(found.size()));
  for (Candidate& c : found) {
    KeyValue* kv = kvs->Add();
    kv->set_key(std::move(c.key));
    kv->set_create_revision(c.rev.create_rev);
    kv->set_mod_revision(c.rev.main);
    kv->set_version(c.rev.version);
    kv->set_lease(c.rev.lease);
    if (req.keys_only()) continue;
    kv->set_value(c.value ? std::move(*c.value) : ValueAt(c.rev.main, c.rev.sub));
  }
  return Status::Ok();
}

Result<KvHash> KvReader::HashKV(int64_t rev, int64_t current) {
  if (rev > current) return ErrFutureRev();
  if (rev <= 0) rev = current;
  const auto [kept, compacted] = index_->KeptRevisions();
  if (rev < compacted) return ErrCompacted();
  Crc32c crc;
  Query q(hash_);
  q.Bind(1, rev);
  std::string row;
  while (q.Next()) {
    const int64_t main = q.Int(schema::kColMain);
    const int64_t sub = q.Int(schema::kColSub);
    if (main <= compacted && !kept.contains({main, sub})) continue;
    const auto key = q.Blob(schema::kColKey);
    const auto value = q.Blob(schema::kColValue);
    row.clear();
    AppendU32(&row, static_cast<uint32_t>(key.size()));
    row.append(key);
    AppendU64(&row, static_cast<uint64_t>(main));
    AppendU64(&row, static_cast<uint64_t>(sub));
    for (int c : {schema::kColCreate, schema::kColVersion, schema::kColLease}) {
      AppendU64(&row, static_cast<uint64_t>(q.Int(c)));
    }
    AppendU32(&row, static_cast<uint32_t>(value.size()));
    row.append(value);
    crc.Update(row);
  }
  return KvHash{crc.value(), compacted, rev};
}

}  // namespace cairn::mvcc
