#include "server/raft/raft.h"

#include <algorithm>
#include <limits>
#include <string>

#include "server/raft/errors.h"
#include "server/raft/to_string.h"

namespace cairn::raft {

namespace {

size_t NumOfPendingConf(const std::vector<Entry>& ents) {
  return static_cast<size_t>(std::count_if(ents.begin(), ents.end(), [](const Entry& e) {
    return e.type == EntryType::kConfChange;
  }));
}

}  // namespace

Raft::Raft(const Config& c)
    : id_(c.id),
      log_(c.storage, c.max_committed_size_per_ready),
      max_msg_size_(c.max_size_per_msg),
      tracker_(static_cast<size_t>(c.max_inflight_msgs)),
      check_quorum_(c.check_quorum),
      pre_vote_(c.pre_vote),
      leader_persists_in_parallel_(c.leader_persists_in_parallel),
      heartbeat_timeout_(c.heartbeat_tick),
      election_timeout_(c.election_tick),
      // Mixing in the id keeps members of one cluster that share a seed from timing out
      // in lockstep.
      rng_(c.seed * 0x9e3779b97f4a7c15ull ^ c.id) {}

Result<std::unique_ptr<Raft>> Raft::Create(const Config& c) {
  auto init = c.storage->GetInitialState();
  if (!init.ok()) return init.status();
  std::unique_ptr<Raft> r(new Raft(c));
  r->LoadConfState(init->conf_state);
  if (!init->hard_state.empty()) {
    const HardState& hs = init->hard_state;
    if (hs.commit < r->log_.committed() || hs.commit > r->log_.LastIndex()) {
      return Status::FailedPrecondition("hard state commit " + std::to_string(hs.commit) +
                                        " is out of range [" + std::to_string(r->log_.committed()) +
                                        ", " + std::to_string(r->log_.LastIndex()) + "]");
    }
    r->LoadState(hs);
  }
  if (c.applied > 0) {
    if (c.applied > r->log_.committed() || c.applied < r->log_.applied()) {
      return Status::FailedPrecondition("applied " + std::to_string(c.applied) +
                                        " is out of range [" + std::to_string(r->log_.applied()) +
                                        ", " + std::to_string(r->log_.committed()) + "]");
    }
    r->log_.AppliedTo(c.applied);
  }
  r->BecomeFollower(r->term_, kNoNode);
  return r;
}

void Raft::LoadConfState(const ConfState& cs) {
  tracker_.Clear();
  const Index next = log_.LastIndex() + 1;
  for (NodeId id : cs.voters) tracker_.AddVoter(id, next);
  for (NodeId id : cs.learners) tracker_.AddLearner(id, next);
}

void Raft::LoadState(const HardState& hs) {
  log_.CommitTo(hs.commit);
  term_ = hs.term;
  vote_ = hs.vote;
}

NodeStatus Raft::GetStatus() const {
  NodeStatus s;
  s.id = id_;
  s.term = term_;
  s.vote = vote_;
  s.commit = log_.committed();
  s.applied = log_.applied();
  s.lead = lead_;
  s.role = role_;
  s.lead_transferee = lead_transferee_;
  s.conf_state = tracker_.GetConfState();
  if (role_ == Role::kLeader) {
    for (const auto& [id, pr] : tracker_.progress()) {
      s.progress[id] = PeerProgress{pr.match, pr.next, pr.state, pr.is_learner, pr.recent_active};
    }
  }
  return s;
}

void Raft::Send(Message m) {
  m.from = id_;
  const bool is_vote = m.type == MessageType::MsgVote || m.type == MessageType::MsgPreVote ||
                       m.type == MessageType::MsgVoteResp ||
                       m.type == MessageType::MsgPreVoteResp;
  if (is_vote) {
    // Votes carry the term being campaigned for (pre-votes: a future term), set by caller.
    if (m.term == 0) Panic("term should be set when sending " + ToString(m));
  } else {
    if (m.term != 0) Panic("term should not be set when sending " + ToString(m));
    // Forwarded proposals and read requests stay term-less: the leader treats them as local.
    if (m.type != MessageType::MsgProp && m.type != MessageType::MsgReadIndex) m.term = term_;
  }
  msgs_.push_back(std::move(m));
}

bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  Progress* pr = tracker_.Get(to);
  if (pr == nullptr || pr->IsPaused()) return false;
  Message m;
  m.to = to;
  auto term = log_.TermOf(pr->next - 1);
  auto ents = log_.EntriesFrom(pr->next, max_msg_size_);
  if (ents.ok() && ents->empty() && !send_if_empty) return false;
  if (!term.ok() || !ents.ok()) {
    // The entries the follower needs were compacted: send a snapshot instead.
    if (!pr->recent_active) return false;
    auto snap = log_.GetSnapshot();
    if (!snap.ok()) {
      if (snap.status() == kErrSnapshotTemporarilyUnavailable) return false;
      Panic("unexpected error getting snapshot: " + snap.status().ToString());
    }
    if (snap->empty()) Panic("need non-empty snapshot");
    m.type = MessageType::MsgSnap;
    pr->BecomeSnapshot(snap->metadata.index);
    m.snapshot = std::move(snap).value();
  } else {
    m.type = MessageType::MsgApp;
    m.index = pr->next - 1;
    m.log_term = *term;
    m.entries = std::move(ents).value();
    m.commit = log_.committed();
    if (!m.entries.empty()) {
      const Index last = m.entries.back().index;
      if (pr->state == ProgressState::kReplicate) {
        pr->OptimisticUpdate(last);
        pr->inflights.Add(last);
      } else if (pr->state == ProgressState::kProbe) {
        pr->probe_sent = true;
      } else {
        Panic("sending append in unhandled progress state");
      }
    }
  }
  Send(std::move(m));
  return true;
}

