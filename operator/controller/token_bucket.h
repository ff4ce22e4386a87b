// TokenBucket: allows `burst` operations at once, then one more per `refill` interval
// (client-go's flowcontrol token bucket, as its event spam filter uses it). Time is passed
// in, so callers and tests control the clock.
// Invariant: 0 <= tokens <= burst. Thread-safety: not thread-safe; guard it externally.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace cairn::op {

class TokenBucket {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  TokenBucket(int burst, std::chrono::milliseconds refill, TimePoint now)
      : burst_(burst), refill_(refill), tokens_(burst), last_refill_(now) {}

  // Takes a token if one is available at `now`.
  bool TryTake(TimePoint now) {
    Refill(now);
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }

  // Whether the bucket is back to its full burst, i.e. forgetting it changes nothing.
  bool Full(TimePoint now) const { return tokens_ + Earned(now) >= burst_; }

 private:
  int64_t Earned(TimePoint now) const {
    if (now <= last_refill_ || refill_.count() <= 0) return 0;
    return (now - last_refill_) / refill_;
  }
  void Refill(TimePoint now) {
    const int64_t earned = Earned(now);
    if (earned == 0) return;
    tokens_ = static_cast<int>(std::min<int64_t>(burst_, tokens_ + earned));
    last_refill_ = tokens_ == burst_ ? now : last_refill_ + earned * refill_;
  }

  int burst_;
  std::chrono::milliseconds refill_;
  int tokens_;
  TimePoint last_refill_;
};

}  // namespace cairn::op
