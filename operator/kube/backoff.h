// Backoff: capped exponential delays with jitter, for retrying failed API calls and
// watches without hammering the API server (as client-go's reflector backs off).
// Next() returns initial, initial*2, ... up to max, each stretched by up to `jitter`
// (0.5: up to +50%) so many clients do not retry in lockstep; Reset() after a success.
// Thread-safety: not thread-safe; one per retry loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace cairn::op::kube {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double jitter = 0.5,
          uint32_t seed = std::random_device{}())
      : initial_(initial), max_(max), jitter_(jitter), current_(initial), rng_(seed) {}

  std::chrono::milliseconds Next() {
    std::chrono::milliseconds base = current_;
    current_ = std::min(max_, current_ * 2);
    std::uniform_real_distribution<double> extra(0.0, jitter_);
    return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(base.count()) * (1.0 + extra(rng_))));
  }
  void Reset() { current_ = initial_; }

 private:
  std::chrono::milliseconds initial_, max_;
  double jitter_;
  std::chrono::milliseconds current_;
  std::minstd_rand rng_;
};

}  // namespace cairn::op::kube
