// Binary codec for Raft values that travel over the peer transport or live in the WAL.
//
// Format (version 1): one version byte, one kind byte, then the fields in declaration
// order; integers are unsigned LEB128 varints, strings and lists are length-prefixed.
// Decoders take untrusted bytes: any malformed, truncated or trailing input yields an
// error Status (DataLoss, "corruption: ..."), never undefined behaviour. The numeric
// values of kinds and enums are frozen; new fields go in a new version.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "server/common/status.h"
#include "server/raft/conf_change.h"
#include "server/raft/message.h"
#include "server/raft/types.h"

namespace cairn::raft {

inline constexpr uint8_t kCodecVersion = 1;

std::string EncodeMessage(const Message& m);
Result<Message> DecodeMessage(std::string_view bytes);

std::string EncodeConfChange(const ConfChange& cc);
Result<ConfChange> DecodeConfChange(std::string_view bytes);

std::string EncodeHardState(const HardState& hs);
Result<HardState> DecodeHardState(std::string_view bytes);

std::string EncodeConfState(const ConfState& cs);
Result<ConfState> DecodeConfState(std::string_view bytes);

std::string EncodeSnapshotMetadata(const SnapshotMetadata& md);
Result<SnapshotMetadata> DecodeSnapshotMetadata(std::string_view bytes);

std::string EncodeEntry(const Entry& e);
Result<Entry> DecodeEntry(std::string_view bytes);

}  // namespace cairn::raft
