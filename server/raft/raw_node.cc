#include "server/raft/raw_node.h"

#include "server/raft/codec.h"
#include "server/raft/errors.h"
#include "server/raft/raft.h"

namespace cairn::raft {

namespace {

Status ValidateConfig(const Config& c) {
  if (c.id == kNoNode) return Status::InvalidArgument("raft: cannot use none as id");
  if (c.heartbeat_tick <= 0) return Status::InvalidArgument("raft: heartbeat tick must be greater than 0");
  if (c.election_tick <= c.heartbeat_tick) {
    return Status::InvalidArgument("raft: election tick must be greater than heartbeat tick");
  }
  if (c.storage == nullptr) return Status::InvalidArgument("raft: storage cannot be nil");
  if (c.max_inflight_msgs <= 0) return Status::InvalidArgument("raft: max inflight messages must be greater than 0");
  if (c.max_committed_size_per_ready == 0) {
    return Status::InvalidArgument("raft: max committed size per ready must be greater than 0");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  CAIRN_RETURN_IF_ERROR(ValidateConfig(config));
  auto r = Raft::Create(config);
  if (!r.ok()) return r.status();
  return std::unique_ptr<RawNode>(new RawNode(std::move(r).value()));
}

RawNode::RawNode(std::unique_ptr<Raft> raft)
    : raft_(std::move(raft)),
      prev_soft_state_(raft_->GetSoftState()),
      prev_hard_state_(raft_->GetHardState()) {}

RawNode::~RawNode() = default;

void RawNode::Tick() { raft_->Tick(); }

Status RawNode::Campaign() {
  Message m;
  m.type = MessageType::MsgHup;
  return raft_->Step(std::move(m));
}

Status RawNode::Propose(std::string data) {
  Message m;
  m.type = MessageType::MsgProp;
  m.from = raft_->id();
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(data)});
  return raft_->Step(std::move(m));
}

Status RawNode::ProposeConfChange(const ConfChange& cc) {
  Message m;
  m.type = MessageType::MsgProp;
  m.from = raft_->id();
  m.entries.push_back(Entry{0, 0, EntryType::kConfChange, EncodeConfChange(cc)});
  return raft_->Step(std::move(m));
}

Status RawNode::Step(const Message& m) {
  if (IsLocalMsg(m.type)) return kErrStepLocalMsg;
  if (IsResponseMsg(m.type) && raft_->tracker().Get(m.from) == nullptr) return kErrStepPeerNotFound;
  return raft_->Step(m);
}

void RawNode::ReadIndex(std::string request_ctx) {
  Message m;
  m.type = MessageType::MsgReadIndex;
  m.context = std::move(request_ctx);
  (void)raft_->Step(std::move(m));
}

void RawNode::TransferLeader(NodeId transferee) {
  Message m;
  m.type = MessageType::MsgTransferLeader;
  m.from = transferee;
  (void)raft_->Step(std::move(m));
}

ConfState RawNode::ApplyConfChange(const ConfChange& cc) { return raft_->ApplyConfChange(cc); }

bool RawNode::HasReady() const {
  if (raft_->GetSoftState() != prev_soft_state_) return true;
  const HardState hs = raft_->GetHardState();
  if (!hs.empty() && hs != prev_hard_state_) return true;
  const RaftLog& log = raft_->log();
  if (log.unstable().snapshot()) return true;
  if (!raft_->msgs().empty() || !log.unstable().entries().empty() || log.HasNextEnts()) return true;
  return !raft_->read_states().empty();
}

Ready RawNode::GetReady() {
  Ready rd;
  RaftLog& log = raft_->log();
  rd.entries = log.UnstableEntries();
  rd.committed_entries = log.NextEnts();
  rd.messages = std::move(raft_->msgs());
  raft_->msgs().clear();
  const SoftState ss = raft_->GetSoftState();
  if (ss != prev_soft_state_) {
    rd.soft_state = ss;
    prev_soft_state_ = ss;
  }
  const HardState hs = raft_->GetHardState();
  if (hs != prev_hard_state_) rd.hard_state = hs;
  if (log.unstable().snapshot()) rd.snapshot = *log.unstable().snapshot();
  rd.read_states = std::move(raft_->read_states());
  raft_->read_states().clear();
  rd.must_sync = !rd.entries.empty() || hs.term != prev_hard_state_.term || hs.vote != prev_hard_state_.vote;
  return rd;
}

void RawNode::Advance(const Ready& rd) {
  if (!rd.hard_state.empty()) prev_hard_state_ = rd.hard_state;
  RaftLog& log = raft_->log();
  if (!rd.committed_entries.empty()) {
    log.AppliedTo(rd.committed_entries.back().index);
  } else if (!rd.snapshot.empty() && rd.snapshot.metadata.index > log.applied()) {
    log.AppliedTo(rd.snapshot.metadata.index);
  }
  if (!rd.entries.empty()) {
    log.StableTo(rd.entries.back().index, rd.entries.back().term);
    raft_->OnEntriesPersisted(rd.entries.back().index, rd.entries.back().term);
  }
  if (!rd.snapshot.empty()) log.StableSnapTo(rd.snapshot.metadata.index);
}

void RawNode::ReportUnreachable(NodeId id) {
  Message m;
  m.type = MessageType::MsgUnreachable;
  m.from = id;
  (void)raft_->Step(std::move(m));
}

void RawNode::ReportSnapshot(NodeId id, bool ok) {
  Message m;
  m.type = MessageType::MsgSnapStatus;
  m.from = id;
  m.reject = !ok;
  (void)raft_->Step(std::move(m));
}

NodeStatus RawNode::GetStatus() const { return raft_->GetStatus(); }

SoftState RawNode::GetSoftState() const { return raft_->GetSoftState(); }

HardState RawNode::GetHardState() const { return raft_->GetHardState(); }

}  // namespace cairn::raft
