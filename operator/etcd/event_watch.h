// EventWatch: one member's Watch on the whole key space from a start revision, read as
// batches of whole revisions: what delta backups (backup/delta_shipper.h) ship.
//
// A reader thread takes responses off the gRPC stream into a small bounded queue; when
// the consumer falls behind the queue fills, the thread stops reading and gRPC's flow
// control holds the member back, so memory stays bounded. Next() waits up to a given
// time for the next batch. Errors end the watch for good (open a new one to resume):
//   kOutOfRange   the start revision is compacted (compact_revision() says up to where);
//   kUnavailable  the stream broke (member down, restarted, connection lost);
//   other codes   as the member answered (e.g. PermissionDenied).
// Events come as the member delivers them: whole revisions, in revision order, without
// prev_kv. Thread-safety: Next() from one thread; destruction cancels the stream and
// joins the reader.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "etcd/api/mvccpb/kv.pb.h"
#include "server/common/status.h"

namespace grpc {
class Channel;
}

namespace cairn::op {

struct WatchBatch {
  std::vector<mvccpb::Event> events;  // empty when nothing arrived in time, or on a progress notification
};

class EventWatch {
 public:
  virtual ~EventWatch() = default;
  virtual Result<WatchBatch> Next(std::chrono::milliseconds wait) = 0;
  // After kOutOfRange: the member's compacted revision.
  virtual int64_t compact_revision() const = 0;
};

// The watch over `channel` to the member at `url` (named in errors), every key, events
// from `start_revision` on (>= 1); `token`, unless empty, is sent as etcd's auth token.
std::unique_ptr<EventWatch> StartEventWatch(const std::shared_ptr<grpc::Channel>& channel, std::string url,
                                            int64_t start_revision, const std::string& token);

}  // namespace cairn::op