void Raft::SendHeartbeat(NodeId to, const std::string& ctx) {
  // A follower may not have the leader's whole log: never tell it to commit past its match.
  const Progress* pr = tracker_.Get(to);
  Message m;
  m.to = to;
  m.type = MessageType::MsgHeartbeat;
  m.commit = std::min(pr->match, log_.committed());
  m.context = ctx;
  Send(std::move(m));
}

void Raft::BcastAppend() {
  for (const auto& [id, pr] : tracker_.progress()) {
    if (id != id_) SendAppend(id);
  }
}

void Raft::BcastHeartbeat() { BcastHeartbeatWithCtx(read_only_.LastPendingRequestCtx()); }

void Raft::BcastHeartbeatWithCtx(const std::string& ctx) {
  for (const auto& [id, pr] : tracker_.progress()) {
    if (id != id_) SendHeartbeat(id, ctx);
  }
}

void Raft::SendTimeoutNow(NodeId to) {
  Message m;
  m.to = to;
  m.type = MessageType::MsgTimeoutNow;
  Send(std::move(m));
}

void Raft::Reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  tracker_.ResetVotes();
  const Index last = log_.LastIndex();
  tracker_.ResetProgress(last + 1);
  if (Progress* self = tracker_.Get(id_)) self->match = leader_persists_in_parallel_ ? LastPersistedIndex() : last;
  pending_conf_index_ = 0;
  read_only_ = ReadOnly();
  pending_read_index_messages_.clear();
}

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ =
      election_timeout_ + static_cast<int>(rng_.Uniform(static_cast<uint64_t>(election_timeout_)));
}

