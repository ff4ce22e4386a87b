// WorkQueue: dedupe with the earliest due time, no key handed out twice while being
// processed (adds meanwhile are kept for after Done), per-key backoff growth and reset.
#include <gtest/gtest.h>

#include <thread>

#include "operator/controller/work_queue.h"

namespace cairn::op {
namespace {

using namespace std::chrono_literals;

TEST(WorkQueue, DuplicateAddsCollapseToTheEarliest) {
  WorkQueue q;
  std::stop_source stop;
  q.AddAfter("a", 10s);
  q.Add("a");
  q.Add("a");
  EXPECT_EQ(q.Length(), 1u);
  EXPECT_EQ(q.Get(stop.get_token()), "a");
  q.Done("a");
  EXPECT_EQ(q.Length(), 0u);
}

TEST(WorkQueue, AKeyBeingProcessedIsNotHandedOutAgainUntilDone) {
  WorkQueue q;
  std::stop_source stop;
  q.Add("a");
  ASSERT_EQ(q.Get(stop.get_token()), "a");
  q.Add("a");  // an event during processing
  q.Add("b");
  EXPECT_EQ(q.Get(stop.get_token()), "b");
  std::optional<std::string> got;
  std::jthread t([&] { got = q.Get(stop.get_token()); });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(got.has_value());
  q.Done("a");
  t.join();
  EXPECT_EQ(got, "a");
}

TEST(WorkQueue, FailuresBackOffExponentiallyUntilForgotten) {
  WorkQueue q(10ms, 40ms);
  EXPECT_EQ(q.Failure("a"), 10ms);
  EXPECT_EQ(q.Failure("a"), 20ms);
  EXPECT_EQ(q.Failure("a"), 40ms);
  EXPECT_EQ(q.Failure("a"), 40ms);
  q.Forget("a");
  EXPECT_EQ(q.Failure("a"), 10ms);
}

TEST(WorkQueue, GetReturnsOnStop) {
  WorkQueue q;
  std::stop_source stop;
  std::jthread t([&] { stop.request_stop(); });
  EXPECT_FALSE(q.Get(stop.get_token()).has_value());
}

}  // namespace
}  // namespace cairn::op
