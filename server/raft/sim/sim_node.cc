#include "server/raft/sim/sim_node.h"

#include <algorithm>

#include "server/raft/codec.h"

namespace cairn::raft::sim {

SimNode::SimNode(NodeId id, uint64_t seed, Hooks hooks) : id_(id), seed_(seed), hooks_(std::move(hooks)) {}

void SimNode::Bootstrap(const ConfState& cs) { CAIRN_CHECK(disk_.Bootstrap(cs).ok()); }

void SimNode::Start() {
  CAIRN_CHECK(!running());
  auto snap = disk_.GetSnapshot();
  CAIRN_CHECK(snap.ok());
  DecodeState(snap->data);
  applied_index_ = snap->metadata.index;
  conf_state_ = snap->metadata.conf_state;
  Config c;
  c.id = id_;
  c.storage = &disk_;
  c.applied = applied_index_;
  c.max_size_per_msg = 4096;
  c.max_inflight_msgs = 8;
  // A new seed per incarnation: a restarted node does not replay its old timeouts.
  c.seed = seed_ * 1000003 + incarnation_++;
  // Half the seeds let leaders send before persisting, as the server does.
  c.leader_persists_in_parallel = seed_ % 2 == 0;
  leader_persists_in_parallel_ = c.leader_persists_in_parallel;
  auto n = RawNode::Create(c);
  CAIRN_CHECK(n.ok());
  node_ = std::move(n).value();
}

void SimNode::Crash() {
  node_.reset();
  pending_.reset();
  state_.clear();
  applied_index_ = 0;
}

bool SimNode::TakeReady() {
  if (!node_->HasReady()) return false;
  pending_ = node_->GetReady();
  if (leader_persists_in_parallel_) {
    // Replication messages leave now; a crash before CompletePersist loses the entries
    // on this node although followers may already hold them.
    auto& msgs = pending_->messages;
    auto early = std::stable_partition(msgs.begin(), msgs.end(), [](const Message& m) { return CanSendBeforePersist(m.type); });
    for (auto it = msgs.begin(); it != early; ++it) hooks_.send(std::move(*it));
    msgs.erase(msgs.begin(), early);
  }
  return true;
}

void SimNode::CompletePersist() {
  Ready& rd = *pending_;
  if (!rd.snapshot.empty()) {
    CAIRN_CHECK(disk_.ApplySnapshot(rd.snapshot).ok());
  }
  CAIRN_CHECK(disk_.Append(rd.entries).ok());
  if (!rd.hard_state.empty()) disk_.SetHardState(rd.hard_state);
  for (Message& m : rd.messages) hooks_.send(std::move(m));
  if (!rd.snapshot.empty()) {
    DecodeState(rd.snapshot.data);
    applied_index_ = rd.snapshot.metadata.index;
    conf_state_ = rd.snapshot.metadata.conf_state;
  }
  for (const Entry& e : rd.committed_entries) {
    CAIRN_CHECK(e.index == applied_index_ + 1);
    hooks_.on_apply(id_, e);
    if (e.type == EntryType::kConfChange) {
      auto cc = DecodeConfChange(e.data);
      CAIRN_CHECK(cc.ok());
      conf_state_ = node_->ApplyConfChange(*cc);
      hooks_.on_conf_change(id_, *cc);
    } else if (!e.data.empty()) {
      state_.push_back(Applied{e.index, e.term, e.data});
    }
    applied_index_ = e.index;
  }
  for (const ReadState& rs : rd.read_states) hooks_.on_read_state(id_, rs);
  node_->Advance(rd);
  pending_.reset();
}

void SimNode::SnapshotAndCompact(Index keep) {
  if (applied_index_ <= disk_.GetSnapshot()->metadata.index) return;
  CAIRN_CHECK(disk_.CreateSnapshot(applied_index_, &conf_state_, EncodeState()).ok());
  if (applied_index_ > keep && applied_index_ - keep >= disk_.FirstIndex()) {
    CAIRN_CHECK(disk_.Compact(applied_index_ - keep).ok());
  }
}

std::string SimNode::EncodeState() const {
  std::string out;
  for (const Applied& a : state_) {
    out += std::to_string(a.index) + " " + std::to_string(a.term) + " " + a.data + "\n";
  }
  return out;
}

void SimNode::DecodeState(const std::string& data) {
  state_.clear();
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t nl = data.find('\n', pos);
    const std::string line = data.substr(pos, nl - pos);
    const size_t s1 = line.find(' ');
    const size_t s2 = line.find(' ', s1 + 1);
    state_.push_back(Applied{std::stoull(line.substr(0, s1)), std::stoull(line.substr(s1 + 1, s2 - s1 - 1)),
                             line.substr(s2 + 1)});
    pos = nl + 1;
  }
}

}  // namespace cairn::raft::sim
