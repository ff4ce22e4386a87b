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
namespace {

// Whether the log holds a conf change above its snapshot, which Raft will replay: until
// then the snapshot's voters are not the member's last word on who votes.
bool ConfChangeAboveSnapshot(const raft::MemoryStorage& log) {
  constexpr uint64_t kChunkBytes = 4 << 20;
  for (raft::Index i = log.FirstIndex(); i <= log.LastIndex();) {
    auto entries = log.Entries(i, log.LastIndex() + 1, kChunkBytes);
    if (!entries.ok() || entries->empty()) return true;  // unreadable: assume the worst
    for (const raft::Entry& e : *entries) {
      if (e.type == raft::EntryType::kConfChange) return true;
    }
    i = entries->back().index + 1;
  }
  return false;
}

}  // namespace
EtcdServer::EtcdServer(ServerOptions options) : options_(std::move(options)), peer_client_(options_.peer_tls) {}

EtcdServer::~EtcdServer() { Stop(); }

Result<std::unique_ptr<EtcdServer>> EtcdServer::Start(ServerOptions options) {
  std::unique_ptr<EtcdServer> server(new EtcdServer(std::move(options)));
  CAIRN_RETURN_IF_ERROR(server->Open());
  server->completion_thread_ = std::thread([s = server.get()] { s->CompletionLoop(); });
  server->apply_loop_->Start();
  server->ConnectPeers();
  server->node_->Start();
  server->compactor_thread_ = std::thread([s = server.get()] { s->AutoCompactLoop(); });
  return server;
}

Status EtcdServer::Open() {
  fs_ = options_.fs != nullptr ? options_.fs : PosixFileSystem();
  auto tokens = auth::NewTokenProvider(options_.auth_token, options_.auth_token_ttl);
  if (!tokens.ok()) return tokens.status();
  tokens_ = std::move(tokens.value());
  auto raft_log = std::make_unique<raft::MemoryStorage>();
  auto opened = OpenDataDir(options_, fs_, &peer_client_, raft_log.get());
  if (!opened.ok()) return opened.status();
  lock_ = std::move(opened->lock);
  identity_ = opened->identity;
  wal_ = std::make_unique<WalPersistence>(std::move(opened->wal));
  store_ = std::move(opened->store);
  const std::string joined_membership = std::move(opened->joined_membership);
  const raft::HardState hard_state = opened->hard_state;
  const uint64_t snapshot_index = opened->snapshot.index;
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
      [this](uint64_t peer) { node_->ReportUnreachable(peer); },
      [this] { OnRemoved(); }, transport::PeerSenderOptions{.tls = options_.peer_tls});
  ApplyTargets targets{store_.get(), lessor_.get(), applier_.get(), hub_.get(), &membership_, &alarms_, &auth_store_,
                       tokens_.get()};
  ApplyListener* listener = this;  // a private base: convertible only in here
  entry_applier_ = std::make_unique<EntryApplier>(targets, listener, identity_.member_id, options_.snapshot_count,
                                                  snapshot_index);
  apply_loop_ = std::make_unique<ApplyLoop>(entry_applier_.get(), store_.get());
  reads_ = std::make_unique<ReadLoop>(&entry_applier_->applied_index_atomic(), [this] { node_->WakeForReads(); });

  spdlog::info("member {} of cluster {} opened {}: wal entries {}..{}, applied {}, hard state term={} commit={}",
               HexId(identity_.member_id), HexId(identity_.cluster_id), options_.data_dir.root, raft_log->FirstIndex(),
               raft_log->LastIndex(), store_applied, hard_state.term, hard_state.commit);
  RaftNode::Options node_options;
  raft::Config& cfg = node_options.config;
  cfg.id = identity_.member_id;
  cfg.election_tick = static_cast<int>(options_.election_timeout / options_.heartbeat_interval);
  cfg.heartbeat_tick = 1;
  // Membership is rebuilt by replaying conf-change entries above the snapshot, so Raft
  // re-delivers everything after it; the EntryApplier skips what the store already has.
  cfg.applied = snapshot_index;
  // Followers receive new entries while the leader is still writing them: the two
  // disk writes overlap instead of adding up on every commit.
  cfg.leader_persists_in_parallel = true;
  cfg.pre_vote = options_.pre_vote;
  cfg.seed = identity_.member_id ^ static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  node_options.tick_interval = options_.heartbeat_interval;
  node_options.proposal_timeout = RequestTimeout();
  node_options.snapshot_catchup_entries = options_.snapshot_catchup_entries;
  node_options.campaign_at_start = options_.initial_election_tick_advance && !ConfChangeAboveSnapshot(*raft_log);
  node_options.campaign_when_alone = options_.initial_election_tick_advance;
  MessageSink* sink = this;             // private bases: convertible only in here
  RaftNodeListener* node_listener = this;
  auto node = RaftNode::Create(node_options,
                               RaftNode::Parts{.persistence = wal_.get(),
                                               .sink = sink,
                                               .listener = node_listener,
                                               .applied = &entry_applier_->applied_index_atomic()},
                               std::move(raft_log));
  if (!node.ok()) return node.status();
  node_ = std::move(node.value());
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
  // Registered before it is queued, so Stop() cannot miss it: FailAll runs once the
  // node stopped taking proposals, and one refused is failed here.
  waits_.Register(id, std::chrono::steady_clock::now() + RequestTimeout(), std::move(done));
  if (Status st = node_->Propose(id, std::move(data)); !st.ok()) waits_.Trigger(id, ApplyResult(st));
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
  s.leader = node_->leader();
  s.term = node_->term();
  s.commit_index = node_->commit_index();
  s.applied_index = entry_applier_->applied_index();
  s.db_size = entry_applier_->db_size();
  s.db_size_in_use = store_->DbSizeInUseBytes();
  s.quota_bytes = QuotaBytes();
  s.is_learner = membership_.IsLearner(identity_.member_id);
  s.leader_changes = node_->leader_changes();
  s.revision = store_->CurrentRevision();
  s.compact_revision = store_->CompactRevision();
  return s;
}

