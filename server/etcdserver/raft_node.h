// RaftNode: the member's Raft node (etcd's raftNode in raft.go). It owns the RawNode,
// the in-memory log, the thread that runs the Ready loop, and the queues through which
// every other thread reaches Raft. It talks to the rest of the member through three
// narrow seams, so a test can run it against fakes:
//   RaftPersistence  where a Ready's entries, hard state and snapshot markers become
//                    durable (the WAL in production: WalPersistence);
//   MessageSink      where outbound messages go (the peer transport and the snapshot
//                    senders in production);
//   RaftNodeListener what the node reports on its thread: committed entries, read
//                    states, leader changes, ticks, proposals it could not make.
//
// Order of one Ready (HandleReady), Raft thesis §10.2.1:
//   1. a leader's MsgApp and MsgHeartbeat are sent (raft::CanSendBeforePersist): they
//      promise nothing about this member's disk, and the leader counts its own copy
//      toward commitment only once step 4 reports it persisted, so followers write
//      their copies while the leader writes its own;
//   2. the snapshot marker, entries and hard state are persisted, synced when
//      must_sync; a failed write aborts (acknowledging it would lie);
//   3. every other message is sent: votes and append acknowledgements promise what is
//      now on disk; read states go to the listener;
//   4. Advance(): Raft takes the entries as persisted and the committed ones as handed on;
//   5. the committed entries go to the listener, in order. Each is already durable
//      here (step 2 of this or an earlier Ready) and on a majority, so applying it
//      after Advance, on another thread, loses nothing a crash could take back.
// Group commit: proposals queued while a Ready is being persisted are proposed together
// on the next pass of the loop, so they share that Ready's one sync.
// Ticks: every Options::tick_interval of real time; with a zero interval only when
// Tick() asks (tests drive elections and heartbeats deterministically that way).
//
// Thread-safety: Start/Stop from the owner; every other public method may be called
// from any thread (they queue work for the loop under mu_ and wake it). Only the loop's
// thread touches the RawNode, the in-memory log and the persistence, and calls the
// sink and the listener, never with mu_ held, so they may call back into the node.
// Invariant: no entry reaches the listener as committed before the persistence reported
// it durable, and no message other than MsgApp/MsgHeartbeat leaves before the Ready
// that produced it is durable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/common/histogram.h"
#include "server/common/status.h"
#include "server/raft/conf_change.h"
#include "server/raft/config.h"
#include "server/raft/memory_storage.h"
#include "server/raft/node_status.h"
#include "server/raft/raw_node.h"
#include "server/raft/types.h"
#include "server/wal/wal.h"

namespace cairn::etcdserver {

// Where Raft's durable state goes (etcd's etcdserver Storage). Called on the node's
// thread only. A failed call is fatal to the node: the state on disk is then unknown.
class RaftPersistence {
 public:
  virtual ~RaftPersistence() = default;
  // Appends `entries` (overwriting a conflicting tail), then `hs` if !hs.empty();
  // durable on return when `sync`, else at the latest with the next synced call.
  [[nodiscard]] virtual Status Save(const raft::HardState& hs, const std::vector<raft::Entry>& entries,
                                    bool sync) = 0;
  // Records that a snapshot covers the log through `md.index`; durable on return.
  [[nodiscard]] virtual Status SaveSnapshot(const raft::SnapshotMetadata& md) = 0;
  // The state through `index` is durable elsewhere (the store): what only covers it
  // may go. REQUIRES: a snapshot marker at `index` was saved.
  [[nodiscard]] virtual Status ReleaseTo(raft::Index index) = 0;
};

// RaftPersistence over the member's WAL (wal.h: one write and at most one fdatasync
// per Save).
class WalPersistence final : public RaftPersistence {
 public:
  explicit WalPersistence(std::unique_ptr<wal::Wal> wal) : wal_(std::move(wal)) {}
  [[nodiscard]] Status Save(const raft::HardState& hs, const std::vector<raft::Entry>& entries, bool sync) override {
    return wal_->Save(hs, entries, sync);
  }
  [[nodiscard]] Status SaveSnapshot(const raft::SnapshotMetadata& md) override { return wal_->SaveSnapshot(md); }
  [[nodiscard]] Status ReleaseTo(raft::Index index) override;

