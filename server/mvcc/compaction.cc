// Physical compaction: ApplyBatch::CompactStep.
//
// Rows are visited in (main, sub) order from a persisted cursor, up to the target
// revision R. The key index was compacted at R when the compaction was applied (or
// rebuilt and compacted at start-up), so a row at or below R is garbage exactly when
// the index no longer holds it: it is superseded at R, or it is a tombstone that is the
// newest at R. Every other row is kept.
#include <string>
#include <vector>

#include "server/mvcc/apply_batch.h"

namespace cairn::mvcc {
namespace {

struct Row {
  int64_t main;
  int64_t sub;
  std::string key;
};

}  // namespace

bool ApplyBatch::CompactStep(int64_t max_rows) {
  CAIRN_CHECK(!request_open_ && max_rows >= 1);
  const int64_t target = state_.compact_pending_rev;
  if (target == 0) return false;
  if (store_.index_.CompactedRevision() < target) {
    // The compaction is in this very batch, which therefore can no longer be abandoned.
    store_.index_.Compact(target);
    index_compacted_ = true;
  }
  std::vector<Row> rows;
  {
    Query q(stmts_.compact_scan);
    q.Bind(1, state_.cursor_main).Bind(2, state_.cursor_sub).Bind(3, target).Bind(4, max_rows);
    while (q.Next()) rows.push_back({q.Int(0), q.Int(1), std::string(q.Blob(2))});
  }
  for (const Row& r : rows) {
    if (store_.index_.Contains(r.key, r.main, r.sub)) continue;
    Query d(stmts_.row_del);
    d.Bind(1, r.main).Bind(2, r.sub).Run();
  }
  if (static_cast<int64_t>(rows.size()) < max_rows) {
    state_.compact_pending_rev = 0;
    state_.cursor_main = 0;
    state_.cursor_sub = 0;
    return false;
  }
  state_.cursor_main = rows.back().main;
  state_.cursor_sub = rows.back().sub + 1;
  return true;
}

}  // namespace cairn::mvcc
