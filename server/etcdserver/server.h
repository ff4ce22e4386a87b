// EtcdServer: one Cairn member, and the façade that the API layer, the peer transport,
// the gateway and the binary use. It wires parts that each own their lock and talk
// through queues (etcd's etcdserver package is the model):
//   bootstrap.h         opens or creates the data dir, or joins a running cluster, and
//                       returns the opened WAL, store and identity (etcd's bootstrap.go)
//   raft_node.h         the Raft node: the RawNode and its Ready loop thread, which
//                       persists to the WAL, sends, and hands committed entries on, in
//                       the order of Raft thesis §10.2.1 (etcd's raft.go); this class is
//                       its persistence (WalPersistence), message sink and listener
//   apply_loop.h        the apply thread; entry_applier.h dispatches each committed
//                       entry to KV, lease, membership, alarm or auth (etcd's apply.go)
//   read_loop.h         ReadIndex batching and the applied-index waits of reads
//                       (etcd's linearizableReadLoop), driven by the Raft and apply threads
//   lease_forwarding.h  follower -> leader keep-alives and TTL questions
//   reconfigure.cc, snapshot.cc, maintenance.cc: membership changes, snapshots for
//                       lagging members, client snapshots, defragmentation, quota
//
// Write path:  ProposeAsync() queues the request for the Raft node, which proposes it;
//              the Ready's entries are written and fdatasync'ed to the WAL (every
//              proposal queued meanwhile shares the sync: group commit); once committed
//              they go to the apply loop, which applies a batch in one SQLite transaction
//              that also records the applied index.
// When an RPC is answered: after its entry is fsync'ed in this member's WAL and, in a
//              cluster, in the WALs of a majority (that is what committed means), and
//              after the apply loop applied it, but before the SQLite commit of its
//              batch; the completion thread then runs `done`. Durable because a crash
//              before that commit replays the entry from the WAL above the store's
//              applied index; and no read misses an answered write, because reads wait
//              for the applied index, which moves only after the commit
//              (entry_applier.h).
// Order of one Ready (RaftNode::HandleReady; raft_node.h has it in full), Raft thesis
// §10.2.1: a leader's MsgApp and MsgHeartbeat leave first; then the snapshot marker,
// entries and hard state are written to the WAL (fsync'ed when must_sync; a failed
// write aborts); then every other message (votes and acknowledgements promise what is
// now on disk) and the read states (to the read loop); then Advance(); then the
// committed entries go to the apply loop, in order, each already durable here and on
// a majority.
// Read path:   ReadBarrier() waits for a ReadIndex round (shared by concurrent readers)
//              and then for that index to be applied (linearizable). Serializable reads
//              use LocalReadBarrier(): no Raft round, but they still see every write
//              this member has answered.
// Cluster:     peers' messages arrive through DeliverFromPeer; membership changes run
//              on the leader (reconfigure.cc); snapshots for lagging members are copied
//              and streamed by sender threads and installed by the apply loop before
//              Raft sees them (snapshot.cc).
// Threads: the Raft node's thread is the only one that touches the RawNode and the WAL,
// and the one that calls this class as RaftNodeListener and MessageSink;
// the apply loop thread is the only writer of the MVCC store; the completion thread
// hands applied results back to the waiting RPCs; the auto-compaction thread proposes
// compactions; one sender thread per peer (transport) and per snapshot being sent.
// Everything else (gRPC handlers) calls the public methods, which are thread-safe.
// A write crosses the same threads as before the split: gRPC handler -> Raft node ->
// apply loop -> completion thread.
// Invariant: an entry is applied only after it is durable in this member's WAL, and
// counts toward commitment only once it is durable on a majority.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cairn/internal.pb.h"
#include "server/apply/applier.h"
#include "server/auth/auth_store.h"
#include "server/auth/token_provider.h"
#include "server/common/etcd_limits.h"
#include "server/common/fs.h"
#include "server/common/histogram.h"
#include "server/etcdserver/alarms.h"
#include "server/etcdserver/apply_loop.h"
#include "server/etcdserver/auto_compactor.h"
#include "server/etcdserver/data_dir.h"
#include "server/etcdserver/entry_applier.h"
#include "server/etcdserver/identity.h"
#include "server/etcdserver/lease_forwarding.h"
#include "server/etcdserver/membership.h"
#include "server/etcdserver/raft_node.h"
#include "server/etcdserver/read_loop.h"
#include "server/etcdserver/wait_registry.h"
#include "server/lease/lessor.h"
#include "server/watch/watch_hub.h"
#include "server/mvcc/store.h"
#include "server/raft/node_status.h"
#include "server/transport/peer_client.h"
#include "server/transport/peer_service.h"
#include "server/transport/peer_transport.h"
#include "server/wal/wal.h"

