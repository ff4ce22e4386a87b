// Delta segments: the event stream between full backups, so a restore loses at most one
// delta period (continuous backup), and can stop at any revision or time (point-in-time
// restore). Pinned here: the object names and the byte format.
//
// Naming: "<prefix>delta-<first revision, 20 digits>-<last revision, 20 digits>.rev"
// + the compression suffix (".gz", ".zst", or none), beside the full backups
// (manifest.h), so names sort by revision. A segment holds every revision from the first
// to the last, both included, with no gap; the next segment starts at the last + 1. No
// manifest: ObjectStore::Put is all-or-nothing, so a segment that exists is complete,
// and its own checksum (below) proves it undamaged.
//
// Body (what the compression wraps; integers little-endian):
//   "CAIRNDELTA1\n"                            magic and version
//   i64 first_revision
//   per revision, in order:  u8 1, i64 revision, i64 seen_unix_nanos, u32 event_count,
//                            event_count × (u32 length, mvccpb.Event serialized)
//   end:                     u8 0, i64 last_revision (first_revision - 1 when empty)
//   SHA-256 of every byte above (32 bytes)
// Revisions are etcd's: gapless, one per write transaction, and every event of a
// revision is in its record (a watch delivers whole revisions), so replaying the records
// in order reproduces each key's create/mod revision and version exactly.
// seen_unix_nanos is when the operator received the revision (not the commit time, which
// etcd does not expose): a restore "to a time" stops at the last revision seen by then.
// Events carry kv (with its lease) but not prev_kv, which replay does not need.
//
// The same body, uncompressed and cut at a restore target, is what the server's
// `cairn snapshot restore --replay FILE` applies (server/etcdserver/restore.h).
//
// Errors: the decoder returns kDataLoss for anything that is not this format: a bad
// magic, a truncated body, a revision out of sequence, an end that does not match, a
// checksum mismatch or trailing bytes. DeltaDecoder checks the checksum only at the end,
// so a caller that must not act on a damaged segment reads it whole first.
// Thread-safety: plain values and single-threaded stream objects.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etcd/api/mvccpb/kv.pb.h"
#include "operator/backup/compression.h"
#include "server/common/status.h"

namespace cairn::op::backup {

inline constexpr const char* kDeltaMagic = "CAIRNDELTA1\n";

class DeltaDigest;  // SHA-256 of the body so far (delta_segment.cc)

struct DeltaRevision {
  int64_t revision = 0;
  int64_t seen_unix_nanos = 0;
  std::vector<mvccpb::Event> events;
};

// ---- Names ----
std::string DeltaSegmentName(const std::string& prefix, int64_t first, int64_t last, Compression c);
struct DeltaSegmentKey {
  int64_t first = 0;
  int64_t last = 0;
  Compression compression = Compression::kNone;
};
// nullopt unless `key` is "<prefix>delta-…" as DeltaSegmentName writes it (first <= last).
std::optional<DeltaSegmentKey> ParseDeltaSegmentName(const std::string& prefix, const std::string& key);

// ---- Writing ----
// Streams a body to `out`. Add refuses (InvalidArgument) a revision out of sequence or
// one without events.
class DeltaEncoder {
 public:
  DeltaEncoder(int64_t first_revision, ByteWriter out);
  ~DeltaEncoder();
  DeltaEncoder(const DeltaEncoder&) = delete;
  DeltaEncoder& operator=(const DeltaEncoder&) = delete;

  Status Add(const DeltaRevision& r);
  // Writes the end and the checksum. The encoder is done afterwards.
  Status Finish();
  // The last revision added (first - 1 before any).
  int64_t last_revision() const { return next_ - 1; }

 private:
  Status Emit(const std::string& bytes);
  // The magic and the first revision, once, before whatever is written first.
  std::string TakeHeader();

  std::unique_ptr<DeltaDigest> sha_;
  ByteWriter out_;
  int64_t next_;
  bool header_written_ = false;
};

// A whole body in memory (a segment the shipper is about to upload).
std::string EncodeDeltaBody(int64_t first_revision, const std::vector<DeltaRevision>& revisions);

// ---- Reading ----
class DeltaDecoder {
 public:
  explicit DeltaDecoder(ByteReader in);
  ~DeltaDecoder();
  DeltaDecoder(const DeltaDecoder&) = delete;
  DeltaDecoder& operator=(const DeltaDecoder&) = delete;

  // The first revision, from the header (reads it on first use).
  Result<int64_t> FirstRevision();
  // The next revision, or nullopt at the end once the end record and the checksum are
  // verified (and nothing follows them).
  Result<std::optional<DeltaRevision>> Next();
  // After Next() returned nullopt: the body's last revision.
  int64_t last_revision() const { return last_; }

 private:
  // n bytes into buf, hashed unless it is the checksum itself.
  Status ReadExact(char* buf, size_t n, bool hash);

  std::unique_ptr<DeltaDigest> sha_;
  ByteReader in_;
  std::string buffered_;
  size_t pos_ = 0;
  bool header_read_ = false;
  bool done_ = false;
  int64_t first_ = 0;
  int64_t next_ = 0;
  int64_t last_ = 0;
};

// Decodes a whole body in memory: the revisions, with the checksum verified first (so
// any damage is reported as a checksum failure).
struct DeltaBody {
  int64_t first = 0;
  int64_t last = 0;
  std::vector<DeltaRevision> revisions;
};
Result<DeltaBody> DecodeDeltaBody(const std::string& body);

}  // namespace cairn::op::backup
