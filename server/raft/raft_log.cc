#include "server/raft/raft_log.h"

#include <algorithm>
#include <string>

#include "server/raft/errors.h"

namespace cairn::raft {


RaftLog::RaftLog(const Storage* storage, uint64_t max_next_ents_size)
    : storage_(storage),
      unstable_(storage->LastIndex() + 1),
      committed_(storage->FirstIndex() - 1),
      applied_(storage->FirstIndex() - 1),
      max_next_ents_size_(max_next_ents_size) {}

std::optional<Index> RaftLog::MaybeAppend(Index index, Term log_term, Index committed,
                                          const std::vector<Entry>& ents) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  const Index last_new = index + ents.size();
  const Index ci = FindConflict(ents);
  if (ci != 0) {
    if (ci <= committed_) {
      Panic("entry " + std::to_string(ci) + " conflicts with committed entry [committed(" +
            std::to_string(committed_) + ")]");
    }
    Append(std::vector<Entry>(ents.begin() + static_cast<std::ptrdiff_t>(ci - (index + 1)),
                              ents.end()));
  }
  CommitTo(std::min(committed, last_new));
  return last_new;
}

Index RaftLog::Append(const std::vector<Entry>& ents) {
  if (ents.empty()) return LastIndex();
  if (ents.front().index - 1 < committed_) {
    Panic("append after " + std::to_string(ents.front().index - 1) +
          " is out of range [committed(" + std::to_string(committed_) + ")]");
  }
  unstable_.TruncateAndAppend(ents);
  return LastIndex();
}

Index RaftLog::FindConflict(const std::vector<Entry>& ents) const {
  for (const Entry& e : ents) {
    if (!MatchTerm(e.index, e.term)) return e.index;
  }
  return 0;
}

Index RaftLog::FindConflictByTerm(Index index, Term term) const {
  if (index > LastIndex()) return index;
  while (index > 0) {
    auto t = TermOf(index);
    if (!t.ok() || *t <= term) break;
    --index;
  }
  return index;
}

std::vector<Entry> RaftLog::NextEnts() const {
  const Index off = std::max(applied_ + 1, FirstIndex());
  if (committed_ + 1 > off) {
    auto ents = Slice(off, committed_ + 1, max_next_ents_size_);
    if (!ents.ok()) Panic("unexpected error when getting unapplied entries: " + ents.status().ToString());
    return std::move(ents).value();
  }
  return {};
}

bool RaftLog::HasNextEnts() const {
  return committed_ + 1 > std::max(applied_ + 1, FirstIndex());
}

Result<Snapshot> RaftLog::GetSnapshot() const {
  if (unstable_.snapshot()) return *unstable_.snapshot();
  return storage_->GetSnapshot();
}

Index RaftLog::FirstIndex() const {
  if (auto i = unstable_.MaybeFirstIndex()) return *i;
  return storage_->FirstIndex();
}

Index RaftLog::LastIndex() const {
  if (auto i = unstable_.MaybeLastIndex()) return *i;
  return storage_->LastIndex();
}

Term RaftLog::LastTerm() const {
  auto t = TermOf(LastIndex());
  if (!t.ok()) Panic("unexpected error when getting the last term: " + t.status().ToString());
  return *t;
}

Result<Term> RaftLog::TermOf(Index i) const {
  const Index dummy = FirstIndex() - 1;
  if (i < dummy || i > LastIndex()) return Term{0};
  if (auto t = unstable_.MaybeTerm(i)) return *t;
  auto t = storage_->TermOf(i);
  if (t.ok()) return t;
  if (t.status() == kErrCompacted || t.status() == kErrUnavailable) return t.status();
  Panic("unexpected storage error: " + t.status().ToString());
}

Term RaftLog::ZeroTermOnError(Index i) const {
  auto t = TermOf(i);
  return t.ok() ? *t : 0;
}

bool RaftLog::MatchTerm(Index i, Term t) const {
  auto got = TermOf(i);
  return got.ok() && *got == t;
}

bool RaftLog::IsUpToDate(Index last_index, Term term) const {
  return term > LastTerm() || (term == LastTerm() && last_index >= LastIndex());
}

void RaftLog::CommitTo(Index to) {
  if (committed_ >= to) return;  // Never decrease commit.
  if (LastIndex() < to) {
    Panic("tocommit(" + std::to_string(to) + ") is out of range [lastIndex(" +
          std::to_string(LastIndex()) + ")]");
  }
  committed_ = to;
}

bool RaftLog::MaybeCommit(Index max_index, Term term) {
  // Raft §5.4.2: only entries of the leader's current term are committed by counting.
  if (max_index > committed_ && ZeroTermOnError(max_index) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::AppliedTo(Index i) {
  if (i == 0) return;
  if (committed_ < i || i < applied_) {
    Panic("applied(" + std::to_string(i) + ") is out of range [prevApplied(" +
          std::to_string(applied_) + "), committed(" + std::to_string(committed_) + ")]");
  }
  applied_ = i;
}

void RaftLog::Restore(Snapshot s) {
  committed_ = s.metadata.index;
  unstable_.Restore(std::move(s));
}

Result<std::vector<Entry>> RaftLog::EntriesFrom(Index i, uint64_t max_bytes) const {
  if (i > LastIndex()) return std::vector<Entry>{};
  return Slice(i, LastIndex() + 1, max_bytes);
}

Status RaftLog::CheckOutOfBounds(Index lo, Index hi) const {
  if (lo > hi) Panic("invalid slice " + std::to_string(lo) + " > " + std::to_string(hi));
  const Index fi = FirstIndex();
  if (lo < fi) return kErrCompacted;
  const Index length = LastIndex() + 1 - fi;
  if (hi > fi + length) {
    Panic("slice[" + std::to_string(lo) + "," + std::to_string(hi) + ") out of bound [" +
          std::to_string(fi) + "," + std::to_string(LastIndex()) + "]");
  }
  return Status::Ok();
}

Result<std::vector<Entry>> RaftLog::Slice(Index lo, Index hi, uint64_t max_bytes) const {
  CAIRN_RETURN_IF_ERROR(CheckOutOfBounds(lo, hi));
  if (lo == hi) return std::vector<Entry>{};
  std::vector<Entry> ents;
  const Index uoff = unstable_.offset();
  if (lo < uoff) {
    auto stored = storage_->Entries(lo, std::min(hi, uoff), max_bytes);
    if (!stored.ok()) {
      if (stored.status() == kErrCompacted) return stored.status();
      if (stored.status() == kErrUnavailable) {
        Panic("entries[" + std::to_string(lo) + ":" + std::to_string(std::min(hi, uoff)) +
              ") is unavailable from storage");
      }
      Panic("unexpected storage error: " + stored.status().ToString());
    }
    ents = std::move(stored).value();
    // The storage truncated by size: do not splice unstable entries after a short read.
    if (ents.size() < std::min(hi, uoff) - lo) return ents;
  }
  if (hi > uoff) {
    auto u = unstable_.Slice(std::max(lo, uoff), hi);
    ents.insert(ents.end(), u.begin(), u.end());
  }
  LimitSize(ents, max_bytes);
  return ents;
}

}  // namespace cairn::raft