namespace cairn::etcdserver {

struct ServerOptions {
  std::string name = "default";
  // Published through the log once a leader exists; MemberList reports them.
  std::vector<std::string> advertise_client_urls;
  DataDir data_dir;
  // This member's peer URLs and the whole initial cluster (name -> peer URLs).
  // Used only when the data dir is new; a restarted member takes its identity from the WAL.
  std::map<std::string, std::vector<std::string>> initial_cluster;
  std::string initial_cluster_token = "etcd-cluster";
  // --initial-cluster-state existing: a new data dir joins a running cluster (which
  // must already list this member, added with MemberAdd) instead of bootstrapping one.
  bool join_existing_cluster = false;
  std::chrono::milliseconds heartbeat_interval{100};
  // --pre-vote: a member that was cut off asks whether it could win before starting an
  // election, so its return does not depose a healthy leader.
  bool pre_vote = true;
  // --initial-election-tick-advance: a restarted member that is the only voter campaigns
  // at once instead of after an election timeout (etcd's default).
  bool initial_election_tick_advance = true;
  std::chrono::milliseconds election_timeout{1000};
  uint64_t max_request_bytes = kDefaultMaxRequestBytes;
  // Applied entries between log compactions: the store is made durable, a snapshot
  // marker is written to the WAL, and older WAL segments and in-memory entries go.
  uint64_t snapshot_count = 100000;
  // Entries kept in memory behind a compaction so a slow follower can catch up from the
  // log; one further behind is sent a snapshot of the store.
  uint64_t snapshot_catchup_entries = 5000;
  wal::Options wal = {.max_files = kDefaultMaxWals};
  // How often the leader persists the remaining TTL of long leases (etcd: 5 minutes).
  std::chrono::seconds lease_checkpoint_interval{300};
  // The clock that decides lease expiry and checkpoints; empty = steady_clock. Tests
  // move it to expire or checkpoint leases without waiting for real time to pass.
  std::function<lease::Clock::time_point()> lease_clock;
  // etcd's --experimental-watch-progress-notify-interval.
  std::chrono::milliseconds watch_progress_notify_interval{std::chrono::minutes(10)};
  int64_t quota_backend_bytes = 0;  // as the flag: see EffectiveQuotaBackendBytes (etcd_limits.h)
  // --grpc-keepalive-min-time: the client server answers a client that pings more often
  // than this (while it has calls open; never without) with GOAWAY "too_many_pings".
  std::chrono::milliseconds grpc_keepalive_min_time{std::chrono::seconds(5)};
  // --grpc-keepalive-interval/--grpc-keepalive-timeout: the client server pings idle
  // connections this often and drops those that do not answer in time.
  std::chrono::milliseconds grpc_keepalive_interval{std::chrono::hours(2)};
  std::chrono::milliseconds grpc_keepalive_timeout{std::chrono::seconds(20)};
  // --auto-compaction-mode/--auto-compaction-retention (auto_compactor.h); zero disables.
  AutoCompactor::Mode auto_compaction_mode = AutoCompactor::Mode::kPeriodic;
  std::chrono::nanoseconds auto_compaction_period{0};
  int64_t auto_compaction_revisions = 0;
  int max_txn_ops = 128;
  // --auth-token (auth/token_provider.h), --auth-token-ttl: how long a simple token
  // lives unused. --bcrypt-cost: for the passwords this member hashes before proposing.
  std::string auth_token = "simple";
  std::chrono::seconds auth_token_ttl{300};
  int bcrypt_cost = 10;
  // TLS for peer connections (dialing https peers) and for the client listener and the
  // connections made to other members' client URLs.
  transport::TlsFiles peer_tls;
  transport::TlsFiles client_tls;
  FileSystem* fs = nullptr;  // not owned; nullptr = the real file system
  // Called once (on an internal thread) when this member learns it was removed from the
  // cluster; the process is expected to shut the member down.
  std::function<void()> on_removed;
};

struct MemberStatus {
  uint64_t member_id = 0;
  uint64_t cluster_id = 0;
  uint64_t leader = 0;
  uint64_t term = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  int64_t db_size = 0;
  int64_t db_size_in_use = 0;
  int64_t quota_bytes = 0;
  bool is_learner = false;
  uint64_t leader_changes = 0;  // leaders seen since start-up
  int64_t revision = 0;
  int64_t compact_revision = 0;
};

class EtcdServer final : public transport::PeerHandler,
                         private ApplyListener,
                         private RaftNodeListener,
                         private MessageSink {
 public:
  static Result<std::unique_ptr<EtcdServer>> Start(ServerOptions options);
  ~EtcdServer() override;
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // Replicates `request`; `done` runs once, on an internal thread, with the applied
  // response or the error: request too large, no leader, timed out, server stopped,
  // or the request's own apply error. `done` must not block.
  void ProposeAsync(cairnpb::RaftRequest request, ApplyCallback done);
  // Blocking form of ProposeAsync.
  ApplyResult Propose(cairnpb::RaftRequest request);

  // `done` runs once this member has applied everything committed before the call
  // (the linearizable read point), or with the error. `done` must not block.
  void ReadBarrierAsync(std::function<void(Status)> done);
  // Blocking form of ReadBarrierAsync.
  Status ReadBarrier();

  // For serializable reads: `done` runs once the store shows every write this member
  // has already answered (read-your-writes on one member; answers may leave before
  // their batch's SQLite commit). No Raft round; usually immediate. Must not block.
  void LocalReadBarrierAsync(std::function<void(Status)> done);
  Status LocalReadBarrier();

  apply::Applier& applier() { return *applier_; }
  lease::Lessor& lessor() { return *lessor_; }
  watch::WatchHub& watch_hub() { return *hub_; }
  // Changed by the apply loop only; checks and queries from any thread.
  const auth::AuthStore& auth_store() const { return auth_store_; }
  auth::TokenProvider& tokens() { return *tokens_; }
  bool IsLeader() const { return node_->IsLeader(); }
  // The leader this member knows of, 0 for none. Cheap (an atomic), unlike GetStatus(),
  // which also asks the store for its size: for per-request and per-stream checks.
  uint64_t Leader() const { return node_->leader(); }
  int64_t CurrentRevision() const { return store_->CurrentRevision(); }
  // etcd's HashKV: a hash of every key revision up to `rev` (0 = current) above the
  // compacted revision, identical on members that applied the same log. Sees every
  // write answered before the call, as a serializable read does.
  Result<mvcc::KvHash> HashKV(int64_t rev);
  // True while a compaction's physical deletion is still running in the background.
  bool CompactionPending() const { return store_->CompactionPending(); }
  const ServerOptions& options() const { return options_; }
  uint64_t member_id() const { return identity_.member_id; }
  uint64_t cluster_id() const { return identity_.cluster_id; }
  uint64_t term() const { return node_->term(); }
  MemberStatus GetStatus() const;
  // The cluster's members as of the last applied entry, sorted by ID.
  std::vector<cairnpb::Member> Members() const { return membership_.List(); }
  // Runs `ready` once this member's name and client URLs, published through the log,
  // are applied here (at once, on the caller's thread, if they already are; else on
  // the thread that hands back applied results; never if that cannot happen, as for a
  // member that never reaches a quorum). etcd logs "ready to serve client requests" then.
  // Must not block.
  void OnPublished(std::function<void()> ready);

  // transport::PeerHandler: messages and questions from other members.
  uint64_t ClusterId() const override { return identity_.cluster_id; }
  Status DeliverFromPeer(raft::Message message) override;
  cairnpb::ClusterInfo GetClusterInfo() const override;
  Result<int64_t> RenewLeaseAsLeader(int64_t id) override;
  Result<etcdserverpb::LeaseTimeToLiveResponse> LeaseTimeToLiveAsLeader(
      const etcdserverpb::LeaseTimeToLiveRequest& request) override;
  std::string SnapshotScratchPath() override;
  Status InstallSnapshot(raft::Message message, const std::string& path) override;
  Result<cairnpb::MemberChangeResponse> ChangeMembershipAsLeader(const cairnpb::MemberChangeRequest& request) override;

  // A membership change a client asked this member for, once the caller is authorized
  // here: carried out here on the leader, else forwarded to the leader's peer API (a
  // simple token or a client certificate would not be accepted there). ErrNoLeader
  // while there is none, ErrLeaderChanged when leadership moved on meanwhile (clients
  // retry both). The answer's membership is the leader's after the change.
  Result<cairnpb::MemberChangeResponse> ChangeMembership(const cairnpb::MemberChangeRequest& request);
  // Membership changes, answered by the leader only (ErrNotLeader elsewhere). Each
  // checks etcd's preconditions against the membership and the leader's view of its
  // followers, proposes one change, and returns once it is applied here.
  Result<cairnpb::Member> AddMember(const std::vector<std::string>& peer_urls, bool is_learner);
  Status RemoveMember(uint64_t id);
  Status UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls);
  Status PromoteMember(uint64_t id);
  // Hands leadership to `target` and waits until it has it. Leader only.
  Status MoveLeader(uint64_t target);
  bool IsLearner() const { return membership_.IsLearner(identity_.member_id); }
  // This process has published its name and client URLs through the log (etcd's
  // "ready to serve client requests"): until then other members list the old ones.
  bool Published() const { return attributes_.load() == Attributes::kPublished; }

