#include "server/raft/test_cluster.h"

#include "server/raft/codec.h"

namespace cairn::raft {

namespace {

// The test state machine's snapshot is its applied data, one item per line.
std::vector<std::string> SplitLines(const std::string& data) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t nl = data.find('\n', pos);
    out.push_back(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

}  // namespace

TestCluster::TestCluster(int n_voters, int n_learners, const std::function<void(Config&)>& tweak,
                         bool bootstrap_log)
    : tweak_(tweak) {
  ConfState cs;
  for (int i = 1; i <= n_voters; ++i) cs.voters.push_back(static_cast<NodeId>(i));
  for (int i = 1; i <= n_learners; ++i) cs.learners.push_back(static_cast<NodeId>(n_voters + i));
  for (int i = 1; i <= n_voters + n_learners; ++i) {
    const NodeId id = static_cast<NodeId>(i);
    Member& m = members_[id];
    m.storage = std::make_unique<MemoryStorage>();
    if (bootstrap_log) {
      CAIRN_CHECK(m.storage->Bootstrap(cs).ok());
    } else {
      m.storage->SetConfState(cs);
    }
    Restart(id);
    ProcessReady(id);  // Applies the bootstrap entries, if any.
  }
}

Config TestCluster::MakeConfig(NodeId id) const {
  Config c;
  c.id = id;
  c.storage = members_.at(id).storage.get();
  c.seed = id;
  if (tweak_) tweak_(c);
  c.applied = members_.at(id).applied_index;
  return c;
}

std::vector<NodeId> TestCluster::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, m] : members_) out.push_back(id);
  return out;
}

void TestCluster::AddFreshNode(NodeId id) {
  Member& m = members_[id];
  m.storage = std::make_unique<MemoryStorage>();
  Restart(id);
}

void TestCluster::Restart(NodeId id) {
  Member& m = members_.at(id);
  m.node.reset();
  // Volatile application state is rebuilt from the snapshot, then replayed from the log.
  auto snap = m.storage->GetSnapshot();
  m.applied = SplitLines(snap->data);
  m.conf_state = snap->metadata.conf_state;
  m.applied_index = snap->metadata.index;
  auto n = RawNode::Create(MakeConfig(id));
  CAIRN_CHECK(n.ok());
  m.node = std::move(n).value();
}

void TestCluster::SnapshotAndCompact(NodeId id) {
  Member& m = members_.at(id);
  std::string data;
  for (const std::string& s : m.applied) data += s + "\n";
  auto snap = m.storage->CreateSnapshot(m.applied_index, &m.conf_state, data);
  CAIRN_CHECK(snap.ok());
  CAIRN_CHECK(m.storage->Compact(m.applied_index).ok());
}

void TestCluster::ProcessReady(NodeId id) {
  Member& m = members_.at(id);
  if (!m.node->HasReady()) return;
  Ready rd = m.node->GetReady();
  if (!rd.snapshot.empty()) {
    CAIRN_CHECK(m.storage->ApplySnapshot(rd.snapshot).ok());
    m.applied = SplitLines(rd.snapshot.data);
    m.applied_index = rd.snapshot.metadata.index;
    m.conf_state = rd.snapshot.metadata.conf_state;
  }
  CAIRN_CHECK(m.storage->Append(rd.entries).ok());
  if (!rd.hard_state.empty()) m.storage->SetHardState(rd.hard_state);
  for (Message& msg : rd.messages) queue_.push_back(std::move(msg));
  m.read_states.insert(m.read_states.end(), rd.read_states.begin(), rd.read_states.end());
  for (const Entry& e : rd.committed_entries) {
    if (e.type == EntryType::kConfChange) {
      auto cc = DecodeConfChange(e.data);
      CAIRN_CHECK(cc.ok());
      m.conf_state = m.node->ApplyConfChange(*cc);
    } else if (!e.data.empty() && record_applied_) {
      m.applied.push_back(e.data);
    }
    m.applied_index = e.index;
  }
  m.node->Advance(rd);
}

void TestCluster::ProcessReadys() {
  for (auto& [id, m] : members_) ProcessReady(id);
}

bool TestCluster::Dropped(const Message& m) const {
  if (members_.count(m.to) == 0) return true;
  if (cut_.count({m.from, m.to}) != 0) return true;
  return filter_ && filter_(m);
}

void TestCluster::DeliverQueued() {
  std::deque<Message> batch;
  batch.swap(queue_);
  for (Message& msg : batch) {
    if (Dropped(msg)) continue;
    if (record_trace_) trace_.push_back(msg);
    (void)members_.at(msg.to).node->Step(msg);
  }
}

size_t TestCluster::Stabilize() {
  size_t delivered = 0;
  for (;;) {
    ProcessReadys();
    if (queue_.empty()) return delivered;
    delivered += queue_.size();
    DeliverQueued();
  }
}

void TestCluster::Tick(NodeId id, int n) {
  for (int i = 0; i < n; ++i) node(id).Tick();
}

void TestCluster::TickAll(int n) {
  for (int i = 0; i < n; ++i) {
    for (auto& [id, m] : members_) m.node->Tick();
  }
}

void TestCluster::Run(int n) {
  for (int i = 0; i < n; ++i) {
    TickAll();
    Stabilize();
  }
}

bool TestCluster::Elect(NodeId id) {
  (void)node(id).Campaign();
  Stabilize();
  return node(id).GetStatus().role == Role::kLeader;
}

NodeId TestCluster::Leader() {
  for (auto& [id, m] : members_) {
    if (m.node->GetStatus().role == Role::kLeader) return id;
  }
  return kNoNode;
}

void TestCluster::Isolate(NodeId id) {
  for (auto& [other, m] : members_) {
    if (other == id) continue;
    cut_.insert({id, other});
    cut_.insert({other, id});
  }
}

void TestCluster::Cut(NodeId a, NodeId b) {
  cut_.insert({a, b});
  cut_.insert({b, a});
}

void TestCluster::Heal() {
  cut_.clear();
  filter_ = nullptr;
}

}  // namespace cairn::raft