 private:
  const std::unique_ptr<wal::Wal> wal_;
};

// Where the node's outbound messages go. Called on the node's thread only; must not block.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // Messages for peers, never MsgSnap, in the order Raft produced them.
  virtual void Send(std::vector<raft::Message> messages) = 0;
  // A MsgSnap Raft wants sent (its metadata is Raft's; the sink sends its own snapshot
  // of the store). The sink reports the outcome with RaftNode::ReportSnapshot; until
  // then the node hands it no other snapshot for the same peer.
  virtual void SendSnapshot(const raft::Message& snapshot) = 0;
  // The membership or a member's peer URLs changed: the sink re-reads who its peers are.
  virtual void RefreshPeers() = 0;
};

// What the node reports, on its thread, never with the node's lock held. The calls may
// call the node's public methods; they must not block.
class RaftNodeListener {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~RaftNodeListener() = default;
  // The leader this member knows of changed (raft::kNoNode: none).
  virtual void OnLeaderChanged(uint64_t previous, uint64_t leader) = 0;
  // After a tick of Raft's logical clock, at `now`.
  virtual void OnTick(Clock::time_point now) = 0;
  // Whether the listener wants a ReadIndex round now. Called with the node's lock held
  // (so RaftNode::WakeForReads cannot fall between the check and the wait): it must
  // not call into the node.
  virtual bool NeedsReadIndex() const = 0;
  // Every pass of the loop: the listener calls `read_index` with the context of each
  // ReadIndex round it wants started (RawNode::ReadIndex).
  virtual void IssueReadIndex(Clock::time_point now, const std::function<void(std::string ctx)>& read_index) = 0;
  // The answer to a ReadIndex round.
  virtual void OnReadState(const raft::ReadState& read_state) = 0;
  // Committed entries, in log order across calls, each durable here and on a majority.
  virtual void OnCommitted(std::vector<raft::Entry> entries) = 0;
  // A proposal that will not be made: ErrTimeout (its deadline passed while no leader
  // was known) or ErrNoLeader (dropped by Raft).
  virtual void OnProposalFailed(uint64_t id, const Status& status) = 0;
  // A conf change Raft dropped (no leader, or another change still pending).
  virtual void OnConfChangeFailed(const raft::ConfChange& cc, const Status& status) = 0;
};