void Raft::BecomeFollower(Term term, NodeId lead) {
  Reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void Raft::BecomeCandidate() {
  CAIRN_CHECK(role_ != Role::kLeader);
  Reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::BecomePreCandidate() {
  CAIRN_CHECK(role_ != Role::kLeader);
  // A pre-candidate changes neither term nor vote: a lost pre-election leaves no trace.
  tracker_.ResetVotes();
  lead_ = kNoNode;
  role_ = Role::kPreCandidate;
}

void Raft::BecomeLeader() {
  CAIRN_CHECK(role_ != Role::kFollower);
  Reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  if (Progress* self = tracker_.Get(id_)) self->BecomeReplicate();
  // Conf changes in the uncommitted tail may be pending: be conservative and wait for the
  // whole current log to be applied before accepting another one.
  pending_conf_index_ = log_.LastIndex();
  // An empty entry of the new term lets the leader commit its predecessors' entries (§5.4.2).
  AppendEntry({Entry{}});
}

void Raft::AppendEntry(std::vector<Entry> es) {
  Index li = log_.LastIndex();
  for (size_t i = 0; i < es.size(); ++i) {
    es[i].term = term_;
    es[i].index = li + 1 + i;
  }
  li = log_.Append(es);
  // Unless the application may send before persisting, the leader counts its own entry
  // towards the quorum right away: it is persisted before any ack for it can arrive.
  // Otherwise it counts once persisted (OnEntriesPersisted).
  if (!leader_persists_in_parallel_) {
    if (Progress* self = tracker_.Get(id_)) self->MaybeUpdate(li);
  }
  MaybeCommit();
}

void Raft::OnEntriesPersisted(Index index, Term term) {
  if (!leader_persists_in_parallel_ || role_ != Role::kLeader || !log_.MatchTerm(index, term)) return;
  Progress* self = tracker_.Get(id_);
  if (self != nullptr && self->MaybeUpdate(index) && MaybeCommit()) BcastAppend();
}

Index Raft::LastPersistedIndex() const {
  const Unstable& u = log_.unstable();
  if (u.snapshot()) return 0;
  return u.entries().empty() ? log_.LastIndex() : u.offset() - 1;
}

bool Raft::MaybeCommit() {
  if (tracker_.voters().empty()) return false;
  return log_.MaybeCommit(tracker_.Committed(), term_);
}

bool Raft::CommittedEntryInCurrentTerm() const {
  return log_.ZeroTermOnError(log_.committed()) == term_;
}

void Raft::Tick() {
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    Message m;
    m.type = MessageType::MsgHup;
    m.from = id_;
    (void)Step(std::move(m));
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      Message m;
      m.type = MessageType::MsgCheckQuorum;
      m.from = id_;
      (void)Step(std::move(m));
    }
    // A transfer that did not complete within an election timeout is abandoned so the
    // leader accepts proposals again.
    if (role_ == Role::kLeader && lead_transferee_ != kNoNode) AbortLeaderTransfer();
  }
  if (role_ != Role::kLeader) return;
  if (heartbeat_elapsed_ >= heartbeat_timeout_) {
    heartbeat_elapsed_ = 0;
    Message m;
    m.type = MessageType::MsgBeat;
    m.from = id_;
    (void)Step(std::move(m));
  }
}

void Raft::Hup(CampaignType t) {
  if (role_ == Role::kLeader) return;
  if (!Promotable()) return;
  // A node must not campaign while a committed conf change is unapplied: it might not be a
  // voter (or the quorum might differ) once it is applied.
  if (log_.committed() > log_.applied()) {
    auto ents = log_.Slice(std::max(log_.applied() + 1, log_.FirstIndex()), log_.committed() + 1,
                           std::numeric_limits<uint64_t>::max());
    if (!ents.ok()) Panic("unexpected error getting unapplied entries: " + ents.status().ToString());
    if (NumOfPendingConf(*ents) != 0) return;
  }
  Campaign(t);
}

void Raft::Campaign(CampaignType t) {
  if (!Promotable()) return;
  MessageType vote_msg;
  Term term;
  if (t == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_msg = MessageType::MsgPreVote;
    term = term_ + 1;  // Pre-votes ask about the term we would campaign in.
  } else {
    BecomeCandidate();
    vote_msg = MessageType::MsgVote;
    term = term_;
  }
  if (Poll(id_, true) == VoteResult::kWon) {
    // Single-voter cluster: we won on our own vote.
    if (t == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId id : tracker_.voters()) {
    if (id == id_) continue;
    Message m;
    m.type = vote_msg;
    m.to = id;
    m.term = term;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    if (t == CampaignType::kTransfer) m.context = kCampaignTransfer;
    Send(std::move(m));
  }
}

VoteResult Raft::Poll(NodeId id, bool granted) {
  tracker_.RecordVote(id, granted);
  return tracker_.TallyVotes();
}

Status Raft::Step(Message m) {
  if (m.term == 0) {
    // Local message.
  } else if (m.term > term_) {
    if (m.type == MessageType::MsgVote || m.type == MessageType::MsgPreVote) {
      const bool force = m.context == kCampaignTransfer;
      const bool in_lease = check_quorum_ && lead_ != kNoNode && election_elapsed_ < election_timeout_;
      // Leader lease: while we hear from a live leader, a disruptive candidate (e.g. one
      // rejoining after a partition) cannot make us bump our term.
      if (!force && in_lease) return Status::Ok();
    }
    if (m.type == MessageType::MsgPreVote) {
      // Never change term in response to a pre-vote.
    } else if (m.type == MessageType::MsgPreVoteResp && !m.reject) {
      // The term in a granted pre-vote response is the future term we asked about; it
      // becomes ours only if we win the pre-election.
    } else if (m.type == MessageType::MsgApp || m.type == MessageType::MsgHeartbeat ||
               m.type == MessageType::MsgSnap) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((check_quorum_ || pre_vote_) &&
        (m.type == MessageType::MsgHeartbeat || m.type == MessageType::MsgApp)) {
      // A stale leader (e.g. healed from a partition) learns our term and steps down; without
      // this, with check-quorum or pre-vote the stale leader could never be deposed.
      Message r;
      r.to = m.from;
      r.type = MessageType::MsgAppResp;
      Send(std::move(r));
    } else if (m.type == MessageType::MsgPreVote) {
      Message r;
      r.to = m.from;
      r.term = term_;
      r.type = MessageType::MsgPreVoteResp;
      r.reject = true;
      Send(std::move(r));
    }
    return Status::Ok();
  }

  switch (m.type) {
    case MessageType::MsgHup:
      Hup(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection);
      return Status::Ok();
    case MessageType::MsgVote:
    case MessageType::MsgPreVote: {
      const bool can_vote =
          vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
          (m.type == MessageType::MsgPreVote && m.term > term_);
      Message r;
      r.to = m.from;
      r.type = VoteRespMsgType(m.type);
      if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
        r.term = m.term;
        Send(std::move(r));
        if (m.type == MessageType::MsgVote) {
          election_elapsed_ = 0;
          vote_ = m.from;
        }
      } else {
        r.term = term_;
        r.reject = true;
        Send(std::move(r));
      }
      return Status::Ok();
    }
    default:
      break;
  }
  switch (role_) {
    case Role::kLeader:
      return StepLeader(m);
    case Role::kCandidate:
    case Role::kPreCandidate:
      return StepCandidate(m);
    case Role::kFollower:
      return StepFollower(m);
  }
  return Status::Ok();
}

