// Stable, human-readable text forms of Raft values, for logs, traces and test failures.
// The format is meant for people (and golden tests), not for parsing.
// operator<< overloads make GoogleTest print these values. Thread-safety: pure functions.
#pragma once

#include <ostream>
#include <string>

#include "server/raft/conf_change.h"
#include "server/raft/message.h"
#include "server/raft/node_status.h"
#include "server/raft/progress.h"
#include "server/raft/ready.h"
#include "server/raft/types.h"

namespace cairn::raft {

std::string ToString(MessageType t);
std::string ToString(EntryType t);
std::string ToString(ConfChangeType t);
std::string ToString(Role r);
std::string ToString(ProgressState s);
std::string ToString(const Entry& e);
std::string ToString(const HardState& hs);
std::string ToString(const ConfState& cs);
std::string ToString(const SnapshotMetadata& md);
std::string ToString(const Snapshot& s);
std::string ToString(const Message& m);
std::string ToString(const ConfChange& cc);
std::string ToString(const SoftState& ss);
std::string ToString(const ReadState& rs);
std::string ToString(const Ready& rd);
std::string ToString(const NodeStatus& st);

std::ostream& operator<<(std::ostream& os, MessageType t);
std::ostream& operator<<(std::ostream& os, Role r);
std::ostream& operator<<(std::ostream& os, ProgressState s);
std::ostream& operator<<(std::ostream& os, const Entry& e);
std::ostream& operator<<(std::ostream& os, const HardState& hs);
std::ostream& operator<<(std::ostream& os, const ConfState& cs);
std::ostream& operator<<(std::ostream& os, const SnapshotMetadata& md);
std::ostream& operator<<(std::ostream& os, const Snapshot& s);
std::ostream& operator<<(std::ostream& os, const Message& m);
std::ostream& operator<<(std::ostream& os, const ConfChange& cc);
std::ostream& operator<<(std::ostream& os, const SoftState& ss);
std::ostream& operator<<(std::ostream& os, const ReadState& rs);

}  // namespace cairn::raft
