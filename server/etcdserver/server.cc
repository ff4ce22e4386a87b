#include "server/etcdserver/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <iterator>
#include <utility>

#include "server/etcdserver/bootstrap.h"
#include "server/etcdserver/errors.h"
#include "server/etcdserver/store_meta.h"
#include "server/raft/to_string.h"

namespace cairn::etcdserver {
EtcdServer::EtcdServer(ServerOptions options) : options_(std::move(options)), peer_client_(options_.peer_tls) {}

EtcdServer::~EtcdServer() { Stop(); }

Result<std::unique_ptr<EtcdServer>> EtcdServer::Start(ServerOptions options) {
  std::unique_ptr<EtcdServer> server(new EtcdServer(std::move(options)));
  CAIRN_RETURN_IF_ERROR(server->Open());
  server->completion_thread_ = std::thread([s = server.get()] { s->CompletionLoop(); });
  server->apply_loop_->Start();
  server->raft_thread_ = std::thread([s = server.get()] { s->RaftLoop(); });
  server->compactor_thread_ = std::thread([s = server.get()] { s->AutoCompactLoop(); });
  return server;
}

Status EtcdServer::Open() {
  fs_ = options_.fs != nullptr ? options_.fs : PosixFileSystem();
  auto tokens = auth::NewTokenProvider(options_.auth_token, options_.auth_token_ttl);
  if (!tokens.ok()) return tokens.status();
  tokens_ = std::move(tokens.value());
  auto opened = OpenDataDir(options_, fs_, &peer_client_, &raft_storage_);
  if (!opened.ok()) return opened.status();
  lock_ = std::move(opened->lock);
  identity_ = opened->identity;
  wal_ = std::move(opened->wal);
  store_ = std::move(opened->store);
  const std::string joined_membership = std::move(opened->joined_membership);
  const raft::HardState hard_state = opened->hard_state;
  const uint64_t snapshot_index = opened->snapshot.index;
  // The voters as of the snapshot; conf changes after it are re-applied as Raft
  // re-delivers them. The next compaction's WAL marker records this, so it must not
  // start empty, or a later restart finds no voters, this member included.
  conf_state_ = opened->snapshot.conf_state;
  const uint64_t store_applied = store_->AppliedIndex();

  // etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds, so a
  // lease cannot expire during a single leader election.
  const int64_t min_lease_ttl = (options_.election_timeout.count() * 3 / 2 + 999) / 1000;
  lessor_ = std::make_unique<lease::Lessor>(
      min_lease_ttl, options_.lease_checkpoint_interval,
      options_.lease_clock ? options_.lease_clock : [] { return lease::Clock::now(); });
  const mvcc::Store::LeaseState leases = store_->LoadLeaseState();
  for (const auto& l : leases.leases) lessor_->Restore(l.id, l.ttl, l.remaining_ttl);
  for (const auto& [key, id] : leases.leased_keys) lessor_->Attach(id, key);
  applier_ = std::make_unique<apply::Applier>(*store_, *lessor_);
  lease_forwarding_ = std::make_unique<LeaseForwarding>(LeaseForwarding::Parts{
      .self = identity_.member_id,
      .lessor = lessor_.get(),
      .leader = [this] { return LeaseLeader(); },
      .read_barrier = [this] { return ReadBarrier(); },
      .client = &peer_lease_client_,
      .timeout = std::chrono::duration_cast<std::chrono::milliseconds>(RequestTimeout())});
  watch::HubOptions hub_options;
  hub_options.progress_interval = options_.watch_progress_notify_interval;
  hub_ = std::make_unique<watch::WatchHub>(store_.get(), hub_options);
  {
    mvcc::ReadTxn read = store_->BeginRead();
    CAIRN_RETURN_IF_ERROR(membership_.Restore(read.GetMeta(kMembershipMeta).value_or(joined_membership)));
    CAIRN_RETURN_IF_ERROR(alarms_.Restore(read.GetMeta(kAlarmsMeta).value_or("")));
    CAIRN_RETURN_IF_ERROR(auth_store_.Restore(read.GetMeta(kAuthMeta).value_or("")));
  }
  transport_ = std::make_unique<transport::PeerTransport>(
      identity_.cluster_id,
      [this](uint64_t peer) {
        std::lock_guard lock(loop_mu_);
        unreachable_peers_.push_back(peer);
      },
      [this] { OnRemoved(); }, transport::PeerSenderOptions{.tls = options_.peer_tls});
  ApplyTargets targets{store_.get(), lessor_.get(), applier_.get(), hub_.get(), &membership_, &alarms_, &auth_store_,
                       tokens_.get()};
  ApplyListener* listener = this;  // a private base: convertible only in here
  entry_applier_ = std::make_unique<EntryApplier>(targets, listener, identity_.member_id, options_.snapshot_count,
                                                  snapshot_index);
  apply_loop_ = std::make_unique<ApplyLoop>(entry_applier_.get(), store_.get());
  reads_ = std::make_unique<ReadLoop>(&entry_applier_->applied_index_atomic(), [this] { WakeRaftLoopForReads(); });

  raft::Config cfg;
  cfg.id = identity_.member_id;
  cfg.election_tick = static_cast<int>(options_.election_timeout / options_.heartbeat_interval);
  cfg.heartbeat_tick = 1;
  cfg.storage = &raft_storage_;
  // Membership is rebuilt by replaying conf-change entries above the snapshot, so Raft
  // re-delivers everything after it; the EntryApplier skips what the store already has.
  cfg.applied = snapshot_index;
  // Followers receive new entries while the leader is still writing them: the two
  // disk writes overlap instead of adding up on every commit.
  cfg.leader_persists_in_parallel = true;
  cfg.pre_vote = options_.pre_vote;
  cfg.seed = identity_.member_id ^ static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  auto node = raft::RawNode::Create(cfg);
  if (!node.ok()) return node.status();
  node_ = std::move(node.value());
  term_ = hard_state.term;
  commit_index_ = hard_state.commit;
  spdlog::info("member {} of cluster {} opened {}: wal entries {}..{}, applied {}, hard state term={} commit={}",
               HexId(identity_.member_id), HexId(identity_.cluster_id), options_.data_dir.root, raft_storage_.FirstIndex(),
               raft_storage_.LastIndex(), store_applied, hard_state.term, hard_state.commit);
  return Status::Ok();
}

std::chrono::steady_clock::duration EtcdServer::RequestTimeout() const {
  // etcd's: 5 s plus two election timeouts, so a request survives one leader change.
  return std::chrono::seconds(5) + 2 * options_.election_timeout;
}

int64_t EtcdServer::QuotaBytes() const { return EffectiveQuotaBackendBytes(options_.quota_backend_bytes); }

void EtcdServer::ProposeAsync(cairnpb::RaftRequest request, ApplyCallback done) {
  const uint64_t id = (identity_.member_id << 24) ^ next_request_id_.fetch_add(1, std::memory_order_relaxed);
  request.mutable_header()->set_id(id);
  // A learner only follows; its own attributes are the one thing it proposes.
  if (!request.has_member_attributes() && IsLearner()) return done(ErrLearnerNotSupported());
  std::string data = request.SerializeAsString();
  if (data.size() > options_.max_request_bytes) return done(ErrRequestTooLarge());
  {
    std::lock_guard lock(loop_mu_);
    if (stopping_) return done(ErrStopped());
    // Registered under loop_mu_ so Stop() cannot miss it: FailAll runs after stopping_ is set.
    waits_.Register(id, std::chrono::steady_clock::now() + RequestTimeout(), std::move(done));
    proposals_.emplace_back(id, std::move(data));
  }
  loop_cv_.notify_one();
}

ApplyResult EtcdServer::Propose(cairnpb::RaftRequest request) {
  auto promise = std::make_shared<std::promise<ApplyResult>>();
  auto future = promise->get_future();
  ProposeAsync(std::move(request), [promise](ApplyResult r) { promise->set_value(std::move(r)); });
  return future.get();
}

void EtcdServer::ReadBarrierAsync(std::function<void(Status)> done) {
  if (IsLearner()) return done(ErrLearnerNotSupported());
  reads_->Add(std::chrono::steady_clock::now() + RequestTimeout(), std::move(done));
}

Status EtcdServer::ReadBarrier() {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  ReadBarrierAsync([promise](Status st) { promise->set_value(std::move(st)); });
  return future.get();
}

void EtcdServer::LocalReadBarrierAsync(std::function<void(Status)> done) {
  reads_->AwaitApplied(entry_applier_->answered_index(), std::move(done));
}

Status EtcdServer::LocalReadBarrier() {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  LocalReadBarrierAsync([promise](Status st) { promise->set_value(std::move(st)); });
  return future.get();
}

MemberStatus EtcdServer::GetStatus() const {
  MemberStatus s;
  s.member_id = identity_.member_id;
  s.cluster_id = identity_.cluster_id;
  s.leader = leader_.load();
  s.term = term_.load();
  s.commit_index = commit_index_.load();
  s.applied_index = entry_applier_->applied_index();
  s.db_size = entry_applier_->db_size();
  s.db_size_in_use = store_->DbSizeInUseBytes();
  s.quota_bytes = QuotaBytes();
  s.is_learner = membership_.IsLearner(identity_.member_id);
  s.leader_changes = leader_changes_.load();
  s.revision = store_->CurrentRevision();
  s.compact_revision = store_->CompactRevision();
  return s;
}

Status EtcdServer::DeliverFromPeer(raft::Message message) {
  // Bounds what a flood from peers can queue while the Raft loop is busy; Raft
  // recovers from dropped messages.
  constexpr size_t kMaxQueuedPeerMessages = 16384;
  if (message.to != identity_.member_id) {
    return Status::FailedPrecondition("message for member " + HexId(message.to) + " reached member " +
                                      HexId(identity_.member_id));
  }
  if (membership_.IsRemoved(message.from)) {
    return Status(StatusCode::kPermissionDenied, "member " + HexId(message.from) + " was removed from the cluster");
  }
  {
    std::lock_guard lock(progress_mu_);
    last_heard_[message.from] = std::chrono::steady_clock::now();
  }
  {
    std::lock_guard lock(loop_mu_);
    if (stopping_ || from_peers_.size() >= kMaxQueuedPeerMessages) return Status::Ok();
    from_peers_.push_back(std::move(message));
  }
  loop_cv_.notify_one();
  return Status::Ok();
}

cairnpb::ClusterInfo EtcdServer::GetClusterInfo() const {
  cairnpb::ClusterInfo info;
  info.set_cluster_id(identity_.cluster_id);
  for (auto& m : membership_.List()) *info.mutable_membership()->add_members() = std::move(m);
  return info;
}

Result<LeaseForwarding::Leader> EtcdServer::LeaseLeader() const {
  const uint64_t leader = leader_.load();
  if (leader == identity_.member_id) return LeaseForwarding::Leader{.is_self = true, .peer_urls = {}};
  if (leader == raft::kNoNode) return ErrNoLeader();
  auto member = membership_.Get(leader);
  if (!member) return ErrNoLeader();
  return LeaseForwarding::Leader{.peer_urls = {member->peer_urls().begin(), member->peer_urls().end()}};
}

Result<int64_t> EtcdServer::RenewLeaseAsLeader(int64_t id) { return lease_forwarding_->RenewAsLeader(id); }

Result<etcdserverpb::LeaseTimeToLiveResponse> EtcdServer::LeaseTimeToLiveAsLeader(
    const etcdserverpb::LeaseTimeToLiveRequest& request) {
  return lease_forwarding_->TimeToLiveAsLeader(request);
}

Result<int64_t> EtcdServer::RenewLease(int64_t id) { return lease_forwarding_->Renew(id); }

Result<etcdserverpb::LeaseTimeToLiveResponse> EtcdServer::LeaseTimeToLive(
    const etcdserverpb::LeaseTimeToLiveRequest& request) {
  return lease_forwarding_->TimeToLive(request);
}

// Like etcd, a removed member stops: it can never rejoin under its ID, and serving
// stale reads would mislead clients.
void EtcdServer::OnRemoved() {
  if (removed_.exchange(true)) return;
  spdlog::error("this member ({}) has been permanently removed from the cluster; stopping",
                HexId(identity_.member_id));
  if (options_.on_removed) options_.on_removed();
}

void EtcdServer::ConnectPeers() {
  std::map<uint64_t, std::vector<std::string>> peers;
  for (const auto& m : membership_.List()) {
    if (m.id() != identity_.member_id) peers[m.id()] = {m.peer_urls().begin(), m.peer_urls().end()};
  }
  transport_->SetPeers(peers);
}

// Like etcd, every member publishes its name and client URLs through the log once a
// leader exists, so MemberList on any member shows how to reach every other.
void EtcdServer::PublishAttributes() {
  attributes_ = Attributes::kPublishing;
  cairnpb::RaftRequest request;
  auto* attributes = request.mutable_member_attributes();
  attributes->set_id(identity_.member_id);
  attributes->set_name(options_.name);
  for (const auto& url : options_.advertise_client_urls) attributes->add_client_urls(url);
  ProposeAsync(std::move(request), [this](ApplyResult r) {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(published_mu_);
      attributes_ = r.ok() ? Attributes::kPublished : Attributes::kUnpublished;
      if (r.ok()) ready.swap(on_published_);
    }
    for (auto& f : ready) f();
  });
}