  // Lease keep-alive and TTL queries are answered by the leader, whose lessor runs the
  // clocks; a follower forwards them. ErrNoLeader while there is none.
  Result<int64_t> RenewLease(int64_t id);
  Result<etcdserverpb::LeaseTimeToLiveResponse> LeaseTimeToLive(const etcdserverpb::LeaseTimeToLiveRequest& request);
  // Maintenance.Snapshot: a consistent copy of this member's store (a SQLite database,
  // compacted), open for reading and already unlinked, so nothing is left behind.
  struct StoreSnapshot {
    std::ifstream data;
    uint64_t size = 0;
    int64_t revision = 0;  // the store's revision in the snapshot
  };
  Result<StoreSnapshot> SnapshotStore();
  // Maintenance.Defragment: rewrites this member's database without its free pages.
  // Runs on the apply loop between batches (writes wait meanwhile, reads do not) and
  // returns once it is done.
  Status Defragment();

  // Latencies for /metrics: one synced WAL write (the batch's write and fsync), and one
  // backend (SQLite) commit of an applied batch.
  const Histogram& wal_sync_seconds() const { return node_->sync_seconds(); }
  const Histogram& backend_commit_seconds() const { return entry_applier_->backend_commit_seconds(); }

  // The raised alarms (alarms.h), as of the last applied entry.
  std::vector<etcdserverpb::AlarmMember> RaisedAlarms() const { return alarms_.List(); }
  // Writes are refused once the database reached the quota: raises the NOSPACE alarm
  // for this member (once; through the log, like any alarm) and returns etcd's
  // ErrNoSpace, or Ok while there is room and no NOSPACE alarm.
  Status CheckQuota();

