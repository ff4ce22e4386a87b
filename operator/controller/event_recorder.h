// EventRecorder: writes core/v1 Events about an object (`kubectl describe` shows them),
// as client-go's record.EventRecorder does:
//   * aggregation: an event with the same involved object, type, reason and message as
//     one written less than `aggregation_window` ago is not created again; the existing
//     Event's count and lastTimestamp are PATCHed instead (and if that Event is gone,
//     the API server having expired it, it is created afresh);
//   * spam filter: writes about one involved object with one reason are limited by a
//     token bucket (`burst`, then one per `refill`), so a pass failing in a loop cannot
//     flood the API server. A suppressed occurrence is still counted: the next write
//     carries it. client-go keys its bucket by object alone, but one scale-up or -down
//     takes more distinct steps than its burst of 25, which would silence the later
//     steps; reasons come from a fixed set, so the total rate stays bounded.
// Recording is synchronous and best-effort: the returned Status is for logging only,
// and nothing about the reconcile depends on it.
// Invariant: the cache holds at most `max_entries` aggregation keys and buckets.
// Thread-safety: Record may be called concurrently. Two concurrent Records of the same
// key may both create an Event (as with client-go), which only splits its count.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/token_bucket.h"
#include "operator/kube/client.h"
#include "operator/reconcile/observed.h"

namespace cairn::op {

enum class EventType { kNormal, kWarning };

struct EventRecorderOptions {
  std::string component = "cairn-operator";  // source.component, reportingComponent
  std::string instance;                       // source.host, reportingInstance (pod name)
  std::chrono::seconds aggregation_window{600};
  int burst = 25;
  std::chrono::seconds refill{300};
  size_t max_entries = 4096;
  std::function<TimePoint()> clock = [] { return Clock::now(); };
};

class EventRecorder {
 public:
  EventRecorder(kube::Client& client, EventRecorderOptions options);

  // `object` is the involved object as read from the API server (apiVersion, kind,
  // metadata.namespace/name/uid/resourceVersion are referenced). Returns OK also when
  // the spam filter suppressed the write.
  Status Record(const nlohmann::json& object, EventType type, const std::string& reason, const std::string& message);

 private:
  struct Aggregate {
    std::string event_name;  // empty until the Event has been created
    int64_t count = 0;
    std::string first_timestamp;
    TimePoint last_seen;
  };

  nlohmann::json NewEvent(const nlohmann::json& object, EventType type, const std::string& reason,
                          const std::string& message, const Aggregate& a, const std::string& now) const;
  void Evict(TimePoint now);

  kube::Client& client_;
  const EventRecorderOptions options_;
  std::mutex mu_;
  std::map<std::string, Aggregate> aggregates_;   // key: object uid, type, reason, message
  std::map<std::string, TokenBucket> buckets_;    // key: object uid, reason
  uint64_t sequence_ = 0;                         // keeps names unique within one nanosecond
};

}  // namespace cairn::op