void EtcdServer::OnPublished(std::function<void()> ready) {
  {
    std::lock_guard lock(published_mu_);
    if (attributes_.load() != Attributes::kPublished) {
      on_published_.push_back(std::move(ready));
      return;
    }
  }
  ready();
}

void EtcdServer::WakeRaftLoop() { loop_cv_.notify_one(); }

void EtcdServer::WakeRaftLoopForReads() {
  // Under loop_mu_: the loop checks NeedsRound() holding it, so the wake-up cannot fall
  // between that check and its wait.
  std::lock_guard lock(loop_mu_);
  loop_cv_.notify_one();
}

void EtcdServer::RaftLoop() {
  auto next_tick = std::chrono::steady_clock::now() + options_.heartbeat_interval;
  ConnectPeers();
  while (true) {
    std::vector<raft::Message> from_peers;
    std::vector<uint64_t> unreachable;
    std::vector<std::pair<uint64_t, std::string>> proposals;
    std::vector<raft::ConfChange> conf_change_proposals;
    std::vector<std::pair<uint64_t, bool>> snapshot_reports;
    uint64_t transfer_to = 0;
    bool peer_urls_changed = false;
    std::vector<raft::ConfChange> conf_changes;
    uint64_t compact_to = 0;
    {
      std::unique_lock lock(loop_mu_);
      loop_cv_.wait_until(lock, next_tick, [&] {
        return stopping_ || !proposals_.empty() || reads_->NeedsRound() ||
               !conf_changes_to_apply_.empty() ||
               !from_peers_.empty() || !conf_change_proposals_.empty() || transfer_leader_to_ != 0 ||
               peer_urls_changed_ || !snapshot_reports_.empty();
      });
      if (stopping_) break;
      from_peers.swap(from_peers_);
      unreachable.swap(unreachable_peers_);
      conf_change_proposals.swap(conf_change_proposals_);
      snapshot_reports.swap(snapshot_reports_);
      std::swap(transfer_to, transfer_leader_to_);
      std::swap(peer_urls_changed, peer_urls_changed_);
      proposals.swap(proposals_);
      conf_changes.swap(conf_changes_to_apply_);
      std::swap(compact_to, log_compaction_to_);
    }
    for (auto& m : from_peers) {
      // Errors here are expected (e.g. a response from a member that was just removed).
      (void)node_->Step(m);
    }
    std::sort(unreachable.begin(), unreachable.end());
    unreachable.erase(std::unique(unreachable.begin(), unreachable.end()), unreachable.end());
    for (uint64_t peer : unreachable) node_->ReportUnreachable(peer);
    for (auto [peer, ok] : snapshot_reports) {
      auto it = snapshot_senders_.find(peer);
      if (it != snapshot_senders_.end()) {
        it->second.join();
        snapshot_senders_.erase(it);
      }
      node_->ReportSnapshot(peer, ok);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_tick) {
      node_->Tick();
      ExpireOverdue(now);
      if (IsLeader()) {
        ProposeLeaseMaintenance();
        PublishProgress();
      }
      next_tick = now + options_.heartbeat_interval;
    }
    for (const auto& cc : conf_changes) conf_state_ = node_->ApplyConfChange(cc);
    if (peer_urls_changed || !conf_changes.empty()) ConnectPeers();
    for (auto& cc : conf_change_proposals) {
      if (Status st = node_->ProposeConfChange(cc); !st.ok()) FinishConfChange(cc.node_id, ErrNoLeader());
    }
    if (transfer_to != 0) node_->TransferLeader(transfer_to);
    if (!conf_changes.empty()) {
      // A lone voter has nobody to wait for: it becomes leader now rather than after an
      // election timeout. Only once every committed conf change is applied, though: while
      // a cluster's membership is being replayed, its first member alone is a voter.
      const bool single_voter = conf_state_.voters.size() == 1 && conf_state_.voters[0] == identity_.member_id;
      if (single_voter && !IsLeader() && entry_applier_->applied_index() >= node_->GetHardState().commit) {
        (void)node_->Campaign();
      }
    }
    std::vector<HeldProposal> to_propose = std::move(held_proposals_);
    held_proposals_.clear();
    for (auto& [id, data] : proposals) to_propose.push_back({id, std::move(data), now + RequestTimeout()});
    if (!to_propose.empty()) ProposeOrHold(std::move(to_propose), now);
    if (compact_to > 0) CompactLog(compact_to);
    reads_->IssueRound(now, [this](std::string ctx) { node_->ReadIndex(std::move(ctx)); });
    while (node_->HasReady()) HandleReady(node_->GetReady());
    if (leader_.load() != raft::kNoNode && attributes_.load() == Attributes::kUnpublished) PublishAttributes();
  }
  cancel_snapshot_sends_ = true;
  for (auto& [peer, sender] : snapshot_senders_) sender.join();
  snapshot_senders_.clear();
  transport_->Stop();
}

