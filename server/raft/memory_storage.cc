#include "server/raft/memory_storage.h"

#include <string>

#include "server/raft/codec.h"
#include "server/raft/conf_change.h"
#include "server/raft/errors.h"

namespace cairn::raft {

void LimitSize(std::vector<Entry>& ents, uint64_t max_bytes) {
  if (ents.empty()) return;
  uint64_t size = EntrySize(ents[0]);
  size_t keep = 1;
  while (keep < ents.size()) {
    size += EntrySize(ents[keep]);
    if (size > max_bytes) break;
    ++keep;
  }
  ents.resize(keep);
}

MemoryStorage::MemoryStorage() : ents_(1) {}

Result<InitialState> MemoryStorage::GetInitialState() const {
  return InitialState{hard_state_, snapshot_.metadata.conf_state};
}

Result<std::vector<Entry>> MemoryStorage::Entries(Index lo, Index hi, uint64_t max_bytes) const {
  if (lo <= offset()) return kErrCompacted;
  if (hi > LastIndex() + 1) {
    Panic("MemoryStorage::Entries: hi " + std::to_string(hi) + " is out of bound, last " +
          std::to_string(LastIndex()));
  }
  if (ents_.size() == 1) return kErrUnavailable;
  std::vector<Entry> out(ents_.begin() + static_cast<std::ptrdiff_t>(lo - offset()),
                         ents_.begin() + static_cast<std::ptrdiff_t>(hi - offset()));
  LimitSize(out, max_bytes);
  return out;
}

Result<Term> MemoryStorage::TermOf(Index i) const {
  if (i < offset()) return kErrCompacted;
  if (i - offset() >= ents_.size()) return kErrUnavailable;
  return ents_[i - offset()].term;
}

Index MemoryStorage::FirstIndex() const { return offset() + 1; }

Index MemoryStorage::LastIndex() const { return offset() + ents_.size() - 1; }

Result<Snapshot> MemoryStorage::GetSnapshot() const { return snapshot_; }

Status MemoryStorage::Bootstrap(const ConfState& cs) {
  if (LastIndex() != 0 || !hard_state_.empty()) {
    return Status::FailedPrecondition("raft: bootstrap requires an empty storage");
  }
  std::vector<Entry> ents;
  auto add = [&ents](ConfChangeType t, NodeId id) {
    ents.push_back(Entry{1, ents.size() + 1, EntryType::kConfChange, EncodeConfChange(ConfChange{t, id, ""})});
  };
  for (NodeId id : cs.voters) add(ConfChangeType::kAddNode, id);
  for (NodeId id : cs.learners) add(ConfChangeType::kAddLearnerNode, id);
  CAIRN_RETURN_IF_ERROR(Append(ents));
  hard_state_ = HardState{1, kNoNode, ents.size()};
  return Status::Ok();
}

Status MemoryStorage::ApplySnapshot(Snapshot s) {
  if (snapshot_.metadata.index >= s.metadata.index) return kErrSnapOutOfDate;
  ents_.assign(1, Entry{s.metadata.term, s.metadata.index, EntryType::kNormal, ""});
  snapshot_ = std::move(s);
  return Status::Ok();
}

Result<Snapshot> MemoryStorage::CreateSnapshot(Index i, const ConfState* cs, std::string data) {
  if (i <= snapshot_.metadata.index) return kErrSnapOutOfDate;
  if (i > LastIndex()) {
    Panic("MemoryStorage::CreateSnapshot: index " + std::to_string(i) + " is out of bound, last " +
          std::to_string(LastIndex()));
  }
  snapshot_.metadata.index = i;
  snapshot_.metadata.term = ents_[i - offset()].term;
  if (cs != nullptr) snapshot_.metadata.conf_state = *cs;
  snapshot_.data = std::move(data);
  return snapshot_;
}

Status MemoryStorage::Compact(Index compact_index) {
  if (compact_index <= offset()) return kErrCompacted;
  if (compact_index > LastIndex()) {
    Panic("MemoryStorage::Compact: index " + std::to_string(compact_index) +
          " is out of bound, last " + std::to_string(LastIndex()));
  }
  const size_t i = compact_index - offset();
  ents_[i].data.clear();
  ents_[i].type = EntryType::kNormal;
  ents_.erase(ents_.begin(), ents_.begin() + static_cast<std::ptrdiff_t>(i));
  return Status::Ok();
}

Status MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::Ok();
  const Index first = FirstIndex();
  const Index last = entries.back().index;
  if (last < first) return Status::Ok();  // Everything is already compacted.
  size_t skip = 0;
  if (first > entries.front().index) skip = first - entries.front().index;
  const Index start = entries[skip].index;
  if (start > LastIndex() + 1) {
    Panic("MemoryStorage::Append: missing log entry [last: " + std::to_string(LastIndex()) +
          ", append at: " + std::to_string(start) + "]");
  }
  ents_.resize(start - offset());
  ents_.insert(ents_.end(), entries.begin() + static_cast<std::ptrdiff_t>(skip), entries.end());
  return Status::Ok();
}

}  // namespace cairn::raft
