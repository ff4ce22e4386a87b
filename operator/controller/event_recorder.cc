#include "operator/controller/event_recorder.h"

#include <algorithm>
#include <cstdio>

#include "operator/reconcile/status_builder.h"

namespace cairn::op {
namespace {

using json = nlohmann::json;

// events.k8s.io's limit on a note; core/v1 accepts more, but a kubectl line is enough.
constexpr size_t kMaxMessageBytes = 1024;

std::string Truncate(const std::string& s) {
  if (s.size() <= kMaxMessageBytes) return s;
  size_t end = kMaxMessageBytes - 3;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;  // not inside a UTF-8 sequence
  return s.substr(0, end) + "...";
}

const char* TypeName(EventType t) { return t == EventType::kWarning ? "Warning" : "Normal"; }

}  // namespace

EventRecorder::EventRecorder(kube::Client& client, EventRecorderOptions options)
    : client_(client), options_(std::move(options)) {}

json EventRecorder::NewEvent(const json& object, EventType type, const std::string& reason, const std::string& message,
                             const Aggregate& a, const std::string& now) const {
  const json& meta = object["metadata"];
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", a.event_name}, {"namespace", meta.value("namespace", "")}}},
          {"involvedObject",
           {{"apiVersion", object.value("apiVersion", "")},
            {"kind", object.value("kind", "")},
            {"namespace", meta.value("namespace", "")},
            {"name", meta.value("name", "")},
            {"uid", meta.value("uid", "")},
            {"resourceVersion", meta.value("resourceVersion", "")}}},
          {"type", TypeName(type)},
          {"reason", reason},
          {"message", message},
          {"count", a.count},
          {"firstTimestamp", a.first_timestamp},
          {"lastTimestamp", now},
          {"source", {{"component", options_.component}, {"host", options_.instance}}},
          {"reportingComponent", options_.component},
          {"reportingInstance", options_.instance}};
}

Status EventRecorder::Record(const json& object, EventType type, const std::string& reason, const std::string& raw_message) {
  const std::string message = Truncate(raw_message);
  const json& meta = object["metadata"];
  const std::string ns = meta.value("namespace", "");
  const std::string uid = meta.value("uid", "");
  const TimePoint now = options_.clock();
  const std::string now_s = FormatTime(now);
  const std::string key = json::array({uid, TypeName(type), reason, message}).dump();

  Aggregate snapshot;
  bool create;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Evict(now);
    auto [it, fresh] = aggregates_.try_emplace(key);
    Aggregate& a = it->second;
    if (fresh || now - a.last_seen >= options_.aggregation_window) {
      a = Aggregate{"", 0, now_s, now};
    }
    ++a.count;
    a.last_seen = now;
    auto bucket = buckets_.try_emplace(json::array({uid, reason}).dump(), options_.burst, options_.refill, now).first;
    if (!bucket->second.TryTake(now)) return Status::Ok();  // counted; the next write carries it
    create = a.event_name.empty();
    if (create) {
      // client-go's naming: the object's name and the time in hex nanoseconds.
      const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
      char suffix[40];
      std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos) + sequence_++);
      a.event_name = meta.value("name", "") + suffix;
    }
    snapshot = a;
  }

  Status s;
  if (!create) {
    auto patched = client_.MergePatch(kube::types::Event(), ns, snapshot.event_name,
                                      {{"count", snapshot.count}, {"lastTimestamp", now_s}, {"message", message}});
    if (patched.ok() || patched.status().code() != StatusCode::kNotFound) {
      return patched.ok() ? Status::Ok() : patched.status();
    }
  }
  auto created = client_.Create(kube::types::Event(), ns, NewEvent(object, type, reason, message, snapshot, now_s));
  if (!created.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = aggregates_.find(key);
    // Not created: the next occurrence must create it rather than patch a missing Event.
    if (it != aggregates_.end() && it->second.event_name == snapshot.event_name) it->second.event_name.clear();
    return created.status();
  }
  return Status::Ok();
}

void EventRecorder::Evict(TimePoint now) {
  if (aggregates_.size() >= options_.max_entries) {
    std::erase_if(aggregates_, [&](const auto& kv) { return now - kv.second.last_seen >= options_.aggregation_window; });
    while (aggregates_.size() >= options_.max_entries) {
      aggregates_.erase(std::min_element(aggregates_.begin(), aggregates_.end(), [](const auto& x, const auto& y) {
        return x.second.last_seen < y.second.last_seen;
      }));
    }
  }
  if (buckets_.size() >= options_.max_entries) {
    std::erase_if(buckets_, [&](auto& kv) { return kv.second.Full(now); });
    if (buckets_.size() >= options_.max_entries) buckets_.erase(buckets_.begin());
  }
}

}  // namespace cairn::op
