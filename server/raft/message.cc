#include "server/raft/message.h"

namespace cairn::raft {

bool IsLocalMsg(MessageType t) {
  return t == MessageType::MsgHup || t == MessageType::MsgBeat ||
         t == MessageType::MsgUnreachable || t == MessageType::MsgSnapStatus ||
         t == MessageType::MsgCheckQuorum;
}

bool IsResponseMsg(MessageType t) {
  return t == MessageType::MsgAppResp || t == MessageType::MsgVoteResp ||
         t == MessageType::MsgHeartbeatResp || t == MessageType::MsgUnreachable ||
         t == MessageType::MsgPreVoteResp;
}

MessageType VoteRespMsgType(MessageType t) {
  return t == MessageType::MsgVote ? MessageType::MsgVoteResp : MessageType::MsgPreVoteResp;
}

}  // namespace cairn::raft