// Expired leases are revoked and long leases checkpointed through the log, so every
// member applies the same lease changes. A revoke that gets lost (e.g. in a leader
// change) is proposed again after the retry interval.
void EtcdServer::ProposeLeaseMaintenance() {
  constexpr auto kRevokeRetry = std::chrono::seconds(3);
  const auto ignore_result = [](ApplyResult) {};
  for (int64_t id : lessor_->Expired(kRevokeRetry)) {
    cairnpb::RaftRequest request;
    request.mutable_lease_revoke()->set_id(id);
    ProposeAsync(std::move(request), ignore_result);
  }
  const auto due = lessor_->CheckpointsDue();
  if (due.empty()) return;
  cairnpb::RaftRequest request;
  for (const auto& cp : due) {
    auto* checkpoint = request.mutable_lease_checkpoint()->add_checkpoints();
    checkpoint->set_id(cp.id);
    checkpoint->set_remaining_ttl(cp.remaining_ttl);
  }
  ProposeAsync(std::move(request), ignore_result);
}

// Raft drops proposals while no leader is known (during an election). They are held
// and proposed again on later iterations until their RPC's deadline, so a request
// that arrives mid-election waits for the new leader instead of failing at once.
void EtcdServer::ProposeOrHold(std::vector<HeldProposal> proposals, std::chrono::steady_clock::time_point now) {
  for (auto& p : proposals) {
    if (now >= p.deadline) {
      waits_.Trigger(p.id, ApplyResult(ErrTimeout()));
      continue;
    }
    if (leader_.load() == raft::kNoNode) {
      held_proposals_.push_back(std::move(p));
      continue;
    }
    // Leadership lost between the check and the call: rare, so not worth copying every
    // proposal to be able to hold it again.
    if (!node_->Propose(std::move(p.data)).ok()) waits_.Trigger(p.id, ApplyResult(ErrNoLeader()));
  }
}