class RaftNode {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    // config.storage is ignored: the node's own in-memory log takes its place.
    raft::Config config;
    // How often Raft ticks; zero: only when Tick() asks.
    std::chrono::milliseconds tick_interval{100};
    // A proposal made while no leader is known is held (and proposed once one is)
    // until this long after it was queued.
    Clock::duration proposal_timeout = std::chrono::seconds(7);
    // etcd's initial election tick advance, for a lone voter: campaign when the loop
    // starts rather than after an election timeout (a restarted single member serves
    // one to two seconds sooner). Only when the voters the log starts with are final:
    // no conf change above its snapshot is still to be replayed.
    bool campaign_at_start = false;
    // The same once conf changes (a replayed membership, or a bootstrap) leave this node
    // the only voter. Both off: --initial-election-tick-advance=false, where even a lone
    // voter waits out an election timeout.
    bool campaign_when_alone = true;
    // Entries kept in memory behind a log compaction, so a slow follower can catch up
    // from the log; one further behind is sent a snapshot.
    uint64_t snapshot_catchup_entries = 5000;
  };
  struct Parts {
    RaftPersistence* persistence = nullptr;
    MessageSink* sink = nullptr;
    RaftNodeListener* listener = nullptr;
    // The index this member has applied (read with acquire ordering): a lone voter
    // campaigns only once it applied every committed entry.
    const std::atomic<uint64_t>* applied = nullptr;
  };

  // `log` holds what the persistence recovered (entries, hard state, snapshot); the
  // voters as of its snapshot are what the next compaction's marker starts from (conf
  // changes above it are applied as Raft re-delivers them).
  // REQUIRES: every part is set and outlives the node. The RawNode's error for a bad
  // config or an unreadable log.
  [[nodiscard]] static Result<std::unique_ptr<RaftNode>> Create(Options options, Parts parts,
                                                                std::unique_ptr<raft::MemoryStorage> log);
  ~RaftNode();
  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;

  // Starts the loop's thread. REQUIRES: called once.
  void Start();
  // Ends the loop and joins its thread; queued work is dropped (the owner fails what
  // waits on it). Idempotent.
  void Stop();

  // Queues a proposal; the listener learns of it only if it fails (OnProposalFailed),
  // else it comes back through OnCommitted. ErrStopped once Stop() began.
  [[nodiscard]] Status Propose(uint64_t id, std::string data);
  [[nodiscard]] Status ProposeConfChange(raft::ConfChange cc);
  // A message from a peer. Dropped (Raft recovers) while the loop has too many queued.
  void Step(raft::Message message);
  void ReportUnreachable(uint64_t peer);
  // The outcome of a MessageSink::SendSnapshot.
  void ReportSnapshot(uint64_t peer, bool ok);
  [[nodiscard]] Status TransferLeadership(uint64_t target);
  // Committed conf changes, now applied to the membership (in log order across calls);
  // `peer_urls_changed` when some member's peer URLs changed.
  void ApplyConfChanges(std::vector<raft::ConfChange> changes, bool peer_urls_changed);
  // The store is durable through `index`: a snapshot marker is persisted there and the
  // log behind it released (keeping Options::snapshot_catchup_entries in memory).
  void CompactLog(uint64_t index);
  // One tick of Raft's logical clock, on the loop's thread.
  void Tick();
  // Makes the loop ask RaftNodeListener::NeedsReadIndex again.
  void WakeForReads();

  uint64_t id() const { return id_; }
  uint64_t leader() const { return leader_.load(); }
  bool IsLeader() const { return leader() == id_; }
  uint64_t term() const { return term_.load(std::memory_order_relaxed); }
  uint64_t commit_index() const { return commit_index_.load(); }
  // Leaders seen since start-up (etcd's etcd_server_leader_changes_seen_total).
  uint64_t leader_changes() const { return leader_changes_.load(); }
  // The leader's view of its followers, as of this member's last tick as leader.
  std::map<uint64_t, raft::PeerProgress> Progress() const;
  // One synced Save: the write and its sync.
  const Histogram& sync_seconds() const { return sync_seconds_; }

 private:
  // Work queued for the loop by other threads.
  struct Inbox {
    std::vector<std::pair<uint64_t, std::string>> proposals;
    std::vector<raft::Message> from_peers;
    std::vector<uint64_t> unreachable;
    std::vector<raft::ConfChange> conf_change_proposals;
    std::vector<std::pair<uint64_t, bool>> snapshot_reports;
    uint64_t transfer_to = 0;
    std::vector<raft::ConfChange> conf_changes;
    bool peer_urls_changed = false;
    uint64_t compact_to = 0;
    int ticks = 0;
    bool HasWork() const;
  };
  struct HeldProposal {
    uint64_t id;
    std::string data;
    Clock::time_point deadline;
  };

  RaftNode(Options options, Parts parts, std::unique_ptr<raft::MemoryStorage> log,
           std::unique_ptr<raft::RawNode> raw);
  // Queues work with `add` (called with mu_ held) and wakes the loop; ErrStopped once
  // Stop() began.
  template <typename Add>
  Status Enqueue(Add&& add);
  void Run();
  // One pass of the loop over what was queued, at `now`.
  void Process(Inbox inbox, Clock::time_point now);
  void HandleReady(raft::Ready ready);
  void SendMessages(std::vector<raft::Message> messages);
  void ProposeOrHold(std::vector<HeldProposal> proposals, Clock::time_point now);
  void Compact(uint64_t index);

  const Options options_;
  const Parts parts_;
  const uint64_t id_;

  // The loop's thread only, after Start().
  const std::unique_ptr<raft::MemoryStorage> log_;
  const std::unique_ptr<raft::RawNode> raw_;
  raft::ConfState conf_state_;
  std::vector<HeldProposal> held_proposals_;
  std::set<uint64_t> snapshots_in_flight_;  // peers whose MsgSnap the sink is sending

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Inbox inbox_;            // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;

  mutable std::mutex progress_mu_;
  std::map<uint64_t, raft::PeerProgress> progress_;  // guarded by progress_mu_

  std::atomic<uint64_t> leader_{raft::kNoNode};
  std::atomic<uint64_t> term_{0};
  std::atomic<uint64_t> commit_index_{0};
  std::atomic<uint64_t> leader_changes_{0};
  // etcd's buckets: 1 ms to 8 s.
  Histogram sync_seconds_{Histogram::ExponentialBounds(0.001, 2, 14)};
};

}  // namespace cairn::etcdserver
