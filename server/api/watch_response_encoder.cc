#include "server/api/watch_response_encoder.h"

#include <google/protobuf/io/coded_stream.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/slice.h>

#include <cstring>

#include "server/common/status.h"

namespace cairn::api {
namespace {

using google::protobuf::io::CodedOutputStream;
using etcdserverpb::WatchResponse;

// Field numbers and wire types of etcdserverpb.WatchResponse and ResponseHeader.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t Tag(uint32_t field, uint32_t wire_type) { return field << 3 | wire_type; }
constexpr uint32_t kResponseHeader = Tag(1, kLengthDelimited);
constexpr uint32_t kWatchId = Tag(2, kVarint);
constexpr uint32_t kFragment = Tag(7, kVarint);
constexpr uint32_t kEvents = Tag(11, kLengthDelimited);
constexpr uint32_t kClusterId = Tag(1, kVarint);
constexpr uint32_t kMemberId = Tag(2, kVarint);
constexpr uint32_t kRevision = Tag(3, kVarint);
constexpr uint32_t kRaftTerm = Tag(4, kVarint);

// Every tag above is below 128: one byte.
size_t VarintFieldSize(uint64_t v) { return v == 0 ? 0 : 1 + CodedOutputStream::VarintSize64(v); }
size_t LengthDelimitedSize(size_t len) { return 1 + CodedOutputStream::VarintSize64(len) + len; }

uint8_t* PutVarintField(uint8_t* p, uint32_t tag, uint64_t v) {
  if (v == 0) return p;
  *p++ = static_cast<uint8_t>(tag);
  return CodedOutputStream::WriteVarint64ToArray(v, p);
}

uint8_t* PutLengthDelimited(uint8_t* p, uint32_t tag, const std::string& bytes) {
  *p++ = static_cast<uint8_t>(tag);
  p = CodedOutputStream::WriteVarint64ToArray(bytes.size(), p);
  return static_cast<uint8_t*>(std::memcpy(p, bytes.data(), bytes.size())) + bytes.size();
}

// The size of an events response without its events.
size_t FixedSize(const HeaderFields& h, int64_t revision, int64_t watch_id, bool fragment, size_t* header_size) {
  *header_size = VarintFieldSize(h.cluster_id) + VarintFieldSize(h.member_id) +
                 VarintFieldSize(static_cast<uint64_t>(revision)) + VarintFieldSize(h.raft_term);
  return LengthDelimitedSize(*header_size) + VarintFieldSize(static_cast<uint64_t>(watch_id)) + (fragment ? 2 : 0);
}

void Fill(WatchResponse& r, const watch::Delivery& d, const HeaderFields& header) {
  using Kind = watch::Delivery::Kind;
  auto* h = r.mutable_header();
  h->set_cluster_id(header.cluster_id);
  h->set_member_id(header.member_id);
  h->set_raft_term(header.raft_term);
  h->set_revision(d.revision);
  r.set_watch_id(d.watch_id);
  switch (d.kind) {
    case Kind::kCreated:
      r.set_created(true);
      if (!d.cancel_reason.empty()) {
        r.set_canceled(true);
        r.set_cancel_reason(d.cancel_reason);
      }
      break;
    case Kind::kCanceled:
      r.set_canceled(true);
      break;
    case Kind::kCompacted:
      r.set_canceled(true);
      r.set_compact_revision(d.compact_revision);
      break;
    case Kind::kProgress:
      break;
    case Kind::kEvents:
      for (const auto& e : d.events) {
        mvccpb::Event* out = r.add_events();
        out->set_type(e->type());
        *out->mutable_kv() = e->kv();
        if (d.prev_kv && e->has_prev_kv()) *out->mutable_prev_kv() = e->prev_kv();
      }
      break;
  }
}

}  // namespace

std::vector<WatchResponse> BuildResponses(const watch::Delivery& d, const HeaderFields& header,
                                          size_t max_response_bytes) {
  std::vector<WatchResponse> out;
  auto build = [&](int64_t watch_id) {
    WatchResponse whole;
    Fill(whole, d, header);
    whole.set_watch_id(watch_id);
    if (!d.fragment || whole.events_size() < 2 || whole.ByteSizeLong() < max_response_bytes) {
      out.push_back(std::move(whole));
      return;
    }
    WatchResponse base = whole;
    base.clear_events();
    base.set_fragment(true);
    int next = 0;
    while (next < whole.events_size()) {
      WatchResponse cur = base;
      while (next < whole.events_size()) {
        *cur.add_events() = whole.events(next);
        if (cur.events_size() > 1 && cur.ByteSizeLong() >= max_response_bytes) {
          cur.mutable_events()->RemoveLast();
          break;
        }
        ++next;
      }
      if (next == whole.events_size()) cur.set_fragment(false);
      out.push_back(std::move(cur));
    }
  };
  build(d.watch_id);
  for (int64_t id : d.more_watch_ids) build(id);
  return out;
}

OutgoingWatchResponse::OutgoingWatchResponse(const HeaderFields& header, int64_t revision, int64_t watch_id,
                                             bool fragment, bool prev_kv, SharedEvents events, size_t first,
                                             size_t last)
    : header_(header),
      revision_(revision),
      watch_id_(watch_id),
      fragment_(fragment),
      prev_kv_(prev_kv),
      events_(std::move(events)),
      first_(first),
      last_(last) {}

void OutgoingWatchResponse::SerializeTo(grpc::ByteBuffer* out) const {
  if (message_) {
    bool own = false;
    CAIRN_CHECK((grpc::GenericSerialize<grpc::ProtoBufferWriter, WatchResponse>(*message_, out, &own).ok()));
    return;
  }
  size_t header_size = 0;
  size_t size = FixedSize(header_, revision_, watch_id_, fragment_, &header_size);
  const std::vector<watch::SharedEvent>& events = *events_;
  for (size_t i = first_; i < last_; ++i) size += LengthDelimitedSize(events[i]->Encoded(prev_kv_).size());
  grpc::Slice slice(size);
  uint8_t* const begin = const_cast<uint8_t*>(slice.begin());
  uint8_t* p = begin;
  *p++ = static_cast<uint8_t>(kResponseHeader);
  p = CodedOutputStream::WriteVarint64ToArray(header_size, p);
  p = PutVarintField(p, kClusterId, header_.cluster_id);
  p = PutVarintField(p, kMemberId, header_.member_id);
  p = PutVarintField(p, kRevision, static_cast<uint64_t>(revision_));
  p = PutVarintField(p, kRaftTerm, header_.raft_term);
  p = PutVarintField(p, kWatchId, static_cast<uint64_t>(watch_id_));
  p = PutVarintField(p, kFragment, fragment_ ? 1 : 0);
  for (size_t i = first_; i < last_; ++i) p = PutLengthDelimited(p, kEvents, events[i]->Encoded(prev_kv_));
  CAIRN_CHECK(static_cast<size_t>(p - begin) == size);
  grpc::ByteBuffer bytes(&slice, 1);
  out->Swap(&bytes);
}

void AppendResponses(watch::Delivery&& d, const HeaderFields& header, size_t max_response_bytes,
                     std::deque<OutgoingWatchResponse>* out) {
  if (d.kind != watch::Delivery::Kind::kEvents) {
    for (WatchResponse& r : BuildResponses(d, header, max_response_bytes)) out->emplace_back(std::move(r));
    return;
  }
  const auto events = std::make_shared<const std::vector<watch::SharedEvent>>(std::move(d.events));
  const auto events_size = [&](size_t from, size_t to) {
    size_t n = 0;
    for (size_t i = from; i < to; ++i) n += LengthDelimitedSize((*events)[i]->Encoded(d.prev_kv).size());
    return n;
  };
  const size_t count = events->size();
  const size_t all_events_size = events_size(0, count);
  auto append = [&](int64_t watch_id) {
    size_t header_size = 0;
    const size_t whole = FixedSize(header, d.revision, watch_id, false, &header_size) + all_events_size;
    if (!d.fragment || count < 2 || whole < max_response_bytes) {
      out->emplace_back(header, d.revision, watch_id, false, d.prev_kv, events, 0, count);
      return;
    }
    const size_t fixed = FixedSize(header, d.revision, watch_id, true, &header_size);
    size_t next = 0;
    while (next < count) {
      const size_t first = next;
      size_t size = fixed;
      while (next < count) {
        const size_t framed = events_size(next, next + 1);
        if (next > first && size + framed >= max_response_bytes) break;
        size += framed;
        ++next;
      }
      out->emplace_back(header, d.revision, watch_id, next < count, d.prev_kv, events, first, next);
    }
  };
  append(d.watch_id);
  for (int64_t id : d.more_watch_ids) append(id);
}

}  // namespace cairn::api
