#include "server/wal/record.h"

#include <bit>
#include <cstring>

#include "server/common/crc32c.h"
#include "server/common/status.h"

namespace cairn::wal {
namespace {

static_assert(std::endian::native == std::endian::little, "the WAL encodes by memcpy");

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

template <typename T>
T Get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Reads fixed-width fields from a payload, failing (not crashing) on short input.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  template <typename T>
  bool Read(T* v) {
    if (s_.size() < sizeof(T)) return false;
    *v = Get<T>(s_.data());
    s_.remove_prefix(sizeof(T));
    return true;
  }
  bool ReadIds(std::vector<raft::NodeId>* ids) {
    uint32_t n;
    if (!Read(&n) || s_.size() / sizeof(raft::NodeId) < n) return false;
    ids->resize(n);
    for (auto& id : *ids) Read(&id);
    return true;
  }
  std::string_view rest() const { return s_; }

 private:
  std::string_view s_;
};

uint32_t Seed(uint32_t salt, uint64_t offset) { return crc32c::Extend(salt, &offset, 8); }

bool AllZero(std::string_view s) {
  for (char c : s) {
    if (c != 0) return false;
  }
  return true;
}

}  // namespace

void AppendSegmentHeader(std::string* out, const SegmentHeader& h) {
  size_t start = out->size();
  out->append(kSegmentMagic, sizeof(kSegmentMagic));
  Put<uint32_t>(out, kFormatVersion);
  Put<uint32_t>(out, h.salt);
  Put<uint64_t>(out, h.seq);
  Put<uint64_t>(out, h.first_index);
  Put<uint32_t>(out, crc32c::Value(out->data() + start, 32));
  Put<uint32_t>(out, 0);
}

