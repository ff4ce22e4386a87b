#include "server/raft/to_string.h"

#include <sstream>

namespace cairn::raft {

namespace {

std::string Ids(const std::vector<NodeId>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) s += " ";
    s += std::to_string(ids[i]);
  }
  return s + "]";
}

// Data is opaque and may be binary: show printable bytes, escape the rest, cap the length.
std::string Quote(const std::string& data) {
  constexpr size_t kMax = 32;
  std::string s = "\"";
  for (size_t i = 0; i < data.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      s += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      s += "\\x";
      s += kHex[c >> 4];
      s += kHex[c & 0xf];
    }
  }
  if (data.size() > kMax) s += "...(" + std::to_string(data.size()) + " bytes)";
  return s + "\"";
}

}  // namespace

std::string ToString(MessageType t) {
  static const char* const kNames[] = {
      "MsgHup",          "MsgBeat",         "MsgProp",          "MsgApp",        "MsgAppResp",
      "MsgVote",         "MsgVoteResp",     "MsgSnap",          "MsgHeartbeat",  "MsgHeartbeatResp",
      "MsgUnreachable",  "MsgSnapStatus",   "MsgCheckQuorum",   "MsgTransferLeader",
      "MsgTimeoutNow",   "MsgReadIndex",    "MsgReadIndexResp", "MsgPreVote",    "MsgPreVoteResp"};
  const auto i = static_cast<size_t>(t);
  return i <= kMaxMessageType ? kNames[i] : "MsgUnknown(" + std::to_string(i) + ")";
}

std::string ToString(EntryType t) {
  switch (t) {
    case EntryType::kNormal:
      return "Normal";
    case EntryType::kConfChange:
      return "ConfChange";
  }
  return "EntryType(" + std::to_string(static_cast<int>(t)) + ")";
}

std::string ToString(ConfChangeType t) {
  switch (t) {
    case ConfChangeType::kAddNode:
      return "AddNode";
    case ConfChangeType::kAddLearnerNode:
      return "AddLearnerNode";
    case ConfChangeType::kRemoveNode:
      return "RemoveNode";
  }
  return "ConfChangeType(" + std::to_string(static_cast<int>(t)) + ")";
}

std::string ToString(Role r) {
  switch (r) {
    case Role::kFollower:
      return "Follower";
    case Role::kCandidate:
      return "Candidate";
    case Role::kLeader:
      return "Leader";
    case Role::kPreCandidate:
      return "PreCandidate";
  }
  return "Role(" + std::to_string(static_cast<int>(r)) + ")";
}

std::string ToString(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe:
      return "Probe";
    case ProgressState::kReplicate:
      return "Replicate";
    case ProgressState::kSnapshot:
      return "Snapshot";
  }
  return "ProgressState(" + std::to_string(static_cast<int>(s)) + ")";
}

std::string ToString(const Entry& e) {
  std::string s = std::to_string(e.term) + "/" + std::to_string(e.index) + " " + ToString(e.type);
  return s + " " + Quote(e.data);
}

std::string ToString(const HardState& hs) {
  return "Term:" + std::to_string(hs.term) + " Vote:" + std::to_string(hs.vote) +
         " Commit:" + std::to_string(hs.commit);
}

std::string ToString(const ConfState& cs) {
  return "Voters:" + Ids(cs.voters) + " Learners:" + Ids(cs.learners);
}

std::string ToString(const SnapshotMetadata& md) {
  return "Index:" + std::to_string(md.index) + " Term:" + std::to_string(md.term) + " " +
         ToString(md.conf_state);
}

std::string ToString(const Snapshot& s) {
  return "{" + ToString(s.metadata) + " Data:" + std::to_string(s.data.size()) + " bytes}";
}

