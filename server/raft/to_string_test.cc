// Text forms are stable: golden strings for the values most often seen in failures.
#include "server/raft/to_string.h"

#include <gtest/gtest.h>

namespace cairn::raft {
namespace {

TEST(ToStringTest, Golden) {
  Message m;
  m.type = MessageType::MsgApp;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.log_term = 2;
  m.index = 7;
  m.commit = 6;
  m.entries = {Entry{3, 8, EntryType::kNormal, "put\x01"}};
  EXPECT_EQ(ToString(m), "1->2 MsgApp Term:3 Log:2/7 Commit:6 Entries:[3/8 Normal \"put\\x01\"]");
  m = Message{};
  m.type = MessageType::MsgAppResp;
  m.reject = true;
  m.reject_hint = 4;
  EXPECT_EQ(ToString(m), "0->0 MsgAppResp Term:0 Log:0/0 Rejected (Hint: 4)");
  EXPECT_EQ(ToString(HardState{1, 2, 3}), "Term:1 Vote:2 Commit:3");
  EXPECT_EQ(ToString(ConfState{{1, 2}, {3}}), "Voters:[1 2] Learners:[3]");
  EXPECT_EQ(ToString(ConfChange{ConfChangeType::kAddLearnerNode, 4, ""}), "AddLearnerNode 4");
  EXPECT_EQ(ToString(Role::kPreCandidate), "PreCandidate");
  EXPECT_EQ(ToString(static_cast<MessageType>(99)), "MsgUnknown(99)");
  EXPECT_EQ(ToString(Entry{1, 1, EntryType::kNormal, std::string(40, 'a')}),
            "1/1 Normal \"" + std::string(32, 'a') + "...(40 bytes)\"");
}

}  // namespace
}  // namespace cairn::raft