std::string ParseSegmentHeader(std::string_view seg, SegmentHeader* h) {
  if (seg.size() < kSegmentHeaderSize) return "segment shorter than its header";
  if (std::memcmp(seg.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) return "bad magic";
  if (Get<uint32_t>(seg.data() + 32) != crc32c::Value(seg.data(), 32)) {
    return "header crc mismatch";
  }
  if (uint32_t v = Get<uint32_t>(seg.data() + 8); v != kFormatVersion) {
    return "unsupported format version " + std::to_string(v);
  }
  h->salt = Get<uint32_t>(seg.data() + 12);
  h->seq = Get<uint64_t>(seg.data() + 16);
  h->first_index = Get<uint64_t>(seg.data() + 24);
  return "";
}

size_t EntryRecordSize(const raft::Entry& e) { return kRecordHeaderSize + 17 + e.data.size(); }
size_t HardStateRecordSize() { return kRecordHeaderSize + 24; }
size_t SnapshotRecordSize(const raft::SnapshotMetadata& s) {
  return kRecordHeaderSize + 24 +
         8 * (s.conf_state.voters.size() + s.conf_state.learners.size());
}
size_t MetadataRecordSize(std::string_view metadata) {
  return kRecordHeaderSize + metadata.size();
}

size_t RecordEncoder::Begin(RecordType type) {
  size_t start = out_->size();
  Put<uint32_t>(out_, 0);  // crc, filled by Finish
  Put<uint32_t>(out_, 0);  // length, filled by Finish
  Put<uint8_t>(out_, static_cast<uint8_t>(type));
  out_->append(3, '\0');
  Put<uint32_t>(out_, synced_);
  return start;
}

void RecordEncoder::Finish(size_t start) {
  size_t len = out_->size() - start - kRecordHeaderSize;
  CAIRN_CHECK(len <= kMaxRecordPayload);
  char* rec = out_->data() + start;
  uint32_t len32 = static_cast<uint32_t>(len);
  std::memcpy(rec + 4, &len32, 4);
  uint32_t crc = crc32c::Extend(Seed(salt_, base_ + start), rec + 4, kRecordHeaderSize - 4 + len);
  std::memcpy(rec, &crc, 4);
}

void RecordEncoder::Metadata(std::string_view metadata) {
  size_t start = Begin(RecordType::kMetadata);
  out_->append(metadata);
  Finish(start);
}

void RecordEncoder::Entry(const raft::Entry& e) {
  size_t start = Begin(RecordType::kEntry);
  Put<uint64_t>(out_, e.term);
  Put<uint64_t>(out_, e.index);
  Put<uint8_t>(out_, static_cast<uint8_t>(e.type));
  out_->append(e.data);
  Finish(start);
}

void RecordEncoder::HardState(const raft::HardState& hs) {
  size_t start = Begin(RecordType::kHardState);
  Put<uint64_t>(out_, hs.term);
  Put<uint64_t>(out_, hs.vote);
  Put<uint64_t>(out_, hs.commit);
  Finish(start);
}

void RecordEncoder::Snapshot(const raft::SnapshotMetadata& s) {
  size_t start = Begin(RecordType::kSnapshot);
  Put<uint64_t>(out_, s.index);
  Put<uint64_t>(out_, s.term);
  Put<uint32_t>(out_, static_cast<uint32_t>(s.conf_state.voters.size()));
  for (raft::NodeId id : s.conf_state.voters) Put<uint64_t>(out_, id);
  Put<uint32_t>(out_, static_cast<uint32_t>(s.conf_state.learners.size()));
  for (raft::NodeId id : s.conf_state.learners) Put<uint64_t>(out_, id);
  Finish(start);
}

ParseOutcome ParseRecordAt(std::string_view seg, uint64_t offset, uint32_t salt,
                           RecordView* rec, const char** why) {
  if (offset >= seg.size()) return ParseOutcome::kZero;
  std::string_view rest = seg.substr(offset);
  if (rest.size() < kRecordHeaderSize) {
    if (AllZero(rest)) return ParseOutcome::kZero;
    *why = "truncated record header";
    return ParseOutcome::kInvalid;
  }
  if (AllZero(rest.substr(0, kRecordHeaderSize))) return ParseOutcome::kZero;
  const char* p = rest.data();
  uint32_t len = Get<uint32_t>(p + 4);
  if (len > kMaxRecordPayload) {
    *why = "bad record length";
    return ParseOutcome::kInvalid;
  }
  if (len > rest.size() - kRecordHeaderSize) {
    *why = "record length runs past end of file";
    return ParseOutcome::kInvalid;
  }
  if (Get<uint32_t>(p) != crc32c::Extend(Seed(salt, offset), p + 4, kRecordHeaderSize - 4 + len)) {
    *why = "crc mismatch";
    return ParseOutcome::kInvalid;
  }
  uint8_t type = static_cast<uint8_t>(p[8]);
  uint32_t synced = Get<uint32_t>(p + 12);
  if (type < 1 || type > 4 || p[9] != 0 || p[10] != 0 || p[11] != 0 || synced > offset) {
    *why = "malformed record header";
    return ParseOutcome::kInvalid;
  }
  rec->offset = offset;
  rec->end = offset + kRecordHeaderSize + len;
  rec->type = static_cast<RecordType>(type);
  rec->synced = synced;
  rec->payload = rest.substr(kRecordHeaderSize, len);
  return ParseOutcome::kValid;
}

bool DecodeEntry(std::string_view payload, raft::Entry* e) {
  Reader r(payload);
  uint8_t type;
  if (!r.Read(&e->term) || !r.Read(&e->index) || !r.Read(&type) || type > 1) return false;
  e->type = static_cast<raft::EntryType>(type);
  e->data.assign(r.rest());
  return true;
}

bool DecodeHardState(std::string_view payload, raft::HardState* hs) {
  Reader r(payload);
  return r.Read(&hs->term) && r.Read(&hs->vote) && r.Read(&hs->commit) && r.rest().empty();
}

bool DecodeSnapshot(std::string_view payload, raft::SnapshotMetadata* s) {
  Reader r(payload);
  return r.Read(&s->index) && r.Read(&s->term) && r.ReadIds(&s->conf_state.voters) &&
         r.ReadIds(&s->conf_state.learners) && r.rest().empty();
}

}  // namespace cairn::wal