  // Database size as of the last applied batch: cheap enough for every request.
  int64_t DbSizeBytes() const { return entry_applier_->db_size(); }
  // The backend quota; 0 when there is none.
  int64_t QuotaBytes() const;

  // Stops the loops, fails outstanding requests with "server stopped", closes files.
  // Idempotent.
  void Stop();

 private:
  explicit EtcdServer(ServerOptions options);
  cairn::Status Open();

  void AutoCompactLoop();
  void CompletionLoop();
  void ExpireOverdue(std::chrono::steady_clock::time_point now);
  void ProposeLeaseMaintenance();
  void ConnectPeers();
  // ApplyListener: what the apply loop reports, on its thread.
  void OnAnswered(std::vector<std::pair<uint64_t, ApplyResult>> results) override;
  void OnConfigurationChanged(std::vector<raft::ConfChange> changes, bool peer_urls_changed) override;
  void OnMemberChangeApplied(uint64_t member_id) override;
  void OnRemoved() override;
  void OnStoreCheckpointed(uint64_t index) override;
  void OnApplied(uint64_t index) override;
  // RaftNodeListener: what the Raft node reports, on its thread.
  void OnLeaderChanged(uint64_t previous, uint64_t leader) override;
  void OnTick(std::chrono::steady_clock::time_point now) override;
  bool NeedsReadIndex() const override { return reads_->NeedsRound(); }
  void IssueReadIndex(std::chrono::steady_clock::time_point now,
                      const std::function<void(std::string ctx)>& read_index) override {
    reads_->IssueRound(now, read_index);
  }
  void OnReadState(const raft::ReadState& read_state) override;
  void OnCommitted(std::vector<raft::Entry> entries) override { apply_loop_->Enqueue(std::move(entries)); }
  void OnProposalFailed(uint64_t id, const Status& status) override { waits_.Trigger(id, ApplyResult(status)); }
  void OnConfChangeFailed(const raft::ConfChange& cc, const Status& status) override {
    FinishConfChange(cc.node_id, status);
  }
  // MessageSink: the Raft node's messages, on its thread, go to the peer transport;
  // snapshots to a sender thread each (snapshot.cc).
  void Send(std::vector<raft::Message> messages) override { transport_->Send(messages); }
  void SendSnapshot(const raft::Message& snapshot) override;
  void RefreshPeers() override { ConnectPeers(); }
  void PublishAttributes();
  // Snapshots (snapshot.cc): the leader's sender threads and the follower's install.
  std::string SnapshotDir() const { return options_.data_dir.SnapDir(); }
  Status ProposeConfChangeAndWait(raft::ConfChange cc);
  void FinishConfChange(uint64_t id, const Status& status);
  // Voters this leader heard from within an election timeout or two (itself included).
  size_t ActiveVoters(const std::vector<uint64_t>& voters) const;
  // The leader as lease forwarding and forwarded membership changes need it, or ErrNoLeader.
  Result<LeaseForwarding::Leader> LeaseLeader() const;
  std::chrono::steady_clock::duration RequestTimeout() const;