void EtcdServer::HandleReady(raft::Ready ready) {
  if (ready.soft_state) {
    const bool was_leader = IsLeader();
    if (ready.soft_state->lead != leader_.load() || ready.soft_state->role == raft::Role::kLeader) {
      spdlog::info("member {} is {} at term {}, leader {}", HexId(identity_.member_id),
                   raft::ToString(ready.soft_state->role), node_->GetHardState().term,
                   HexId(ready.soft_state->lead));
    }
    // etcd's etcd_server_leader_changes_seen_total: a new, known leader.
    if (ready.soft_state->lead != raft::kNoNode && ready.soft_state->lead != leader_.load()) ++leader_changes_;
    leader_ = ready.soft_state->lead;
    // Only the leader runs lease clocks; a new leader starts them from the checkpoints.
    if (IsLeader() && !was_leader) lessor_->Promote();
    if (!IsLeader() && was_leader) lessor_->Demote();
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
    // The store already holds it (InstallSnapshot ran before Raft saw the message). The
    // marker and the snapshot go first: entries in the same Ready continue after it, and
    // neither the WAL's replay nor the in-memory log accepts them before it.
    Status st = wal_->SaveSnapshot(ready.snapshot.metadata);
    if (!st.ok()) Panic("wal snapshot marker failed: " + st.ToString());
    st = raft_storage_.ApplySnapshot(ready.snapshot);
    if (!st.ok()) Panic("raft storage snapshot failed: " + st.ToString());
    conf_state_ = ready.snapshot.metadata.conf_state;
  }
  const auto save_started = std::chrono::steady_clock::now();
  Status st = wal_->Save(ready.hard_state, ready.entries, ready.must_sync);
  if (ready.must_sync) {
    wal_sync_seconds_.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - save_started).count());
  }
  if (!st.ok()) {
    // Continuing after a failed write or fsync would acknowledge data that may not be
    // on disk; the only safe reaction is to stop and recover from the WAL on restart.
    Panic("wal write failed: " + st.ToString());
  }
  if (!ready.hard_state.empty()) raft_storage_.SetHardState(ready.hard_state);
  st = raft_storage_.Append(ready.entries);
  if (!st.ok()) Panic("raft storage append failed: " + st.ToString());
  SendMessages(std::move(ready.messages));
  for (const auto& rs : ready.read_states) reads_->OnReadState(rs.request_ctx, rs.index);
  // Advance reads the Ready (committed entries mark what is handed to the apply loop),
  // so it runs before the entries are moved out.
  node_->Advance(ready);
  if (!ready.committed_entries.empty()) apply_loop_->Enqueue(std::move(ready.committed_entries));
}

