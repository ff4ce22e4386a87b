// Raft: the consensus state machine of one node (election, replication, membership,
// leader transfer, read index). Pure: no I/O, clocks or threads; time advances by Tick(),
// input arrives through Step(), output accumulates in msgs_/read_states_ and the log's
// unstable part, and is drained by RawNode.
//
// Internal to server/raft; applications use RawNode. Thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "server/raft/config.h"
#include "server/raft/conf_change.h"
#include "server/raft/message.h"
#include "server/raft/node_status.h"
#include "server/raft/prng.h"
#include "server/raft/raft_log.h"
#include "server/raft/read_only.h"
#include "server/raft/ready.h"
#include "server/raft/tracker.h"

namespace cairn::raft {

class Raft {
 public:
  // REQUIRES: config was validated (see RawNode::Create) and its storage is readable.
  static Result<std::unique_ptr<Raft>> Create(const Config& c);

  void Tick();
  // The application persisted the log up to (index, term) (RawNode::Advance).
  void OnEntriesPersisted(Index index, Term term);
  Status Step(Message m);
  ConfState ApplyConfChange(const ConfChange& cc);

  SoftState GetSoftState() const { return SoftState{lead_, role_}; }
  HardState GetHardState() const { return HardState{term_, vote_, log_.committed()}; }
  NodeStatus GetStatus() const;

  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  std::vector<Message>& msgs() { return msgs_; }
  std::vector<ReadState>& read_states() { return read_states_; }
  NodeId id() const { return id_; }
  Term term() const { return term_; }
  Role role() const { return role_; }
  NodeId lead() const { return lead_; }
  const ProgressTracker& tracker() const { return tracker_; }
  // Whether this node may campaign: it is a voter in its own configuration.
  bool Promotable() const { return tracker_.IsVoter(id_); }

 private:
  enum class CampaignType { kPreElection, kElection, kTransfer };

  explicit Raft(const Config& c);

  void Send(Message m);
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  void SendAppend(NodeId to) { MaybeSendAppend(to, true); }
  void SendHeartbeat(NodeId to, const std::string& ctx);
  void BcastAppend();
  // The last log index known to be on disk (unstable entries are not).
  Index LastPersistedIndex() const;
  void BcastHeartbeat();
  void BcastHeartbeatWithCtx(const std::string& ctx);
  void SendTimeoutNow(NodeId to);

  void Reset(Term term);
  void BecomeFollower(Term term, NodeId lead);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();
  void ResetRandomizedElectionTimeout();
  bool PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }

  void TickElection();
  void TickHeartbeat();
  void Hup(CampaignType t);
  void Campaign(CampaignType t);
  VoteResult Poll(NodeId id, bool granted);

  void AppendEntry(std::vector<Entry> es);
  bool MaybeCommit();
  bool CommittedEntryInCurrentTerm() const;
  void ReleasePendingReadIndexMessages();
  void SendReadIndexResponse(const Message& req, Index index);
  void AbortLeaderTransfer() { lead_transferee_ = kNoNode; }

  Status StepLeader(Message& m);
  Status StepCandidate(Message& m);
  Status StepFollower(Message& m);
  void HandleAppendEntries(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  bool Restore(const Snapshot& s);
  void LoadConfState(const ConfState& cs);
  void LoadState(const HardState& hs);

  NodeId id_;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  RaftLog log_;
  uint64_t max_msg_size_;
  ProgressTracker tracker_;
  Role role_ = Role::kFollower;
  NodeId lead_ = kNoNode;
  NodeId lead_transferee_ = kNoNode;
  // Index of the newest conf change proposed by this leader; another may be proposed only
  // once it is applied.
  Index pending_conf_index_ = 0;
  ReadOnly read_only_;
  std::vector<ReadState> read_states_;
  std::vector<Message> pending_read_index_messages_;
  std::vector<Message> msgs_;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  bool check_quorum_;
  bool pre_vote_;
  bool leader_persists_in_parallel_;
  int heartbeat_timeout_;
  int election_timeout_;
  int randomized_election_timeout_ = 0;
  Prng rng_;
};

}  // namespace cairn::raft
