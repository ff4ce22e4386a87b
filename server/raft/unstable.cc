#include "server/raft/unstable.h"

#include <string>

#include "server/common/status.h"

namespace cairn::raft {

std::optional<Index> Unstable::MaybeFirstIndex() const {
  if (snapshot_) return snapshot_->metadata.index + 1;
  return std::nullopt;
}

std::optional<Index> Unstable::MaybeLastIndex() const {
  if (!entries_.empty()) return offset_ + entries_.size() - 1;
  if (snapshot_) return snapshot_->metadata.index;
  return std::nullopt;
}

std::optional<Term> Unstable::MaybeTerm(Index i) const {
  if (i < offset_) {
    if (snapshot_ && snapshot_->metadata.index == i) return snapshot_->metadata.term;
    return std::nullopt;
  }
  auto last = MaybeLastIndex();
  if (!last || i > *last) return std::nullopt;
  if (entries_.empty()) return std::nullopt;  // Only a snapshot, and i is not its index.
  return entries_[i - offset_].term;
}

void Unstable::StableTo(Index i, Term t) {
  auto gt = MaybeTerm(i);
  // Only entries that are still in the unstable log with the same term became stable;
  // a newer leader may have replaced them since the Ready was taken.
  if (!gt || *gt != t || i < offset_) return;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(i + 1 - offset_));
  offset_ = i + 1;
}

void Unstable::StableSnapTo(Index i) {
  if (snapshot_ && snapshot_->metadata.index == i) snapshot_.reset();
}

void Unstable::Restore(Snapshot s) {
  offset_ = s.metadata.index + 1;
  entries_.clear();
  snapshot_ = std::move(s);
}

void Unstable::TruncateAndAppend(const std::vector<Entry>& ents) {
  if (ents.empty()) return;
  const Index after = ents.front().index;
  if (after == offset_ + entries_.size()) {
    entries_.insert(entries_.end(), ents.begin(), ents.end());
  } else if (after <= offset_) {
    // The whole unstable log is replaced.
    offset_ = after;
    entries_ = ents;
  } else {
    entries_.resize(after - offset_);
    entries_.insert(entries_.end(), ents.begin(), ents.end());
  }
}

std::vector<Entry> Unstable::Slice(Index lo, Index hi) const {
  if (lo > hi || lo < offset_ || hi > offset_ + entries_.size()) {
    Panic("Unstable::Slice: invalid [" + std::to_string(lo) + "," + std::to_string(hi) +
          ") with offset " + std::to_string(offset_) + " len " + std::to_string(entries_.size()));
  }
  return std::vector<Entry>(entries_.begin() + static_cast<std::ptrdiff_t>(lo - offset_),
                            entries_.begin() + static_cast<std::ptrdiff_t>(hi - offset_));
}

}  // namespace cairn::raft
