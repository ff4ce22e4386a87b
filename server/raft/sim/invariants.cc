#include "server/raft/sim/invariants.h"

#include <algorithm>

#include "server/raft/to_string.h"

namespace cairn::raft::sim {

void InvariantChecker::Fail(const std::string& what) {
  if (error_.empty()) error_ = what;
}

void InvariantChecker::CheckCommitted(NodeId id, const Entry& e) {
  auto [it, inserted] = committed_.emplace(e.index, e);
  if (!inserted && it->second != e) {
    Fail("node " + std::to_string(id) + " has committed entry " + ToString(e) + " but " +
         ToString(it->second) + " was committed at that index");
  }
}

void InvariantChecker::CheckStep(std::map<NodeId, SimNode>& nodes, bool full) {
  for (auto& [id, n] : nodes) {
    Seen& s = seen_[id];
    const HardState& dhs = n.disk().hard_state();
    if (dhs.term < s.disk_term || dhs.commit < s.disk_commit) {
      Fail("node " + std::to_string(id) + " persisted hard state went back: " + ToString(dhs));
    }
    s.disk_term = dhs.term;
    s.disk_commit = dhs.commit;
    if (n.running()) {
      const HardState st = n.node().GetHardState();
      if (st.term < s.term) Fail("node " + std::to_string(id) + " term went back to " + std::to_string(st.term));
      if (st.commit < s.commit) {
        Fail("node " + std::to_string(id) + " commit went back to " + std::to_string(st.commit));
      }
      s.term = st.term;
      s.commit = st.commit;
      if (n.node().GetSoftState().role == Role::kLeader) {
        auto [it, inserted] = leaders_.emplace(st.term, id);
        if (it->second != id) {
          Fail("two leaders in term " + std::to_string(st.term) + ": " + std::to_string(it->second) +
               " and " + std::to_string(id));
        }
      }
    }
    // The committed prefix of the persisted log.
    MemoryStorage& d = n.disk();
    const Index upto = std::min(dhs.commit, d.LastIndex());
    if (full) s.checked = 0;
    const Index first = d.FirstIndex();
    if (first > 1 && s.checked < first - 1) {
      // The snapshot's last entry is committed too.
      auto t = d.TermOf(first - 1);
      auto it = committed_.find(first - 1);
      if (t.ok() && it != committed_.end() && it->second.term != *t) {
        Fail("node " + std::to_string(id) + " snapshot at " + std::to_string(first - 1) +
             " has term " + std::to_string(*t) + " but committed entry is " + ToString(it->second));
      }
    }
    for (Index i = std::max(s.checked + 1, first); i <= upto; ++i) {
      auto e = d.Entries(i, i + 1, UINT64_MAX);
      CAIRN_CHECK(e.ok());
      CheckCommitted(id, e->front());
    }
    s.checked = std::max(s.checked, upto);
  }
}

void InvariantChecker::OnApply(NodeId id, const Entry& e) {
  auto [it, inserted] = applied_.emplace(e.index, e);
  if (!inserted && it->second != e) {
    Fail("node " + std::to_string(id) + " applied " + ToString(e) + " but another member applied " +
         ToString(it->second));
  }
  CheckCommitted(id, e);
}

void InvariantChecker::OnReadState(NodeId id, const ReadState& rs) {
  auto it = reads_.find(rs.request_ctx);
  if (it == reads_.end()) {
    Fail("node " + std::to_string(id) + " got a read state for unknown ctx " + rs.request_ctx);
    return;
  }
  if (rs.index < it->second) {
    Fail("read " + rs.request_ctx + " at index " + std::to_string(rs.index) +
         " misses commit index " + std::to_string(it->second) + " known when it was issued");
  }
}

void InvariantChecker::OnRestart(NodeId id) {
  Seen& s = seen_[id];
  // Volatile state is gone; only the persisted hard state must not go back.
  s.term = 0;
  s.commit = 0;
}

}  // namespace cairn::raft::sim