void Raft::SendReadIndexResponse(const Message& req, Index index) {
  if (req.from == kNoNode || req.from == id_) {
    read_states_.push_back(ReadState{index, req.context});
    return;
  }
  Message r;
  r.type = MessageType::MsgReadIndexResp;
  r.to = req.from;
  r.index = index;
  r.context = req.context;
  Send(std::move(r));
}

void Raft::ReleasePendingReadIndexMessages() {
  if (!CommittedEntryInCurrentTerm()) return;
  std::vector<Message> pending = std::move(pending_read_index_messages_);
  pending_read_index_messages_.clear();
  for (Message& m : pending) (void)StepLeader(m);
}

Status Raft::StepLeader(Message& m) {
  switch (m.type) {
    case MessageType::MsgBeat:
      BcastHeartbeat();
      return Status::Ok();
    case MessageType::MsgCheckQuorum:
      if (!tracker_.QuorumActive(id_)) {
        BecomeFollower(term_, kNoNode);
        return Status::Ok();
      }
      for (auto& [id, pr] : tracker_.progress()) {
        if (id != id_) pr.recent_active = false;
      }
      return Status::Ok();
    case MessageType::MsgProp: {
      if (m.entries.empty()) Panic("stepped empty MsgProp");
      if (tracker_.Get(id_) == nullptr) return kErrProposalDropped;  // Removed from the cluster.
      if (lead_transferee_ != kNoNode) return kErrProposalDropped;
      for (size_t i = 0; i < m.entries.size(); ++i) {
        Entry& e = m.entries[i];
        if (e.type != EntryType::kConfChange) continue;
        if (pending_conf_index_ > log_.applied()) {
          // One membership change at a time: the second becomes a no-op so the proposer
          // still sees its entry committed (and can tell it had no effect).
          e = Entry{};
        } else {
          pending_conf_index_ = log_.LastIndex() + i + 1;
        }
      }
      AppendEntry(std::move(m.entries));
      BcastAppend();
      return Status::Ok();
    }
    case MessageType::MsgReadIndex:
      if (tracker_.voters().size() <= 1) {
        if (tracker_.IsVoter(id_)) SendReadIndexResponse(m, log_.committed());
        return Status::Ok();
      }
      // The commit index of a fresh leader may lag the real one until it commits an entry of
      // its own term; reads must wait for that.
      if (!CommittedEntryInCurrentTerm()) {
        pending_read_index_messages_.push_back(m);
        return Status::Ok();
      }
      read_only_.AddRequest(log_.committed(), m);
      read_only_.RecvAck(id_, m.context);
      BcastHeartbeatWithCtx(m.context);
      return Status::Ok();
    default:
      break;
  }

  Progress* pr = tracker_.Get(m.from);
  if (pr == nullptr) return Status::Ok();
  switch (m.type) {
    case MessageType::MsgAppResp:
      pr->recent_active = true;
      if (m.reject) {
        Index next_probe = m.reject_hint;
        if (m.log_term > 0) next_probe = log_.FindConflictByTerm(m.reject_hint, m.log_term);
        if (pr->MaybeDecrTo(m.index, next_probe)) {
          if (pr->state == ProgressState::kReplicate) pr->BecomeProbe();
          SendAppend(m.from);
        }
      } else {
        const bool old_paused = pr->IsPaused();
        if (pr->MaybeUpdate(m.index)) {
          if (pr->state == ProgressState::kProbe) {
            pr->BecomeReplicate();
          } else if (pr->state == ProgressState::kSnapshot && pr->match >= pr->pending_snapshot) {
            pr->BecomeProbe();
            pr->BecomeReplicate();
          } else if (pr->state == ProgressState::kReplicate) {
            pr->inflights.FreeLE(m.index);
          }
          if (MaybeCommit()) {
            ReleasePendingReadIndexMessages();
            BcastAppend();
          } else if (old_paused) {
            SendAppend(m.from);
          }
          // Drain everything the window allows.
          while (MaybeSendAppend(m.from, false)) {
          }
          if (m.from == lead_transferee_ && pr->match == log_.LastIndex()) SendTimeoutNow(m.from);
        }
      }
      return Status::Ok();
    case MessageType::MsgHeartbeatResp: {
      pr->recent_active = true;
      pr->probe_sent = false;
      if (pr->state == ProgressState::kReplicate && pr->inflights.Full()) pr->inflights.FreeFirstOne();
      if (pr->match < log_.LastIndex()) SendAppend(m.from);
      if (m.context.empty()) return Status::Ok();
      const std::set<NodeId>* acks = read_only_.RecvAck(m.from, m.context);
      if (acks == nullptr) return Status::Ok();
      std::map<NodeId, bool> votes;
      for (NodeId id : *acks) votes[id] = true;
      if (cairn::raft::TallyVotes(tracker_.voters(), votes) != VoteResult::kWon) return Status::Ok();
      for (const ReadIndexStatus& rs : read_only_.Advance(m.context)) SendReadIndexResponse(rs.req, rs.index);
      return Status::Ok();
    }
    case MessageType::MsgSnapStatus:
      if (pr->state != ProgressState::kSnapshot) return Status::Ok();
      if (m.reject) pr->pending_snapshot = 0;
      pr->BecomeProbe();
      // Wait for the next heartbeat response before probing: the snapshot may still be in
      // the follower's pipeline.
      pr->probe_sent = true;
      return Status::Ok();
    case MessageType::MsgUnreachable:
      if (pr->state == ProgressState::kReplicate) pr->BecomeProbe();
      return Status::Ok();
    case MessageType::MsgTransferLeader: {
      if (pr->is_learner) return Status::Ok();
      const NodeId transferee = m.from;
      if (lead_transferee_ != kNoNode) {
        if (lead_transferee_ == transferee) return Status::Ok();
        AbortLeaderTransfer();
      }
      if (transferee == id_) return Status::Ok();
      election_elapsed_ = 0;  // The transfer must finish within one election timeout.
      lead_transferee_ = transferee;
      if (pr->match == log_.LastIndex()) {
        SendTimeoutNow(transferee);
      } else {
        SendAppend(transferee);
      }
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

Status Raft::StepCandidate(Message& m) {
  const MessageType my_resp =
      role_ == Role::kPreCandidate ? MessageType::MsgPreVoteResp : MessageType::MsgVoteResp;
  switch (m.type) {
    case MessageType::MsgProp:
      return kErrProposalDropped;
    case MessageType::MsgApp:
      BecomeFollower(m.term, m.from);
      HandleAppendEntries(m);
      return Status::Ok();
    case MessageType::MsgHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      return Status::Ok();
    case MessageType::MsgSnap:
      BecomeFollower(m.term, m.from);
      HandleSnapshot(m);
      return Status::Ok();
    default:
      break;
  }
  if (m.type == my_resp) {
    switch (Poll(m.from, !m.reject)) {
      case VoteResult::kWon:
        if (role_ == Role::kPreCandidate) {
          Campaign(CampaignType::kElection);
        } else {
          BecomeLeader();
          BcastAppend();
        }
        break;
      case VoteResult::kLost:
        // A rejected pre-vote carries the responder's term, which may be ours (Step only
        // bumps the term on responses from the future).
        BecomeFollower(term_, kNoNode);
        break;
      case VoteResult::kPending:
        break;
    }
  }
  return Status::Ok();
}

Status Raft::StepFollower(Message& m) {
  switch (m.type) {
    case MessageType::MsgProp:
      if (lead_ == kNoNode) return kErrProposalDropped;
      m.to = lead_;
      m.term = 0;
      Send(std::move(m));
      return Status::Ok();
    case MessageType::MsgApp:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleAppendEntries(m);
      return Status::Ok();
    case MessageType::MsgHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleHeartbeat(m);
      return Status::Ok();
    case MessageType::MsgSnap:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleSnapshot(m);
      return Status::Ok();
    case MessageType::MsgTransferLeader:
      if (lead_ == kNoNode) return Status::Ok();
      m.to = lead_;
      m.term = 0;
      msgs_.push_back(std::move(m));  // Keeps from == the transferee.
      return Status::Ok();
    case MessageType::MsgTimeoutNow:
      // The leader asked us to take over: skip pre-vote and the lease (the context forces
      // the others to vote).
      Hup(CampaignType::kTransfer);
      return Status::Ok();
    case MessageType::MsgReadIndex:
      if (lead_ == kNoNode) return Status::Ok();
      m.to = lead_;
      m.term = 0;
      Send(std::move(m));
      return Status::Ok();
    case MessageType::MsgReadIndexResp:
      read_states_.push_back(ReadState{m.index, m.context});
      return Status::Ok();
    default:
      return Status::Ok();
  }
}

void Raft::HandleAppendEntries(const Message& m) {
  Message r;
  r.to = m.from;
  r.type = MessageType::MsgAppResp;
  if (m.index < log_.committed()) {
    r.index = log_.committed();
    Send(std::move(r));
    return;
  }
  if (auto last = log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries)) {
    r.index = *last;
    Send(std::move(r));
    return;
  }
  // Fast back-off: point the leader at the last index whose term could match, skipping
  // entries of terms newer than the leader's probe.
  Index hint = std::min(m.index, log_.LastIndex());
  hint = log_.FindConflictByTerm(hint, m.log_term);
  r.index = m.index;
  r.reject = true;
  r.reject_hint = hint;
  r.log_term = log_.ZeroTermOnError(hint);
  Send(std::move(r));
}

void Raft::HandleHeartbeat(const Message& m) {
  log_.CommitTo(m.commit);
  Message r;
  r.to = m.from;
  r.type = MessageType::MsgHeartbeatResp;
  r.context = m.context;
  Send(std::move(r));
}

void Raft::HandleSnapshot(const Message& m) {
  Message r;
  r.to = m.from;
  r.type = MessageType::MsgAppResp;
  r.index = Restore(m.snapshot) ? log_.LastIndex() : log_.committed();
  Send(std::move(r));
}

bool Raft::Restore(const Snapshot& s) {
  if (s.metadata.index <= log_.committed()) return false;
  CAIRN_CHECK(role_ == Role::kFollower);
  if (log_.MatchTerm(s.metadata.index, s.metadata.term)) {
    // We already have the snapshot's last entry: just fast-forward the commit index.
    log_.CommitTo(s.metadata.index);
    return false;
  }
  log_.Restore(s);
  LoadConfState(s.metadata.conf_state);
  return true;
}

ConfState Raft::ApplyConfChange(const ConfChange& cc) {
  const Index next = log_.LastIndex() + 1;
  switch (cc.type) {
    case ConfChangeType::kAddNode:
      tracker_.AddVoter(cc.node_id, next);
      break;
    case ConfChangeType::kAddLearnerNode:
      if (!tracker_.IsVoter(cc.node_id)) tracker_.AddLearner(cc.node_id, next);
      break;
    case ConfChangeType::kRemoveNode:
      tracker_.Remove(cc.node_id);
      break;
  }
  if (role_ == Role::kLeader) {
    if (tracker_.Get(id_) == nullptr || !tracker_.IsVoter(id_)) {
      // A leader that is no longer a voter must not keep leading: it cannot count itself
      // and would block the remaining members from electing a real leader.
      BecomeFollower(term_, kNoNode);
    } else {
      if (MaybeCommit()) {
        BcastAppend();
      } else {
        for (const auto& [id, pr] : tracker_.progress()) {
          if (id != id_) MaybeSendAppend(id, false);
        }
      }
      if (lead_transferee_ != kNoNode && !tracker_.IsVoter(lead_transferee_)) AbortLeaderTransfer();
    }
  }
  return tracker_.GetConfState();
}

}  // namespace cairn::raft
