// Value types shared by the watch hub and the Watch gRPC service.
//
// WatchSpec is one watcher as the client asked for it (after the service normalised
// etcd's key forms). Delivery is one item the hub queues for a stream; the service
// turns it into a WatchResponse per watcher it addresses. Events are shared, immutable
// and reference counted: a put watched by 10,000 watchers is stored once, and
// serialized once, not per watcher; and the watchers of one stream that receive the
// very same events (100 watchers of one prefix, say) share one Delivery.
// Thread-safety: value types; SharedEvent points to a thread-safe WatchEvent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/watch/watch_event.h"

namespace cairn::watch {

using SharedEvent = std::shared_ptr<const WatchEvent>;

struct WatchSpec {
  std::string key;
  std::string range_end;       // etcd forms: empty = one key, "\0" = every key >= key
  int64_t start_revision = 0;  // 0 = the next revision
  int64_t watch_id = 0;        // 0 = let the hub pick (etcd's AutoWatchID)
  bool prev_kv = false;
  bool no_put = false;
  bool no_delete = false;
  bool progress_notify = false;
  bool fragment = false;
};

struct Delivery {
  enum class Kind {
    kCreated,    // created: true (canceled too, with a reason, when creation failed)
    kEvents,     // events of whole revisions, revision = the newest one covered
    kCanceled,   // the client's cancel request succeeded
    kCompacted,  // canceled because the needed history is compacted
    kProgress,   // no events; every event up to `revision` has been delivered
  };
  Kind kind = Kind::kEvents;
  int64_t watch_id = 0;
  // kEvents: further watchers of the stream that get exactly these events with the same
  // prev_kv and fragment settings; each still gets its own response(s).
  std::vector<int64_t> more_watch_ids;
  int64_t revision = 0;  // header revision
  int64_t compact_revision = 0;
  bool prev_kv = false;   // kEvents: keep prev_kv in the events sent
  bool fragment = false;  // kEvents: split the response if it exceeds the size limit
  std::string cancel_reason;
  std::vector<SharedEvent> events;

  // The events this delivery puts on the wire: what it weighs in a stream's buffer.
  size_t QueuedEvents() const { return events.size() * (1 + more_watch_ids.size()); }
};

}  // namespace cairn::watch