// Votes and append acknowledgements leave only after the Ready's entries and hard
// state are durable: they promise what is on disk.
void EtcdServer::SendMessages(std::vector<raft::Message> messages) {
  auto snap = std::partition(messages.begin(), messages.end(),
                             [](const raft::Message& m) { return m.type != raft::MessageType::MsgSnap; });
  // Raft sends the next MsgSnap to a follower only after ReportSnapshot, which the
  // sender thread's outcome triggers.
  for (auto it = snap; it != messages.end(); ++it) {
    if (snapshot_senders_.count(it->to) == 0) StartSnapshotSend(it->to);
  }
  messages.erase(snap, messages.end());
  if (!messages.empty()) transport_->Send(messages);
}

void EtcdServer::OnAnswered(std::vector<std::pair<uint64_t, ApplyResult>> results) {
  {
    std::lock_guard lock(completion_mu_);
    if (completions_.empty()) {
      completions_ = std::move(results);
    } else {
      std::move(results.begin(), results.end(), std::back_inserter(completions_));
    }
  }
  completion_cv_.notify_one();
}

void EtcdServer::OnConfigurationChanged(std::vector<raft::ConfChange> changes, bool peer_urls_changed) {
  {
    std::lock_guard lock(loop_mu_);
    conf_changes_to_apply_.insert(conf_changes_to_apply_.end(), changes.begin(), changes.end());
    peer_urls_changed_ = peer_urls_changed_ || peer_urls_changed;
  }
  WakeRaftLoop();
}