  ServerOptions options_;
  FileSystem* fs_ = nullptr;
  std::unique_ptr<FileLock> lock_;
  MemberIdentity identity_;

  Membership membership_;  // written by the apply loop only
  Alarms alarms_;          // written by the apply loop only
  auth::AuthStore auth_store_;  // written by the apply loop only
  std::unique_ptr<auth::TokenProvider> tokens_;  // set by Open()
  transport::PeerClient peer_client_;
  PeerLeaseClient peer_lease_client_{&peer_client_};
  std::unique_ptr<LeaseForwarding> lease_forwarding_;  // set by Open()

  // Used by the Raft node's thread only after Start() (the node's persistence and sink).
  std::unique_ptr<transport::PeerTransport> transport_;
  std::unique_ptr<WalPersistence> wal_;
  // Set by Open(); started by Start().
  std::unique_ptr<RaftNode> node_;

  // Written by the apply loop thread only after Start() (reads go through the applier).
  std::unique_ptr<mvcc::Store> store_;
  std::unique_ptr<lease::Lessor> lessor_;
  std::unique_ptr<apply::Applier> applier_;
  // Fed by the apply loop after each commit; destroyed before the store it reads.
  std::unique_ptr<watch::WatchHub> hub_;
  std::unique_ptr<EntryApplier> entry_applier_;
  std::unique_ptr<ApplyLoop> apply_loop_;
  // Set by Open() after entry_applier_, whose applied index it waits on.
  std::unique_ptr<ReadLoop> reads_;

  WaitRegistry waits_;
  std::atomic<uint64_t> next_request_id_{1};

  // The Raft node's thread only (SendSnapshot), then Stop() once the node stopped.
  std::map<uint64_t, std::thread> snapshot_senders_;
  std::atomic<bool> cancel_snapshot_sends_{false};

  // Membership changes waiting to be applied, by member ID.
  std::mutex conf_wait_mu_;
  std::multimap<uint64_t, std::function<void(Status)>> conf_waiters_;  // guarded by conf_wait_mu_

  // When each peer was last heard from (for membership checks).
  mutable std::mutex heard_mu_;
  std::map<uint64_t, std::chrono::steady_clock::time_point> last_heard_;  // guarded by heard_mu_

  std::atomic<uint64_t> next_client_snapshot_{0};
  std::atomic<bool> raising_nospace_{false};  // a NOSPACE alarm proposal is in flight

  // Applied results on their way back to the RPCs: completing a gRPC call costs tens of
  // microseconds, so it happens here rather than on the apply loop.
  std::mutex completion_mu_;
  std::condition_variable completion_cv_;
  std::vector<std::pair<uint64_t, ApplyResult>> completions_;  // guarded by completion_mu_
  bool completion_stopping_ = false;                           // guarded by completion_mu_

  // Whether this member's client URLs have been published through the log; it becomes
  // kPublished, and on_published_ is taken, under published_mu_.
  enum class Attributes { kUnpublished, kPublishing, kPublished };
  std::atomic<Attributes> attributes_{Attributes::kUnpublished};
  std::mutex published_mu_;
  std::vector<std::function<void()>> on_published_;  // guarded by published_mu_

  std::atomic<bool> removed_{false};

  // The auto-compaction driver (AutoCompactLoop): its policy lives on that thread.
  std::mutex compactor_mu_;
  std::condition_variable compactor_cv_;
  bool compactor_stopping_ = false;          // guarded by compactor_mu_
  bool compaction_in_flight_ = false;        // guarded by compactor_mu_
  std::optional<int64_t> compaction_done_;   // guarded by compactor_mu_: succeeded, not yet told to the policy
  std::thread compactor_thread_;

  std::thread completion_thread_;
  std::once_flag stop_once_;
};

}  // namespace cairn::etcdserver
