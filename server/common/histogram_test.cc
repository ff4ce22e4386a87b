#include "server/common/histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cairn {
namespace {

TEST(HistogramTest, BucketsAreCumulativeUpperBoundsInclusive) {
  Histogram h(Histogram::ExponentialBounds(0.001, 2, 4));  // 0.001 0.002 0.004 0.008
  EXPECT_EQ(h.Read().bounds, (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
  for (double v : {0.0005, 0.001, 0.003, 0.5}) h.Observe(v);
  const auto s = h.Read();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 2, 3, 3}));
  EXPECT_EQ(s.count, 4u);  // the +Inf bucket
  EXPECT_DOUBLE_EQ(s.sum, 0.5045);
}

TEST(HistogramTest, ConcurrentObservationsAreAllCounted) {
  Histogram h({1, 2});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) h.Observe(i % 3);
    });
  }
  for (auto& t : threads) t.join();
  const auto s = h.Read();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{4 * 6667, 40000}));  // 0 and 1 <= 1; 2 <= 2
}

}  // namespace
}  // namespace cairn
