#include "server/mvcc/key_index.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "server/mvcc/errors.h"

namespace cairn::mvcc {
namespace {

bool Older(const IndexedRevision& r, int64_t main, int64_t sub) {
  return r.main < main || (r.main == main && r.sub < sub);
}

}  // namespace

const IndexedRevision* KeyIndex::VisibleAt(const Revisions& revs, int64_t at) {
  // The newest revision with main <= at (several subs of one main: the last wins).
  auto it = std::upper_bound(revs.begin(), revs.end(), at,
                             [](int64_t a, const IndexedRevision& r) { return a < r.main; });
  if (it == revs.begin()) return nullptr;
  const IndexedRevision* r = &*std::prev(it);
  return r->tombstone() ? nullptr : r;
}

void KeyIndex::Append(std::string_view key, const IndexedRevision& rev) {
  std::unique_lock lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    keys_.insert(KeyRevisions::Make(key, &rev, 1));
    return;
  }
  CAIRN_CHECK(Older(it->back(), rev.main, rev.sub));
  Mutable(*it).PushBack(rev);
}

void KeyIndex::RemoveNewest(std::string_view key, int64_t main, int64_t sub) {
  std::unique_lock lock(mu_);
  auto it = keys_.find(key);
  CAIRN_CHECK(it != keys_.end() && !it->empty());
  CAIRN_CHECK(it->back().main == main && it->back().sub == sub);
  Mutable(*it).PopBack();
  if (it->empty()) keys_.erase(it);
}

void KeyIndex::CompactRevisions(Revisions& revs, int64_t rev) {
  auto above = std::upper_bound(revs.begin(), revs.end(), rev,
                                [](int64_t a, const IndexedRevision& r) { return a < r.main; });
  if (above == revs.begin()) return;
  auto newest_at_rev = std::prev(above);
  // A tombstone at or below rev: the key did not exist at rev, and nothing older can be
  // read any more, so it goes too.
  revs.EraseFront(static_cast<size_t>((newest_at_rev->tombstone() ? above : newest_at_rev) - revs.begin()));
}

void KeyIndex::Compact(int64_t rev) {
  std::unique_lock lock(mu_);
  CAIRN_CHECK(rev >= compacted_);
  compacted_ = rev;
  for (auto it = keys_.begin(); it != keys_.end();) {
    CompactRevisions(Mutable(*it), rev);
    it = it->empty() ? keys_.erase(it) : std::next(it);
  }
}

void KeyIndex::Load(std::vector<Row> rows, int64_t compacted) {
  // Sorting by (key, main, sub) groups each key's revisions oldest first, so every key
  // is made once, with all its revisions, and inserted at the end of the set: no search
  // per row, no regrowth. What is sorted is each row's first eight key bytes (big-endian,
  // zero-padded, so their order never contradicts the keys') with its position: most
  // comparisons are one integer compare instead of a memcmp through the row.
  struct Ordered {
    uint64_t prefix;
    size_t row;
  };
  std::vector<Ordered> order(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    uint64_t prefix = 0;
    const std::string_view key = rows[i].key;
    for (size_t b = 0; b < 8; ++b) prefix = prefix << 8 | (b < key.size() ? static_cast<uint8_t>(key[b]) : 0);
    order[i] = {prefix, i};
  }
  std::sort(order.begin(), order.end(), [&](const Ordered& a, const Ordered& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    const Row& x = rows[a.row];
    const Row& y = rows[b.row];
    if (x.key != y.key) return x.key < y.key;
    return Older(x.rev, y.rev.main, y.rev.sub);
  });
  std::unique_lock lock(mu_);
  keys_.clear();
  compacted_ = compacted;
  std::vector<IndexedRevision> revs;
  for (size_t begin = 0, end = 0; begin < order.size(); begin = end) {
    const std::string_view key = rows[order[begin].row].key;
    revs.clear();
    for (end = begin; end < order.size() && rows[order[end].row].key == key; ++end) {
      const IndexedRevision& rev = rows[order[end].row].rev;
      CAIRN_CHECK(revs.empty() || Older(revs.back(), rev.main, rev.sub));
      revs.push_back(rev);
    }
    KeyRevisions loaded = KeyRevisions::Make(key, revs.data(), revs.size());
    if (compacted > 0) CompactRevisions(loaded, compacted);
    if (!loaded.empty()) keys_.insert(keys_.end(), std::move(loaded));
  }
}

int64_t KeyIndex::CompactedRevision() const {
  std::shared_lock lock(mu_);
  return compacted_;
}

Result<std::optional<IndexedRevision>> KeyIndex::Get(std::string_view key, int64_t at) const {
  std::shared_lock lock(mu_);
  if (at < compacted_) return ErrCompacted();
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::optional<IndexedRevision>();
  const IndexedRevision* r = VisibleAt(*it, at);
  return r == nullptr ? std::optional<IndexedRevision>() : std::optional<IndexedRevision>(*r);
}

Status KeyIndex::Visit(const KeySpan& span, int64_t at, const Visitor& visit) const {
  std::shared_lock lock(mu_);
  if (at < compacted_) return ErrCompacted();
  if (span.bounded && span.hi <= span.lo) return Status::Ok();
  for (auto it = keys_.lower_bound(span.lo); it != keys_.end(); ++it) {
    if (span.bounded && it->key() >= span.hi) break;
    const IndexedRevision* r = VisibleAt(*it, at);
    if (r != nullptr && !visit(it->key(), *r)) break;
  }
  return Status::Ok();
}

Result<std::vector<std::optional<IndexedRevision>>> KeyIndex::RevisionsBefore(
    const std::vector<Before>& queries, int64_t from) const {
  std::shared_lock lock(mu_);
  if (from <= compacted_) return ErrCompacted();
  std::vector<std::optional<IndexedRevision>> out;
  out.reserve(queries.size());
  for (const Before& q : queries) {
    std::optional<IndexedRevision>& found = out.emplace_back();
    auto it = keys_.find(q.key);
    if (it == keys_.end()) continue;
    const Revisions& revs = *it;
    auto at = std::lower_bound(revs.begin(), revs.end(), q,
                               [](const IndexedRevision& r, const Before& b) { return Older(r, b.main, b.sub); });
    if (at != revs.begin()) found = *std::prev(at);
  }
  return out;
}

bool KeyIndex::Contains(std::string_view key, int64_t main, int64_t sub) const {
  std::shared_lock lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  return std::any_of(it->begin(), it->end(),
                     [&](const IndexedRevision& r) { return r.main == main && r.sub == sub; });
}

std::pair<RevisionSet, int64_t> KeyIndex::KeptRevisions() const {
  std::shared_lock lock(mu_);
  RevisionSet kept;
  for (const Revisions& revs : keys_) {
    if (revs.front().main <= compacted_) kept.emplace(revs.front().main, revs.front().sub);
  }
  return {std::move(kept), compacted_};
}

std::vector<std::pair<std::string, int64_t>> KeyIndex::LeasedKeys() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<std::string, int64_t>> out;
  for (const Revisions& revs : keys_) {
    const IndexedRevision& newest = revs.back();
    if (!newest.tombstone() && newest.lease != 0) out.emplace_back(std::string(revs.key()), newest.lease);
  }
  return out;
}

}  // namespace cairn::mvcc