void EtcdServer::OnMemberChangeApplied(uint64_t member_id) { FinishConfChange(member_id, Status::Ok()); }

void EtcdServer::OnStoreCheckpointed(uint64_t index) {
  {
    std::lock_guard lock(loop_mu_);
    log_compaction_to_ = index;
  }
  WakeRaftLoop();
}

void EtcdServer::OnApplied(uint64_t index) { reads_->OnApplied(index); }

void EtcdServer::CompactLog(uint64_t index) {
  auto term = raft_storage_.TermOf(index);
  if (!term.ok()) return;  // already compacted past it
  Status st = wal_->SaveSnapshot(raft::SnapshotMetadata{index, term.value(), conf_state_});
  if (!st.ok()) Panic("wal snapshot marker failed: " + st.ToString());
  st = wal_->ReleaseTo(index);
  if (!st.ok()) Panic("wal release failed: " + st.ToString());
  // Raft sends a follower that needs entries from before the retained tail a snapshot;
  // the snapshot's contents are produced when it is sent (a copy of the store then).
  auto created = raft_storage_.CreateSnapshot(index, &conf_state_, "");
  if (!created.ok() && created.status().code() != StatusCode::kOutOfRange) {
    spdlog::warn("raft snapshot at {}: {}", index, created.status().ToString());
  }
  const uint64_t keep = options_.snapshot_catchup_entries;
  if (index > keep) {
    st = raft_storage_.Compact(index - keep);
    if (!st.ok() && st.code() != StatusCode::kOutOfRange) spdlog::warn("raft log compaction: {}", st.ToString());
  }
  spdlog::info("compacted log at index {} (wal segments: {})", index, wal_->SegmentCount());
}

