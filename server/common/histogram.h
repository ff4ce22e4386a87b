// Histogram: a Prometheus histogram with fixed bucket bounds, for latencies measured on
// hot paths (WAL sync, backend commit). Observe() is lock-free and may race with Read();
// a Read() may then see an observation in the count but not yet in its bucket, which
// Prometheus tolerates (buckets are reported cumulatively and clamped to the count).
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace cairn {

class Histogram {
 public:
  // REQUIRES: bounds strictly increasing.
  explicit Histogram(std::vector<double> upper_bounds);
  // Prometheus's ExponentialBuckets(start, factor, count).
  static std::vector<double> ExponentialBounds(double start, double factor, int count);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // observations <= bounds[i]
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  const std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bound, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

}  // namespace cairn
