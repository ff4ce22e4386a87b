#include "server/etcdserver/read_loop.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "server/etcdserver/errors.h"

namespace cairn::etcdserver {
namespace {

std::string EncodeCtx(uint64_t ctx) { return std::string(reinterpret_cast<const char*>(&ctx), sizeof(ctx)); }

uint64_t DecodeCtx(const std::string& s) {
  uint64_t ctx = 0;
  if (s.size() == sizeof(ctx)) std::copy(s.begin(), s.end(), reinterpret_cast<char*>(&ctx));
  return ctx;
}

}  // namespace

ReadLoop::ReadLoop(const std::atomic<uint64_t>* applied, std::function<void()> wake_raft)
    : applied_(applied), wake_raft_(std::move(wake_raft)) {}

void ReadLoop::Add(Clock::time_point deadline, Done done) {
  bool stopped = false;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    stopped = stopped_;
    if (!stopped) {
      waiting_for_round_.push_back(Reader{0, deadline, std::move(done)});
      // Later readers join this one's round; with a round in flight, the Raft node
      // starts the next one itself once the answer arrives.
      wake = waiting_for_round_.size() == 1 && !round_;
    }
  }
  if (stopped) return done(ErrStopped());  // not moved from: it was not queued
  if (wake) wake_raft_();
}

void ReadLoop::AwaitApplied(uint64_t index, Done done) {
  bool stopped = false;
  if (applied_->load(std::memory_order_acquire) < index) {
    std::lock_guard lock(mu_);
    stopped = stopped_;
    // Re-checked under mu_: OnApplied takes it after the applied index moved, so either
    // the new index is visible here or that call releases this reader.
    if (!stopped && applied_->load(std::memory_order_acquire) < index) {
      waiting_for_apply_.push_back(Reader{index, {}, std::move(done)});
      return;
    }
  }
  done(stopped ? ErrStopped() : Status::Ok());
}

bool ReadLoop::NeedsRound() const {
  std::lock_guard lock(mu_);
  return !stopped_ && !waiting_for_round_.empty() && !round_;
}

void ReadLoop::IssueRound(Clock::time_point now, const RequestReadIndex& read_index) {
  uint64_t ctx = 0;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    if (!round_ && !waiting_for_round_.empty()) {
      round_ = Round{next_ctx_++, std::move(waiting_for_round_), now};
      waiting_for_round_.clear();
      ctx = round_->ctx;
    } else if (round_ && now - round_->requested_at >= kRetry) {
      round_->requested_at = now;
      ctx = round_->ctx;
    }
  }
  if (ctx != 0) read_index(EncodeCtx(ctx));
}

void ReadLoop::OnReadState(const std::string& ctx, uint64_t index) {
  std::vector<Reader> released;
  {
    std::lock_guard lock(mu_);
    if (!round_ || round_->ctx != DecodeCtx(ctx)) return;  // a retried round answered twice
    for (Reader& r : round_->readers) {
      r.index = index;
      waiting_for_apply_.push_back(std::move(r));
    }
    round_.reset();
    released = TakeReleased(applied_->load(std::memory_order_acquire));
  }
  for (Reader& r : released) r.done(Status::Ok());
}

void ReadLoop::ExpireOverdue(Clock::time_point now) {
  std::vector<Reader> overdue;
  {
    std::lock_guard lock(mu_);
    if (!round_) return;
    auto& readers = round_->readers;
    auto late = std::partition(readers.begin(), readers.end(), [&](const Reader& r) { return r.deadline > now; });
    std::move(late, readers.end(), std::back_inserter(overdue));
    readers.erase(late, readers.end());
    if (readers.empty()) round_.reset();
  }
  for (Reader& r : overdue) r.done(ErrTimeout());
}

void ReadLoop::OnApplied(uint64_t applied) {
  std::vector<Reader> released;
  {
    std::lock_guard lock(mu_);
    released = TakeReleased(applied);
  }
  for (Reader& r : released) r.done(Status::Ok());
}

std::vector<ReadLoop::Reader> ReadLoop::TakeReleased(uint64_t applied) {
  std::vector<Reader> released;
  auto done = std::partition(waiting_for_apply_.begin(), waiting_for_apply_.end(),
                             [&](const Reader& r) { return r.index > applied; });
  std::move(done, waiting_for_apply_.end(), std::back_inserter(released));
  waiting_for_apply_.erase(done, waiting_for_apply_.end());
  return released;
}

void ReadLoop::Stop() {
  std::vector<Reader> readers;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    readers = std::move(waiting_for_round_);
    if (round_) std::move(round_->readers.begin(), round_->readers.end(), std::back_inserter(readers));
    round_.reset();
    std::move(waiting_for_apply_.begin(), waiting_for_apply_.end(), std::back_inserter(readers));
    waiting_for_apply_.clear();
  }
  for (Reader& r : readers) r.done(ErrStopped());
}

}  // namespace cairn::etcdserver
