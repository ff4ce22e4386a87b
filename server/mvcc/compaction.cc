// Physical compaction: ApplyBatch::CompactStep.
//
// History rows are visited in (key, main, sub) order from a persisted cursor. With
// target revision R, a row with main <= R is deleted when a newer row of the same key
// also has main <= R (it is no longer the newest at R), or when it is the newest at R
// and a tombstone (the key did not exist at R, and nothing older can be read). Every
// other row is kept. Deciding a row needs the next row, so the last row fetched in a
// chunk stays undecided and becomes the cursor of the next chunk.
#include <string>
#include <vector>

#include "server/mvcc/apply_batch.h"

namespace cairn::mvcc {
namespace {

struct Row {
  std::string key;
  int64_t main;
  int64_t sub;
  bool tombstone;
};

}  // namespace

bool ApplyBatch::CompactStep(int64_t max_rows) {
  CAIRN_CHECK(!request_open_ && max_rows >= 1);
  const int64_t target = state_.compact_pending_rev;
  if (target == 0) return false;
  std::vector<Row> rows;
  {
    Query q(stmts_.compact_scan);
    q.BindBlob(1, state_.cursor_key)
        .Bind(2, state_.cursor_main)
        .Bind(3, state_.cursor_sub)
        .Bind(4, max_rows + 1);
    while (q.Next()) rows.push_back({std::string(q.Blob(0)), q.Int(1), q.Int(2), q.Int(3) == 0});
  }
  const bool at_end = static_cast<int64_t>(rows.size()) <= max_rows;
  const size_t decided = at_end ? rows.size() : rows.size() - 1;
  for (size_t i = 0; i < decided; ++i) {
    const Row& r = rows[i];
    if (r.main > target) continue;
    const bool superseded =
        i + 1 < rows.size() && rows[i + 1].key == r.key && rows[i + 1].main <= target;
    if (!superseded && !r.tombstone) continue;
    Query d(stmts_.hist_del);
    d.BindBlob(1, r.key).Bind(2, r.main).Bind(3, r.sub).Run();
  }
  if (at_end) {
    state_.compact_pending_rev = 0;
    state_.cursor_key.clear();
    state_.cursor_main = 0;
    state_.cursor_sub = 0;
    return false;
  }
  const Row& next = rows.back();
  state_.cursor_key = next.key;
  state_.cursor_main = next.main;
  state_.cursor_sub = next.sub;
  return true;
}

}  // namespace cairn::mvcc