Status EtcdServer::DeliverFromPeer(raft::Message message) {
  if (message.to != identity_.member_id) {
    return Status::FailedPrecondition("message for member " + HexId(message.to) + " reached member " +
                                      HexId(identity_.member_id));
  }
  if (membership_.IsRemoved(message.from)) {
    return Status(StatusCode::kPermissionDenied, "member " + HexId(message.from) + " was removed from the cluster");
  }
  {
    std::lock_guard lock(heard_mu_);
    last_heard_[message.from] = std::chrono::steady_clock::now();
  }
  node_->Step(std::move(message));
  return Status::Ok();
}

cairnpb::ClusterInfo EtcdServer::GetClusterInfo() const {
  cairnpb::ClusterInfo info;
  info.set_cluster_id(identity_.cluster_id);
  for (auto& m : membership_.List()) *info.mutable_membership()->add_members() = std::move(m);
  return info;
}

Result<LeaseForwarding::Leader> EtcdServer::LeaseLeader() const {
  const uint64_t leader = node_->leader();
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
  node_->ApplyConfChanges(std::move(changes), peer_urls_changed);
}

void EtcdServer::OnMemberChangeApplied(uint64_t member_id) { FinishConfChange(member_id, Status::Ok()); }

void EtcdServer::OnStoreCheckpointed(uint64_t index) { node_->CompactLog(index); }

void EtcdServer::OnApplied(uint64_t index) { reads_->OnApplied(index); }

void EtcdServer::OnLeaderChanged(uint64_t previous, uint64_t leader) {
  // Only the leader runs lease clocks; a new leader starts them from the checkpoints.
  const uint64_t self = identity_.member_id;
  if (leader == self && previous != self) lessor_->Promote();
  if (previous == self && leader != self) lessor_->Demote();
  if (leader != raft::kNoNode && attributes_.load() == Attributes::kUnpublished) PublishAttributes();
}

void EtcdServer::OnTick(std::chrono::steady_clock::time_point now) {
  ExpireOverdue(now);
  if (IsLeader()) ProposeLeaseMaintenance();
  // Publishing failed (e.g. lost in a leader change): try again while a leader is known.
  if (node_->leader() != raft::kNoNode && attributes_.load() == Attributes::kUnpublished) PublishAttributes();
}

void EtcdServer::OnReadState(const raft::ReadState& read_state) {
  reads_->OnReadState(read_state.request_ctx, read_state.index);
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

// Runs on the Raft node's thread at every tick: requests whose RPC deadline passed get etcd's
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
    if (node_) node_->Stop();
    // The node no longer sends: the snapshot senders and the transport go next.
    cancel_snapshot_sends_ = true;
    for (auto& [peer, sender] : snapshot_senders_) sender.join();
    snapshot_senders_.clear();
    if (transport_) transport_->Stop();
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
