#include "server/etcdserver/raft_node.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "server/etcdserver/errors.h"
#include "server/etcdserver/identity.h"
#include "server/raft/to_string.h"

namespace cairn::etcdserver {

Status WalPersistence::ReleaseTo(raft::Index index) {
  CAIRN_RETURN_IF_ERROR(wal_->ReleaseTo(index));
  spdlog::debug("released the wal through index {} ({} segments left)", index, wal_->SegmentCount());
  return Status::Ok();
}

bool RaftNode::Inbox::HasWork() const {
  return !proposals.empty() || !from_peers.empty() || !unreachable.empty() || !conf_change_proposals.empty() ||
         !snapshot_reports.empty() || transfer_to != 0 || !conf_changes.empty() || peer_urls_changed ||
         compact_to != 0 || ticks > 0;
}

Result<std::unique_ptr<RaftNode>> RaftNode::Create(Options options, Parts parts,
                                                   std::unique_ptr<raft::MemoryStorage> log) {
  CAIRN_CHECK(parts.persistence != nullptr && parts.sink != nullptr && parts.listener != nullptr &&
              parts.applied != nullptr && log != nullptr);
  options.config.storage = log.get();
  auto raw = raft::RawNode::Create(options.config);
  if (!raw.ok()) return raw.status();
  return std::unique_ptr<RaftNode>(new RaftNode(std::move(options), parts, std::move(log), std::move(raw.value())));
}

RaftNode::RaftNode(Options options, Parts parts, std::unique_ptr<raft::MemoryStorage> log,
                   std::unique_ptr<raft::RawNode> raw)
    : options_(std::move(options)),
      parts_(parts),
      id_(options_.config.id),
      log_(std::move(log)),
      raw_(std::move(raw)),
      conf_state_(log_->GetSnapshot().value().metadata.conf_state),
      term_(log_->hard_state().term),
      commit_index_(log_->hard_state().commit) {}

RaftNode::~RaftNode() { Stop(); }

void RaftNode::Start() {
  CAIRN_CHECK(!thread_.joinable());
  thread_ = std::thread([this] { Run(); });
}

void RaftNode::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

template <typename Add>
Status RaftNode::Enqueue(Add&& add) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return ErrStopped();
    add(inbox_);
  }
  cv_.notify_one();
  return Status::Ok();
}

Status RaftNode::Propose(uint64_t id, std::string data) {
  return Enqueue([&](Inbox& in) { in.proposals.emplace_back(id, std::move(data)); });
}

Status RaftNode::ProposeConfChange(raft::ConfChange cc) {
  return Enqueue([&](Inbox& in) { in.conf_change_proposals.push_back(std::move(cc)); });
}

void RaftNode::Step(raft::Message message) {
  // Bounds what a flood from peers can queue while the loop is busy.
  constexpr size_t kMaxQueuedPeerMessages = 16384;
  (void)Enqueue([&](Inbox& in) {
    if (in.from_peers.size() < kMaxQueuedPeerMessages) in.from_peers.push_back(std::move(message));
  });
}

void RaftNode::ReportUnreachable(uint64_t peer) {
  (void)Enqueue([&](Inbox& in) { in.unreachable.push_back(peer); });
}

void RaftNode::ReportSnapshot(uint64_t peer, bool ok) {
  (void)Enqueue([&](Inbox& in) { in.snapshot_reports.emplace_back(peer, ok); });
}

Status RaftNode::TransferLeadership(uint64_t target) {
  return Enqueue([&](Inbox& in) { in.transfer_to = target; });
}

void RaftNode::ApplyConfChanges(std::vector<raft::ConfChange> changes, bool peer_urls_changed) {
  (void)Enqueue([&](Inbox& in) {
    in.conf_changes.insert(in.conf_changes.end(), changes.begin(), changes.end());
    in.peer_urls_changed = in.peer_urls_changed || peer_urls_changed;
  });
}

void RaftNode::CompactLog(uint64_t index) {
  (void)Enqueue([&](Inbox& in) { in.compact_to = std::max(in.compact_to, index); });
}

void RaftNode::Tick() {
  (void)Enqueue([](Inbox& in) { ++in.ticks; });
}

void RaftNode::WakeForReads() {
  // Under mu_: the loop checks NeedsReadIndex() holding it, so the wake-up cannot fall
  // between that check and its wait.
  std::lock_guard lock(mu_);
  cv_.notify_one();
}

std::map<uint64_t, raft::PeerProgress> RaftNode::Progress() const {
  std::lock_guard lock(progress_mu_);
  return progress_;
}

