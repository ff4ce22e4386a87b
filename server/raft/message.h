// Message: the unit of communication between Raft peers and from the application.
//
// Local messages (MsgHup, MsgBeat, MsgUnreachable, MsgSnapStatus, MsgCheckQuorum) never
// travel over the network; everything else may. A message with term 0 is "local" to the
// receiver's Step (proposals and read requests forwarded by followers carry term 0 so the
// leader handles them regardless of term). Thread-safety: value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/raft/types.h"

namespace cairn::raft {

// The numeric values are part of the wire format (codec.h): append only.
enum class MessageType : uint8_t {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
};
inline constexpr uint8_t kMaxMessageType = 18;

struct Message {
  MessageType type = MessageType::MsgHup;
  NodeId to = kNoNode;
  NodeId from = kNoNode;
  Term term = 0;
  Term log_term = 0;  // MsgApp: term of entry `index`; reject MsgAppResp: term at reject_hint.
  Index index = 0;
  std::vector<Entry> entries;
  Index commit = 0;
  Snapshot snapshot;
  bool reject = false;
  Index reject_hint = 0;
  std::string context;  // Read-index request context; "CampaignTransfer" on forced votes.

  bool operator==(const Message&) const = default;
};

// Context carried by votes triggered by a leader transfer: such votes bypass the leader lease.
inline constexpr const char* kCampaignTransfer = "CampaignTransfer";

bool IsLocalMsg(MessageType t);
bool IsResponseMsg(MessageType t);
// The response type matching a vote or pre-vote request.
MessageType VoteRespMsgType(MessageType t);

}  // namespace cairn::raft