std::string ToString(const Message& m) {
  std::string s = std::to_string(m.from) + "->" + std::to_string(m.to) + " " + ToString(m.type) +
                  " Term:" + std::to_string(m.term) + " Log:" + std::to_string(m.log_term) + "/" +
                  std::to_string(m.index);
  if (m.reject) s += " Rejected (Hint: " + std::to_string(m.reject_hint) + ")";
  if (m.commit != 0) s += " Commit:" + std::to_string(m.commit);
  if (!m.entries.empty()) {
    s += " Entries:[";
    for (size_t i = 0; i < m.entries.size(); ++i) {
      if (i > 0) s += ", ";
      s += ToString(m.entries[i]);
    }
    s += "]";
  }
  if (!m.snapshot.empty()) s += " Snapshot:" + ToString(m.snapshot);
  if (!m.context.empty()) s += " Context:" + Quote(m.context);
  return s;
}

std::string ToString(const ConfChange& cc) {
  std::string s = ToString(cc.type) + " " + std::to_string(cc.node_id);
  if (!cc.context.empty()) s += " Context:" + Quote(cc.context);
  return s;
}

std::string ToString(const SoftState& ss) {
  return "Lead:" + std::to_string(ss.lead) + " State:" + ToString(ss.role);
}

std::string ToString(const ReadState& rs) {
  return "Index:" + std::to_string(rs.index) + " Ctx:" + Quote(rs.request_ctx);
}

std::string ToString(const Ready& rd) {
  std::ostringstream os;
  os << "Ready{";
  if (rd.soft_state) os << "\n  SoftState: " << ToString(*rd.soft_state);
  if (!rd.hard_state.empty()) os << "\n  HardState: " << ToString(rd.hard_state);
  for (const ReadState& rs : rd.read_states) os << "\n  ReadState: " << ToString(rs);
  for (const Entry& e : rd.entries) os << "\n  Entry: " << ToString(e);
  if (!rd.snapshot.empty()) os << "\n  Snapshot: " << ToString(rd.snapshot);
  for (const Entry& e : rd.committed_entries) os << "\n  Committed: " << ToString(e);
  for (const Message& m : rd.messages) os << "\n  Message: " << ToString(m);
  if (rd.must_sync) os << "\n  MustSync";
  os << "\n}";
  return os.str();
}

std::string ToString(const NodeStatus& st) {
  std::ostringstream os;
  os << "id:" << st.id << " term:" << st.term << " vote:" << st.vote << " commit:" << st.commit
     << " applied:" << st.applied << " lead:" << st.lead << " role:" << ToString(st.role);
  if (st.lead_transferee != kNoNode) os << " transferee:" << st.lead_transferee;
  for (const auto& [id, pr] : st.progress) {
    os << "\n  " << id << ": match=" << pr.match << " next=" << pr.next << " "
       << ToString(pr.state) << (pr.is_learner ? " learner" : "");
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, MessageType t) { return os << ToString(t); }
std::ostream& operator<<(std::ostream& os, Role r) { return os << ToString(r); }
std::ostream& operator<<(std::ostream& os, ProgressState s) { return os << ToString(s); }
std::ostream& operator<<(std::ostream& os, const Entry& e) { return os << ToString(e); }
std::ostream& operator<<(std::ostream& os, const HardState& hs) { return os << ToString(hs); }
std::ostream& operator<<(std::ostream& os, const ConfState& cs) { return os << ToString(cs); }
std::ostream& operator<<(std::ostream& os, const SnapshotMetadata& md) { return os << ToString(md); }
std::ostream& operator<<(std::ostream& os, const Snapshot& s) { return os << ToString(s); }
std::ostream& operator<<(std::ostream& os, const Message& m) { return os << ToString(m); }
std::ostream& operator<<(std::ostream& os, const ConfChange& cc) { return os << ToString(cc); }
std::ostream& operator<<(std::ostream& os, const SoftState& ss) { return os << ToString(ss); }
std::ostream& operator<<(std::ostream& os, const ReadState& rs) { return os << ToString(rs); }

}  // namespace cairn::raft
