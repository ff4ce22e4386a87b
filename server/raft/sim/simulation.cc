#include "server/raft/sim/simulation.h"

#include <algorithm>

#include "server/raft/to_string.h"

namespace cairn::raft::sim {

namespace {
constexpr size_t kTraceLines = 400;
constexpr NodeId kSpares = 2;  // Ids beyond the initial members, for joins.
}  // namespace

void SimStats::Add(const SimStats& o) {
  proposals += o.proposals;
  committed += o.committed;
  conf_changes += o.conf_changes;
  snapshots += o.snapshots;
  reads += o.reads;
  crashes += o.crashes;
  max_term = std::max(max_term, o.max_term);
}

Simulation::Simulation(uint64_t seed, SimOptions opts)
    : seed_(seed), opts_(opts), rng_(seed), net_(seed ^ 0x5eedull), n_(seed % 2 == 0 ? 3 : 5),
      interleave_(seed % 4 >= 2) {
  SimNode::Hooks hooks;
  hooks.send = [this](Message m) {
    if (opts_.trace) Trace("send " + ToString(m));
    net_.Send(std::move(m), now_);
  };
  hooks.on_apply = [this](NodeId id, const Entry& e) {
    if (opts_.trace) Trace("apply@" + std::to_string(id) + " " + ToString(e));
    checker_.OnApply(id, e);
  };
  hooks.on_conf_change = [this](NodeId id, const ConfChange& cc) {
    // React once per membership entry, when its first member applies it: start joiners,
    // stop removed members (they keep their disks, in case they are re-added).
    const Index idx = nodes_.at(id).applied_index() + 1;
    if (idx <= last_membership_index_) return;
    last_membership_index_ = idx;
    ++stats_.conf_changes;
    if (nodes_.count(cc.node_id) == 0) return;
    SimNode& target = nodes_.at(cc.node_id);
    if (cc.type == ConfChangeType::kRemoveNode) {
      removed_.insert(cc.node_id);
      if (target.running() && cc.node_id != id) target.Crash();
      // The applying node itself is stopped after this Ready (see PersistOne).
    } else {
      removed_.erase(cc.node_id);
      if (!target.running()) Start(cc.node_id);
    }
  };
  net_.SetOnLost([this](const Message& m) { ReportSnapshot(m, false); });
  hooks.on_read_state = [this](NodeId id, const ReadState& rs) {
    ++stats_.reads;
    checker_.OnReadState(id, rs);
  };

  ConfState cs;
  for (NodeId id = 1; id <= n_; ++id) cs.voters.push_back(id);
  for (NodeId id = 1; id <= n_ + kSpares; ++id) nodes_.try_emplace(id, id, seed * 131 + id, hooks);
  for (NodeId id = 1; id <= n_; ++id) {
    nodes_.at(id).Bootstrap(cs);
    Start(id);
  }
  // Spares stay down until a membership change brings them in.
  Faults f;
  f.drop_per_mille = rng_.Uniform(150);
  f.dup_per_mille = rng_.Uniform(50);
  f.max_delay = rng_.Uniform(8);
  net_.SetFaults(f);
}

void Simulation::Trace(const std::string& s) {
  trace_.push_back("[" + std::to_string(now_) + "] " + s);
  if (trace_.size() > kTraceLines) trace_.pop_front();
}

std::string Simulation::TraceTail() const {
  std::string out;
  for (const std::string& s : trace_) out += s + "\n";
  return out;
}

void Simulation::ReportSnapshot(const Message& m, bool ok) {
  if (m.type != MessageType::MsgSnap) return;
  auto it = nodes_.find(m.from);
  if (it == nodes_.end() || !it->second.running()) return;
  if (opts_.trace) Trace("snapshot to " + std::to_string(m.to) + (ok ? " delivered" : " lost"));
  it->second.node().ReportSnapshot(m.to, ok);
}

void Simulation::Start(NodeId id) {
  nodes_.at(id).Start();
  started_.insert(id);
  checker_.OnRestart(id);
  if (opts_.trace) Trace("start " + std::to_string(id));
}

std::vector<NodeId> Simulation::Running(bool idle_only) {
  std::vector<NodeId> out;
  for (auto& [id, n] : nodes_) {
    if (n.running() && (!idle_only || !n.busy())) out.push_back(id);
  }
  return out;
}

SimNode* Simulation::Leader() {
  SimNode* best = nullptr;
  Term best_term = 0;
  for (auto& [id, n] : nodes_) {
    if (!n.running() || n.node().GetSoftState().role != Role::kLeader) continue;
    const Term t = n.node().GetHardState().term;
    if (best == nullptr || t > best_term) {
      best = &n;
      best_term = t;
    }
  }
  return best;
}

Index Simulation::MaxCommit() {
  Index m = 0;
  for (auto& [id, n] : nodes_) {
    if (n.running()) m = std::max(m, n.node().GetHardState().commit);
  }
  return m;
}

bool Simulation::DeliverOne() {
  Message m;
  auto accept = [this](const Message& msg) {
    auto it = nodes_.find(msg.to);
    // Messages to a busy node wait (unless interleaving); to a down or unknown node they
    // are lost on delivery.
    return interleave_ || it == nodes_.end() || !it->second.running() || !it->second.busy();
  };
  if (!net_.PopDeliverable(now_, accept, &m)) return false;
  auto it = nodes_.find(m.to);
  if (it == nodes_.end() || !it->second.running()) {
    ReportSnapshot(m, false);
    return true;
  }
  if (opts_.trace) Trace("recv " + ToString(m));
  (void)it->second.node().Step(m);
  stats_.snapshots += m.type == MessageType::MsgSnap;
  ReportSnapshot(m, true);
  return true;
}

bool Simulation::TickOne() {
  auto ids = Running(!interleave_);
  if (ids.empty()) return false;
  nodes_.at(Pick(ids)).node().Tick();
  return true;
}

bool Simulation::TakeReadyOne() {
  auto ids = Running(true);
  if (ids.empty()) return false;
  const NodeId id = Pick(ids);
  const bool took = nodes_.at(id).TakeReady();
  if (took && opts_.trace) Trace("ready@" + std::to_string(id));
  return took;
}

bool Simulation::PersistOne() {
  std::vector<NodeId> busy;
  for (auto& [id, n] : nodes_) {
    if (n.running() && n.busy()) busy.push_back(id);
  }
  if (busy.empty()) return false;
  const NodeId id = Pick(busy);
  if (opts_.trace) Trace("persist@" + std::to_string(id));
  nodes_.at(id).CompletePersist();
  if (removed_.count(id) != 0 && nodes_.at(id).running()) nodes_.at(id).Crash();
  return true;
}

void Simulation::ProposeOne() {
  auto ids = Running(!interleave_);
  if (ids.empty()) return;
  const NodeId id = Pick(ids);
  const std::string data = "p" + std::to_string(proposals_++);
  ++stats_.proposals;
  const Status st = nodes_.at(id).node().Propose(data);
  if (opts_.trace) Trace("propose@" + std::to_string(id) + " " + data + " -> " + st.ToString());
}

void Simulation::CrashOne() {
  auto ids = Running(false);
  if (ids.empty()) return;
  const NodeId id = Pick(ids);
  if (opts_.trace) Trace("crash " + std::to_string(id));
  ++stats_.crashes;
  nodes_.at(id).Crash();
}

void Simulation::RestartOne() {
  std::vector<NodeId> down;
  for (auto& [id, n] : nodes_) {
    // Never-started spares only start when added.
    if (!n.running() && removed_.count(id) == 0 && started_.count(id) != 0) down.push_back(id);
  }
  if (!down.empty()) Start(Pick(down));
}

void Simulation::PartitionOrHeal() {
  if (rng_.Uniform(2) == 0) {
    net_.Heal();
    if (opts_.trace) Trace("heal");
    return;
  }
  std::set<NodeId> side;
  for (auto& [id, n] : nodes_) {
    if (rng_.Uniform(2) == 0) side.insert(id);
  }
  net_.Partition(side);
  if (opts_.trace) Trace("partition " + std::to_string(side.size()));
}

void Simulation::MembershipChange() {
  SimNode* l = Leader();
  if (l == nullptr || l->busy()) return;
  const ConfState& cs = l->conf_state();
  std::vector<NodeId> outside;
  for (auto& [id, n] : nodes_) {
    if (std::find(cs.voters.begin(), cs.voters.end(), id) == cs.voters.end() &&
        std::find(cs.learners.begin(), cs.learners.end(), id) == cs.learners.end()) {
      outside.push_back(id);
    }
  }
  ConfChange cc;
  const uint64_t kind = rng_.Uniform(3);
  if (kind == 0 && !outside.empty()) {
    cc = ConfChange{ConfChangeType::kAddLearnerNode, Pick(outside), ""};
    // The joiner must be up to receive the log; a removed member rejoins with its old disk.
    removed_.erase(cc.node_id);
    if (!nodes_.at(cc.node_id).running()) Start(cc.node_id);
  } else if (kind == 1 && !cs.learners.empty() && cs.voters.size() <= n_) {
    cc = ConfChange{ConfChangeType::kAddNode, Pick(cs.learners), ""};
  } else if (kind == 2 && (cs.voters.size() + 1 > n_ || !cs.learners.empty())) {
    std::vector<NodeId> candidates = cs.learners;
    if (cs.voters.size() + 1 > n_) candidates.insert(candidates.end(), cs.voters.begin(), cs.voters.end());
    cc = ConfChange{ConfChangeType::kRemoveNode, Pick(candidates), ""};
  } else {
    return;
  }
  const Status st = l->node().ProposeConfChange(cc);
  if (opts_.trace) Trace("conf@" + std::to_string(l->id()) + " " + ToString(cc) + " -> " + st.ToString());
}

void Simulation::TransferLeader() {
  SimNode* l = Leader();
  if (l == nullptr || l->conf_state().voters.empty()) return;
  const NodeId to = Pick(l->conf_state().voters);
  if (opts_.trace) Trace("transfer@" + std::to_string(l->id()) + " to " + std::to_string(to));
  l->node().TransferLeader(to);
}

void Simulation::ReadIndex() {
  auto ids = Running(!interleave_);
  if (ids.empty()) return;
  const NodeId id = Pick(ids);
  const std::string ctx = "r" + std::to_string(reads_++);
  checker_.OnReadRequest(ctx, MaxCommit());
  if (opts_.trace) Trace("read@" + std::to_string(id) + " " + ctx);
  nodes_.at(id).node().ReadIndex(ctx);
}

void Simulation::CompactOne() {
  auto ids = Running(true);
  if (ids.empty()) return;
  const NodeId id = Pick(ids);
  if (opts_.trace) Trace("compact@" + std::to_string(id));
  nodes_.at(id).SnapshotAndCompact(rng_.Uniform(10));
}

void Simulation::ChaosStep() {
  // Weights per mille: mostly normal operation, with rare faults and operator actions.
  const uint64_t r = rng_.Uniform(1000);
  if (r < 400) {
    if (!DeliverOne()) TickOne();
  } else if (r < 530) {
    TickOne();
  } else if (r < 680) {
    TakeReadyOne();
  } else if (r < 830) {
    PersistOne();
  } else if (r < 910) {
    ProposeOne();
  } else if (r < 913) {
    CrashOne();
  } else if (r < 933) {
    RestartOne();
  } else if (r < 940) {
    PartitionOrHeal();
  } else if (r < 955) {
    MembershipChange();
  } else if (r < 965) {
    TransferLeader();
  } else if (r < 990) {
    ReadIndex();
  } else {
    CompactOne();
  }
}

bool Simulation::Check() {
  checker_.CheckStep(nodes_, now_ % 128 == 0);
  stats_.committed = checker_.applied().size();
  for (auto& [id, n] : nodes_) stats_.max_term = std::max(stats_.max_term, n.disk().hard_state().term);
  return checker_.ok();
}

Status Simulation::Run() {
  for (; now_ < opts_.chaos_steps; ++now_) {
    ChaosStep();
    if (!Check()) return Status::Internal("step " + std::to_string(now_) + ": " + checker_.error());
  }
  // Heal: no more faults; every member that should be up is started.
  net_.Heal();
  net_.SetFaults(Faults{});
  for (auto& [id, n] : nodes_) {
    if (!n.running() && removed_.count(id) == 0 && started_.count(id) != 0) Start(id);
  }
  const std::string final_data = "final";
  uint64_t proposed_at = 0;
  bool proposed = false;
  const uint64_t end = now_ + opts_.heal_steps;
  for (; now_ < end; ++now_) {
    const uint64_t r = rng_.Uniform(100);
    bool did = false;
    if (r < 60) did = DeliverOne();
    if (!did && r < 75) did = TakeReadyOne();
    if (!did && r < 90) did = PersistOne();
    if (!did) TickOne();
    if (!Check()) return Status::Internal("step " + std::to_string(now_) + ": " + checker_.error());
    if (now_ % 16 != 0) continue;
    SimNode* l = Leader();
    if (l == nullptr || l->busy()) continue;
    if (!proposed || now_ - proposed_at > 2000) {
      proposed = l->node().Propose(final_data).ok();
      proposed_at = now_;
      continue;
    }
    // Converged when every member of the leader's configuration applied "final".
    const ConfState& cs = l->conf_state();
    std::vector<NodeId> members = cs.voters;
    members.insert(members.end(), cs.learners.begin(), cs.learners.end());
    // Late proposals may still commit after "final": wait for everything applied anywhere.
    const Index max_applied = checker_.applied().empty() ? 0 : checker_.applied().rbegin()->first;
    bool done = true;
    for (NodeId id : members) {
      SimNode& n = nodes_.at(id);
      const auto& st = n.state();
      done = done && n.running() && n.applied_index() >= max_applied &&
             std::any_of(st.begin(), st.end(), [&](const Applied& a) { return a.data == final_data; });
    }
    if (!done) continue;
    // Every acknowledged (applied anywhere) proposal is applied on every member, in the
    // same order.
    for (NodeId id : members) {
      SimNode& n = nodes_.at(id);
      std::set<std::string> have;
      for (const Applied& a : n.state()) have.insert(a.data);
      for (const auto& [idx, e] : checker_.applied()) {
        if (e.type == EntryType::kNormal && !e.data.empty() && have.count(e.data) == 0) {
          return Status::Internal("acknowledged " + ToString(e) + " missing on node " + std::to_string(id));
        }
      }
      const auto& a = n.state();
      const auto& b = nodes_.at(members.front()).state();
      const size_t k = std::min(a.size(), b.size());
      for (size_t i = 0; i < k; ++i) {
        if (a[i].index != b[i].index || a[i].data != b[i].data) {
          return Status::Internal("applied states of " + std::to_string(id) + " and " +
                                  std::to_string(members.front()) + " diverge");
        }
      }
    }
    return Status::Ok();
  }
  SimNode* l = Leader();
  std::string members;
  for (auto& [id, n] : nodes_) {
    members += " [" + std::to_string(id) + (n.running() ? " up" : " down") +
               (removed_.count(id) ? " removed" : "") + " applied=" + std::to_string(n.applied_index()) +
               " last=" + std::to_string(n.disk().LastIndex()) + " " + ToString(n.conf_state());
    if (n.running()) members += " " + ToString(n.node().GetStatus());
    members += "]";
  }
  return Status::Internal("no convergence after healing (leader " +
                          (l ? std::to_string(l->id()) : std::string("none")) + "):" + members);
}

}  // namespace cairn::raft::sim