void RaftNode::Run() {
  if (options_.campaign_at_start && conf_state_.voters == std::vector<uint64_t>{id_} && !IsLeader()) {
    (void)raw_->Campaign();
    while (raw_->HasReady()) HandleReady(raw_->GetReady());
  }
  const bool timed = options_.tick_interval.count() > 0;
  auto next_tick = Clock::now() + options_.tick_interval;
  while (true) {
    Inbox inbox;
    {
      std::unique_lock lock(mu_);
      const auto has_work = [&] { return stopping_ || inbox_.HasWork() || parts_.listener->NeedsReadIndex(); };
      if (timed) {
        cv_.wait_until(lock, next_tick, has_work);
      } else {
        cv_.wait(lock, has_work);
      }
      if (stopping_) return;
      std::swap(inbox, inbox_);
    }
    const auto now = Clock::now();
    if (timed && now >= next_tick) {
      ++inbox.ticks;
      next_tick = now + options_.tick_interval;
    }
    Process(std::move(inbox), now);
  }
}

void RaftNode::Process(Inbox in, Clock::time_point now) {
  for (const auto& m : in.from_peers) {
    // Errors here are expected (e.g. a response from a member that was just removed).
    (void)raw_->Step(m);
  }
  std::sort(in.unreachable.begin(), in.unreachable.end());
  in.unreachable.erase(std::unique(in.unreachable.begin(), in.unreachable.end()), in.unreachable.end());
  for (uint64_t peer : in.unreachable) raw_->ReportUnreachable(peer);
  for (auto [peer, ok] : in.snapshot_reports) {
    snapshots_in_flight_.erase(peer);
    raw_->ReportSnapshot(peer, ok);
  }
  if (in.ticks > 0) {
    for (int i = 0; i < in.ticks; ++i) raw_->Tick();
    if (IsLeader()) {
      raft::NodeStatus status = raw_->GetStatus();
      std::lock_guard lock(progress_mu_);
      progress_ = std::move(status.progress);
    }
    parts_.listener->OnTick(now);
  }
  for (const auto& cc : in.conf_changes) conf_state_ = raw_->ApplyConfChange(cc);
  if (in.peer_urls_changed || !in.conf_changes.empty()) parts_.sink->RefreshPeers();
  for (const auto& cc : in.conf_change_proposals) {
    if (!raw_->ProposeConfChange(cc).ok()) parts_.listener->OnConfChangeFailed(cc, ErrNoLeader());
  }
  if (in.transfer_to != 0) raw_->TransferLeader(in.transfer_to);
  if (!in.conf_changes.empty()) {
    // A lone voter has nobody to wait for: it becomes leader now rather than after an
    // election timeout. Only once every committed conf change is applied, though: while
    // a cluster's membership is being replayed, its first member alone is a voter.
    const bool single_voter = conf_state_.voters.size() == 1 && conf_state_.voters[0] == id_;
    if (options_.campaign_when_alone && single_voter && !IsLeader() && parts_.applied->load(std::memory_order_acquire) >= raw_->GetHardState().commit) {
      (void)raw_->Campaign();
    }
  }
  std::vector<HeldProposal> to_propose = std::move(held_proposals_);
  held_proposals_.clear();
  for (auto& [id, data] : in.proposals) to_propose.push_back({id, std::move(data), now + options_.proposal_timeout});
  if (!to_propose.empty()) ProposeOrHold(std::move(to_propose), now);
  if (in.compact_to > 0) Compact(in.compact_to);
  parts_.listener->IssueReadIndex(now, [this](std::string ctx) { raw_->ReadIndex(std::move(ctx)); });
  while (raw_->HasReady()) HandleReady(raw_->GetReady());
}

// Raft drops proposals while no leader is known (during an election). They are held
// and proposed again on later passes until their deadline, so a request that arrives
// mid-election waits for the new leader instead of failing at once.
void RaftNode::ProposeOrHold(std::vector<HeldProposal> proposals, Clock::time_point now) {
  for (auto& p : proposals) {
    if (now >= p.deadline) {
      parts_.listener->OnProposalFailed(p.id, ErrTimeout());
      continue;
    }
    if (leader() == raft::kNoNode) {
      held_proposals_.push_back(std::move(p));
      continue;
    }
    // Leadership lost between the check and the call: rare, so not worth copying every
    // proposal to be able to hold it again.
    if (!raw_->Propose(std::move(p.data)).ok()) parts_.listener->OnProposalFailed(p.id, ErrNoLeader());
  }
}

