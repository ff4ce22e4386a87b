// The wire bytes of etcd's WatchResponse, written straight from a hub Delivery.
//
// A put seen by 10,000 watchers becomes 10,000 responses that differ only in watch_id.
// Building a protobuf message for each one, serializing it, and handing gRPC a copy
// cost more than gRPC's own work per message. So a response waits in the stream's
// outbox as an OutgoingWatchResponse (the header fields, watch_id and a slice of the
// delivery's events, shared by every response made from that delivery),
// and gRPC serializes it, through the SerializationTraits below, only when it writes
// it, straight into the buffer it sends: the header and watch_id as varints, each event
// as its cached encoding (WatchEvent::Encoded). The bytes are exactly what protobuf
// writes for the same message (fields in number order, proto3 defaults omitted);
// watch_response_encoder_test checks that against protobuf's own serializer. Responses
// without events are rare and stay protobuf messages.
//
// Fragmenting follows etcd's sendFragments: a response of a watcher that asked for
// fragments is split only if it is at least the size limit and has two or more events;
// each fragment takes events until one more would reach the limit (a fragment always
// has at least one), and every fragment but the last has fragment = true.
//
// Thread-safety: OutgoingWatchResponse is an immutable value; the functions are pure.
#pragma once

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/impl/serialization_traits.h>
#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "server/watch/watch_types.h"

namespace cairn::api {

struct HeaderFields {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t raft_term = 0;
};

class OutgoingWatchResponse {
 public:
  using SharedEvents = std::shared_ptr<const std::vector<watch::SharedEvent>>;
  // A response with events [first, last) of `events`.
  OutgoingWatchResponse(const HeaderFields& header, int64_t revision, int64_t watch_id, bool fragment,
                        bool prev_kv, SharedEvents events, size_t first, size_t last);
  // Any other response.
  explicit OutgoingWatchResponse(etcdserverpb::WatchResponse message) : message_(std::move(message)) {}

  // Replaces *out with the serialized response.
  void SerializeTo(grpc::ByteBuffer* out) const;

 private:
  std::optional<etcdserverpb::WatchResponse> message_;
  HeaderFields header_;
  int64_t revision_ = 0;
  int64_t watch_id_ = 0;
  bool fragment_ = false;
  bool prev_kv_ = false;
  SharedEvents events_;
  size_t first_ = 0;
  size_t last_ = 0;
};

// Appends the responses that carry `d` to the client to `out` (those of d.watch_id,
// then those of each of d.more_watch_ids), consuming d.events.
// REQUIRES: the kind-specific fields of `d` are set as watch_types.h describes.
void AppendResponses(watch::Delivery&& d, const HeaderFields& header, size_t max_response_bytes,
                     std::deque<OutgoingWatchResponse>* out);

// The same responses built as protobuf messages: the reference the encoder is tested
// against, and the form of responses without events.
std::vector<etcdserverpb::WatchResponse> BuildResponses(const watch::Delivery& d, const HeaderFields& header,
                                                        size_t max_response_bytes);

}  // namespace cairn::api

// How gRPC serializes an OutgoingWatchResponse when the Watch service writes one.
template <>
class grpc::SerializationTraits<cairn::api::OutgoingWatchResponse> {
 public:
  static grpc::Status Serialize(const cairn::api::OutgoingWatchResponse& r, grpc::ByteBuffer* buffer,
                                bool* own_buffer) {
    r.SerializeTo(buffer);
    *own_buffer = true;
    return grpc::Status::OK;
  }
};