void EtcdServer::CompletionLoop() {
  while (true) {
    std::vector<std::pair<uint64_t, ApplyResult>> batch;
    {
      std::unique_lock lock(completion_mu_);
      completion_cv_.wait(lock, [&] { return completion_stopping_ || !completions_.empty(); });
      if (completions_.empty()) return;  // stopping and drained
      batch.swap(completions_);
    }
    for (auto& [id, result] : batch) waits_.Trigger(id, std::move(result));
  }
}

// Runs on the Raft loop at every tick: requests whose RPC deadline passed get etcd's
// timeout error (their entries may still commit later; the result is then dropped).
void EtcdServer::ExpireOverdue(std::chrono::steady_clock::time_point now) {
  waits_.ExpireUntil(now, ErrTimeout());
  reads_->ExpireOverdue(now);
}

void EtcdServer::Stop() {
  std::call_once(stop_once_, [&] {
    {
      std::lock_guard lock(compactor_mu_);
      compactor_stopping_ = true;
    }
    compactor_cv_.notify_all();
    if (compactor_thread_.joinable()) compactor_thread_.join();
    {
      std::lock_guard lock(loop_mu_);
      stopping_ = true;
    }
    loop_cv_.notify_all();
    if (raft_thread_.joinable()) raft_thread_.join();
    if (apply_loop_) apply_loop_->Stop();
    {
      std::lock_guard lock(completion_mu_);
      completion_stopping_ = true;
    }
    completion_cv_.notify_all();
    if (completion_thread_.joinable()) completion_thread_.join();
    waits_.FailAll(ErrStopped());
    if (!reads_) return;  // Open() failed before the loops existed
    reads_->Stop();
    spdlog::info("member {} stopped (applied index {})", HexId(identity_.member_id), entry_applier_->applied_index());
  });
}

}  // namespace cairn::etcdserver