void RaftNode::HandleReady(raft::Ready ready) {
  if (ready.soft_state) {
    const uint64_t previous = leader();
    const uint64_t lead = ready.soft_state->lead;
    if (lead != previous || ready.soft_state->role == raft::Role::kLeader) {
      spdlog::info("member {} is {} at term {}, leader {}", HexId(id_), raft::ToString(ready.soft_state->role),
                   raw_->GetHardState().term, HexId(lead));
    }
    if (lead != raft::kNoNode && lead != previous) ++leader_changes_;
    leader_ = lead;
    if (lead != previous) parts_.listener->OnLeaderChanged(previous, lead);
  }
  if (!ready.hard_state.empty()) {
    term_ = ready.hard_state.term;
    commit_index_ = ready.hard_state.commit;
  }
  // Replication messages do not depend on this member's disk (Raft counts the leader's
  // own copy only once Advance() reports it persisted); everything else waits for it.
  auto after_persist = std::stable_partition(ready.messages.begin(), ready.messages.end(),
                                             [](const raft::Message& m) { return raft::CanSendBeforePersist(m.type); });
  std::vector<raft::Message> early(std::make_move_iterator(ready.messages.begin()),
                                   std::make_move_iterator(after_persist));
  ready.messages.erase(ready.messages.begin(), after_persist);
  if (!early.empty()) SendMessages(std::move(early));
  if (!ready.snapshot.empty()) {
    // The store already holds it (it was installed before Raft saw the message). The
    // marker and the snapshot go first: entries in the same Ready continue after it, and
    // neither the WAL's replay nor the in-memory log accepts them before it.
    Status st = parts_.persistence->SaveSnapshot(ready.snapshot.metadata);
    if (!st.ok()) Panic("wal snapshot marker failed: " + st.ToString());
    st = log_->ApplySnapshot(ready.snapshot);
    if (!st.ok()) Panic("raft storage snapshot failed: " + st.ToString());
    conf_state_ = ready.snapshot.metadata.conf_state;
  }
  const auto save_started = Clock::now();
  Status st = parts_.persistence->Save(ready.hard_state, ready.entries, ready.must_sync);
  if (ready.must_sync) {
    sync_seconds_.Observe(std::chrono::duration<double>(Clock::now() - save_started).count());
  }
  if (!st.ok()) {
    // Continuing after a failed write or sync would acknowledge data that may not be
    // on disk; the only safe reaction is to stop and recover from the WAL on restart.
    Panic("wal write failed: " + st.ToString());
  }
  if (!ready.hard_state.empty()) log_->SetHardState(ready.hard_state);
  st = log_->Append(ready.entries);
  if (!st.ok()) Panic("raft storage append failed: " + st.ToString());
  SendMessages(std::move(ready.messages));
  for (const auto& rs : ready.read_states) parts_.listener->OnReadState(rs);
  // Advance reads the Ready (committed entries mark what is handed on), so it runs
  // before the entries are moved out.
  raw_->Advance(ready);
  if (!ready.committed_entries.empty()) parts_.listener->OnCommitted(std::move(ready.committed_entries));
}

void RaftNode::SendMessages(std::vector<raft::Message> messages) {
  auto snap = std::partition(messages.begin(), messages.end(),
                             [](const raft::Message& m) { return m.type != raft::MessageType::MsgSnap; });
  // Raft sends the next MsgSnap to a follower only after ReportSnapshot; a repeat
  // before that is not sent twice.
  for (auto it = snap; it != messages.end(); ++it) {
    if (snapshots_in_flight_.insert(it->to).second) parts_.sink->SendSnapshot(*it);
  }
  messages.erase(snap, messages.end());
  if (!messages.empty()) parts_.sink->Send(std::move(messages));
}

void RaftNode::Compact(uint64_t index) {
  auto term = log_->TermOf(index);
  if (!term.ok()) return;  // already compacted past it
  Status st = parts_.persistence->SaveSnapshot(raft::SnapshotMetadata{index, term.value(), conf_state_});
  if (!st.ok()) Panic("wal snapshot marker failed: " + st.ToString());
  st = parts_.persistence->ReleaseTo(index);
  if (!st.ok()) Panic("wal release failed: " + st.ToString());
  // Raft sends a follower that needs entries from before the retained tail a snapshot;
  // the snapshot's contents are produced when it is sent (a copy of the store then).
  auto created = log_->CreateSnapshot(index, &conf_state_, "");
  if (!created.ok() && created.status().code() != StatusCode::kOutOfRange) {
    spdlog::warn("raft snapshot at {}: {}", index, created.status().ToString());
  }
  const uint64_t keep = options_.snapshot_catchup_entries;
  if (index > keep) {
    st = log_->Compact(index - keep);
    if (!st.ok() && st.code() != StatusCode::kOutOfRange) spdlog::warn("raft log compaction: {}", st.ToString());
  }
  spdlog::info("compacted log at index {}", index);
}

}  // namespace cairn::etcdserver
